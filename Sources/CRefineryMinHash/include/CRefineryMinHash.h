// The MinHash signature loop in C, so that one binary built for baseline x86-64 can use AVX2 or AVX-512 where the CPU
// has them (Swift has no per-function target attributes). MinHasher+Signature.swift wraps it; nothing else should.
#ifndef CREFINERY_MINHASH_H
#define CREFINERY_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An implementation of the signature loop. Every kernel gives the same signature for the same input, bit for bit.
typedef enum {
    /// Four lanes of 64-bit vector arithmetic in the compiler's baseline instruction set (SSE2 on x86-64, NEON on
    /// arm64); runs everywhere.
    CREFINERY_MINHASH_PORTABLE = 0,
    /// Four lanes per 256-bit register (x86-64 with AVX2).
    CREFINERY_MINHASH_AVX2 = 1,
    /// Eight lanes per 512-bit register, unsigned 64-bit minimum in one instruction (x86-64 with AVX-512 F).
    CREFINERY_MINHASH_AVX512 = 2,
} crefinery_minhash_kernel;

/// Whether `kernel` can run on this CPU (and operating system): 1 or 0. The portable kernel always can.
int crefinery_minhash_kernel_supported(crefinery_minhash_kernel kernel);

/// The signature of `count` shingle hashes under `permutations` permutations: for permutation `k`, the low 32 bits of
/// the minimum over the shingles `h` of `(a_k * h + b_k) mod (2^61 - 1)`; `UINT32_MAX` in every slot when `count` is 0.
///
/// `coefficients` holds `ceil(permutations / 8)` groups of 24 values: `a_k` split into its low 31 bits (8 values),
/// its high 30 bits (8 values), then `b_k < 2^61 - 1` (8 values); lanes past `permutations` in the last group are
/// computed and ignored. The minimum is taken over `a_low*h + ((a_high*h) mod 2^30) * 2^31 + (a_high*h) / 2^30 + b`
/// folded once to `[0, p + 5]`, then made canonical, exactly as `MinHasher`'s Swift reference does.
///
/// `kernel` must be supported (see `crefinery_minhash_kernel_supported`); an unsupported one would stop the process
/// with an illegal instruction. `signature` receives `permutations` values.
void crefinery_minhash_signature(crefinery_minhash_kernel kernel, const uint32_t *shingles, size_t count,
                                 const uint64_t *coefficients, size_t permutations, uint32_t *signature);

#ifdef __cplusplus
}
#endif

#endif
