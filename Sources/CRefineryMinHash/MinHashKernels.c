// The MinHash signature loop, three ways: portable vector code, AVX2 and AVX-512, the last two compiled with
// `__attribute__((target))` into the same object so that a baseline build picks them at run time (no compiler flags).
// MinHasher+Signature.swift has the measurements; MinHasher's Swift scalar loop is the reference they are tested
// against, bit for bit.
//
// Every kernel computes, per permutation (a = a_high * 2^31 + a_low) and shingle h < 2^32:
//   low  = a_low * h                 (31 x 32 bits, < 2^63)
//   high = a_high * h                (30 x 32 bits, < 2^62)
//   x    = ((high & (2^30 - 1)) << 31) + (high >> 30) + low + b     (< 2^64; high * 2^31 = that mod p, as 2^61 = 1)
//   v    = (x & p) + (x >> 61)       (in [0, p + 5], congruent to a*h + b mod p)
// and keeps the minimum of v over the shingles (values below 2^62, so signed and unsigned comparisons agree). Only the
// order of the work differs: a pass over the shingles handles a block of permutations whose minima stay in registers.

#include "CRefineryMinHash.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define CREFINERY_MINHASH_X86 1
#include <immintrin.h>
#endif

enum {
    /// Values per coefficient group: a_low, a_high, b for 8 permutations.
    GROUP = 24,
    /// The most vectors one pass over the shingles handles (the size of the blocks' buffers).
    MAX_UNITS = 8,
};

/// The loops over the vectors of a block run a constant number of times (the block functions are inlined with a
/// constant V or G): unrolled, their accumulators stay in registers.
#define UNROLL _Pragma("clang loop unroll(full)")

static const uint64_t PRIME = (UINT64_C(1) << 61) - 1;
/// The minimum before any shingle: above every folded value (at most p + 5), below 2^62.
static const uint64_t EMPTY = (UINT64_C(1) << 62) - 1;
static const uint64_t LOW30 = (UINT64_C(1) << 30) - 1;

/// Writes the signature slots `first..<first + n` (those below `permutations`) from a block's minima.
static inline void finish(const uint64_t *minima, size_t n, size_t first, size_t permutations, uint32_t *signature) {
    size_t end = first + n < permutations ? first + n : permutations;
    for (size_t k = first; k < end; k++) {
        uint64_t m = minima[k - first];
        signature[k] = m == EMPTY ? UINT32_MAX : (uint32_t)(m >= PRIME ? m - PRIME : m);
    }
}

/// Runs `BLOCK(n, ...)` over the signature in blocks of `UNITS` units (vectors of `LANES` permutations), the last
/// block smaller, each with a constant `n` so that its loops unroll. `units` is the signature's units, rounded up.
#define FOR_BLOCKS(UNITS, LANES, units, BLOCK)                                                                        \
    for (size_t u = 0; u < (units); u += (UNITS)) {                                                                   \
        size_t n = (units) - u < (UNITS) ? (units) - u : (UNITS);                                                     \
        switch (n) {                                                                                                  \
        case 8: BLOCK(8); break;                                                                                      \
        case 7: BLOCK(7); break;                                                                                      \
        case 6: BLOCK(6); break;                                                                                      \
        case 5: BLOCK(5); break;                                                                                      \
        case 4: BLOCK(4); break;                                                                                      \
        case 3: BLOCK(3); break;                                                                                      \
        case 2: BLOCK(2); break;                                                                                      \
        default: BLOCK(1); break;                                                                                     \
        }                                                                                                             \
        finish(minima, n * (LANES), u * (LANES), permutations, signature);                                           \
    }

/// The coefficients of the four permutations `4u..<4u + 4`: a_low, then a_high at +8, b at +16.
static inline const uint64_t *quarter(const uint64_t *c, size_t u) { return c + (u / 2) * GROUP + (u % 2) * 4; }

// MARK: Portable

/// Four 64-bit lanes; loads and stores go through memcpy, so only 8-byte alignment is assumed.
typedef uint64_t u64x4 __attribute__((vector_size(32)));

/// Four values from `p` (a pointer argument, not a vector return: that would change the ABI without AVX).
static inline __attribute__((always_inline)) void load4(u64x4 *v, const uint64_t *p) { memcpy(v, p, sizeof *v); }

/// Permutations `4u..<4u + 4V` over all shingles, `V` vectors of four.
static inline __attribute__((always_inline)) void portable_block(const uint32_t *shingles, size_t count,
                                                                 const uint64_t *c, size_t u, int V,
                                                                 uint64_t *minima) {
    u64x4 a_low[MAX_UNITS], a_high[MAX_UNITS], b[MAX_UNITS], m[MAX_UNITS];
    // Masking with 2^32 - 1 tells the compiler that the products are 32 x 32 bits (pmuludq on SSE2, umull on NEON).
    const u64x4 low32 = (u64x4){0, 0, 0, 0} + UINT64_C(0xFFFFFFFF);
    UNROLL
    for (int v = 0; v < V; v++) {
        const uint64_t *q = quarter(c, u + v);
        load4(&a_low[v], q);
        load4(&a_high[v], q + 8);
        load4(&b[v], q + 16);
        a_low[v] &= low32;
        a_high[v] &= low32;
        m[v] = (u64x4){0, 0, 0, 0} + EMPTY;
    }
    for (size_t i = 0; i < count; i++) {
        const u64x4 h = (u64x4){0, 0, 0, 0} + (uint64_t)shingles[i];
        UNROLL
        for (int v = 0; v < V; v++) {
            u64x4 low = a_low[v] * h;
            u64x4 high = a_high[v] * h;
            u64x4 x = ((high & LOW30) << 31) + (high >> 30) + low + b[v];
            u64x4 value = (x & PRIME) + (x >> 61);
            // min(m, value) = m + min(value - m, 0), both below 2^62: the sign of the difference is its top bit. SSE2
            // has no 64-bit compare; this is a shift, a negation, an AND and an add.
            u64x4 d = value - m[v];
            m[v] += d & -(d >> 63);
        }
    }
    UNROLL
    for (int v = 0; v < V; v++) memcpy(minima + 4 * v, &m[v], sizeof m[v]);
}

// Vectors per pass over the shingles, one setting per kernel (-D to try others; every setting gives the same
// signatures). With 112 permutations on the 2.5 GHz Xeon of MinHasher+Signature.swift, 1-4 vectors per pass are within
// noise of each other for every kernel; more only spill.
#ifndef PORTABLE_UNITS
#define PORTABLE_UNITS 4
#endif

static void portable_signature(const uint32_t *shingles, size_t count, const uint64_t *c, size_t permutations,
                               uint32_t *signature) {
    uint64_t minima[8 * MAX_UNITS];
#define PORTABLE(V) portable_block(shingles, count, c, u, V, minima)
    FOR_BLOCKS(PORTABLE_UNITS, 4, (permutations + 3) / 4, PORTABLE)
#undef PORTABLE
}

#if CREFINERY_MINHASH_X86

// MARK: AVX2

#define AVX2 __attribute__((target("avx2"), always_inline))

/// Permutations `4u..<4u + 4V` over all shingles, `V` vectors of four; coefficients are read from memory (16
/// registers hold the minima, the constants and the temporaries).
static inline AVX2 void avx2_block(const uint32_t *shingles, size_t count, const uint64_t *c, size_t u, int V,
                                   uint64_t *minima) {
    __m256i m[MAX_UNITS];
    const __m256i prime = _mm256_set1_epi64x((long long)PRIME);
    const __m256i low30 = _mm256_set1_epi64x((long long)LOW30);
    UNROLL
    for (int v = 0; v < V; v++) m[v] = _mm256_set1_epi64x((long long)EMPTY);
    for (size_t i = 0; i < count; i++) {
        // vpmuludq reads the low 32 bits of each lane: broadcasting h to every 32-bit slot is enough.
        const __m256i h = _mm256_set1_epi32((int)shingles[i]);
        UNROLL
        for (int v = 0; v < V; v++) {
            const uint64_t *q = quarter(c, u + v);
            __m256i low = _mm256_mul_epu32(_mm256_loadu_si256((const __m256i *)q), h);
            __m256i high = _mm256_mul_epu32(_mm256_loadu_si256((const __m256i *)(q + 8)), h);
            __m256i x = _mm256_add_epi64(_mm256_slli_epi64(_mm256_and_si256(high, low30), 31),
                                         _mm256_srli_epi64(high, 30));
            x = _mm256_add_epi64(_mm256_add_epi64(x, low), _mm256_loadu_si256((const __m256i *)(q + 16)));
            __m256i value = _mm256_add_epi64(_mm256_and_si256(x, prime), _mm256_srli_epi64(x, 61));
            // Signed compare is exact below 2^62.
            m[v] = _mm256_blendv_epi8(m[v], value, _mm256_cmpgt_epi64(m[v], value));
        }
    }
    UNROLL
    for (int v = 0; v < V; v++) _mm256_storeu_si256((__m256i *)(minima + 4 * v), m[v]);
}

#ifndef AVX2_UNITS
#define AVX2_UNITS 4
#endif

__attribute__((target("avx2"))) static void avx2_signature(const uint32_t *shingles, size_t count,
                                                            const uint64_t *c, size_t permutations,
                                                            uint32_t *signature) {
    uint64_t minima[8 * MAX_UNITS];
#define AVX2_BLOCK(V) avx2_block(shingles, count, c, u, V, minima)
    FOR_BLOCKS(AVX2_UNITS, 4, (permutations + 3) / 4, AVX2_BLOCK)
#undef AVX2_BLOCK
}

// MARK: AVX-512

#define AVX512 __attribute__((target("avx512f"), always_inline))

/// Permutations `8g..<8g + 8G` (groups `g..<g + G`) over all shingles, coefficients and minima in registers.
static inline AVX512 void avx512_block(const uint32_t *shingles, size_t count, const uint64_t *c, size_t g, int G,
                                       uint64_t *minima) {
    __m512i a_low[MAX_UNITS], a_high[MAX_UNITS], b[MAX_UNITS], m[MAX_UNITS];
    const __m512i prime = _mm512_set1_epi64((long long)PRIME);
    const __m512i low30 = _mm512_set1_epi64((long long)LOW30);
    UNROLL
    for (int j = 0; j < G; j++) {
        const uint64_t *group = c + (g + j) * GROUP;
        a_low[j] = _mm512_loadu_si512(group);
        a_high[j] = _mm512_loadu_si512(group + 8);
        b[j] = _mm512_loadu_si512(group + 16);
        m[j] = _mm512_set1_epi64((long long)EMPTY);
    }
    for (size_t i = 0; i < count; i++) {
        const __m512i h = _mm512_set1_epi32((int)shingles[i]);
        UNROLL
        for (int j = 0; j < G; j++) {
            __m512i low = _mm512_mul_epu32(a_low[j], h);
            __m512i high = _mm512_mul_epu32(a_high[j], h);
            __m512i x = _mm512_add_epi64(_mm512_slli_epi64(_mm512_and_si512(high, low30), 31),
                                         _mm512_srli_epi64(high, 30));
            x = _mm512_add_epi64(_mm512_add_epi64(x, low), b[j]);
            __m512i value = _mm512_add_epi64(_mm512_and_si512(x, prime), _mm512_srli_epi64(x, 61));
            m[j] = _mm512_min_epu64(m[j], value);
        }
    }
    UNROLL
    for (int j = 0; j < G; j++) _mm512_storeu_si512(minima + 8 * j, m[j]);
}

#ifndef AVX512_UNITS
#define AVX512_UNITS 4
#endif

__attribute__((target("avx512f"))) static void avx512_signature(const uint32_t *shingles, size_t count,
                                                                 const uint64_t *c, size_t permutations,
                                                                 uint32_t *signature) {
    uint64_t minima[8 * MAX_UNITS];
#define AVX512_BLOCK(G) avx512_block(shingles, count, c, u, G, minima)
    FOR_BLOCKS(AVX512_UNITS, 8, (permutations + 7) / 8, AVX512_BLOCK)
#undef AVX512_BLOCK
}

#endif

// MARK: Dispatch

int crefinery_minhash_kernel_supported(crefinery_minhash_kernel kernel) {
    switch (kernel) {
    case CREFINERY_MINHASH_PORTABLE: return 1;
#if CREFINERY_MINHASH_X86
    // __builtin_cpu_supports also checks that the operating system saves the wide registers (XCR0).
    case CREFINERY_MINHASH_AVX2: __builtin_cpu_init(); return __builtin_cpu_supports("avx2") ? 1 : 0;
    case CREFINERY_MINHASH_AVX512: __builtin_cpu_init(); return __builtin_cpu_supports("avx512f") ? 1 : 0;
#endif
    default: return 0;
    }
}

void crefinery_minhash_signature(crefinery_minhash_kernel kernel, const uint32_t *shingles, size_t count,
                                 const uint64_t *coefficients, size_t permutations, uint32_t *signature) {
    switch (kernel) {
#if CREFINERY_MINHASH_X86
    case CREFINERY_MINHASH_AVX512:
        avx512_signature(shingles, count, coefficients, permutations, signature);
        return;
    case CREFINERY_MINHASH_AVX2:
        avx2_signature(shingles, count, coefficients, permutations, signature);
        return;
#endif
    default:
        portable_signature(shingles, count, coefficients, permutations, signature);
        return;
    }
}
