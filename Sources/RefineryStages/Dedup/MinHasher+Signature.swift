import CRefineryMinHash
import Foundation

// The signature loop: for every permutation, the minimum over the record's shingles of `a·h + b mod (2⁶¹ − 1)`.
//
// The kernels are C (Sources/CRefineryMinHash): Swift cannot build one function for AVX-512 and another for baseline
// x86-64 in the same binary, C can (`__attribute__((target))`), so the default build picks the fastest kernel the CPU
// has, once per process (``MinHasher/defaultKernel``; `REFINERY_MINHASH_KERNEL` forces another). Every kernel computes
// exactly the value of ``MinHasher/permute(_:aLow:aHigh:b:)`` below and keeps its minimum: the tests hold each kernel
// the machine can run to this Swift reference, bit for bit.
//
// Measured with tools/bench/DedupBench (`taskset -c 1 dedup-bench --rounds 5`, tools/bench/README.md) on 48 MB of
// gen_corpus.py's text-200mb JSONL (13,203 records, 4.97 bytes of text per shingle), on one core of a 2.5 GHz Xeon
// (AVX-512 F/DQ/BW/VL), Swift 6.3.1 `-c release`, default (baseline x86-64) build; MB/s of text per CPU-second, best of
// 3 × 5 rounds run alternately with the previous build on a busy machine:
//
// | kernel                                                  | MB/s |
// |---------------------------------------------------------|-----:|
// | scalar: the Swift reference, 4 permutations per pass    |   19 |
// | portable: C vectors of 4 × 64 bits (SSE2 here)          |   37 |
// | avx2: 4 lanes per ymm, compare and blend                |   87 |
// | avx512: 8 lanes per zmm, `vpminuq`                      | **146** |
// | before: Swift `SIMD4<UInt64>` (SSE2), the old default   |   33 (37 on a quieter run) |
// | before: Swift `SIMD8<UInt64>` (SSE2)                    |   23 |
//
// 146 MB/s is near this permutation family's ceiling on AVX-512: 12 vector instructions per eight permutations and
// shingle (two `vpmuludq`, and + two shifts for `high·2³¹ mod p`, three adds, and + shift + add for the fold, one
// minimum), all on ports 0 and 5, so 6 cycles × 14 groups = 84 cycles a shingle at 112 permutations: 30 M shingles/s
// at 2.5 GHz, 149 MB/s. The portable kernel replaces the Swift SIMD kernels at the same speed (it is what CPUs without
// AVX2 and arm64 run); AVX2 lacks a 64-bit minimum (compare + blend) and has half the lanes.
//
// The worker's whole job from a built TextView (`fingerprint`: normalise, hash the words, shingle, sign) now runs at
// 60 MB/s (24–29 before), and `DedupStage.keys(of:view:)` with band hashes and sketch at 60–62 MB/s (28 before): the
// signature is about 40 % of it, normalisation with word hashes (`shingles`: 132 MB/s) the rest.

extension MinHasher {
    /// The implementations of the signature loop; every one gives the same signature, bit for bit.
    @_spi(Benchmarks)
    public enum SignatureKernel: String, Sendable, CaseIterable {
        /// The Swift reference: four permutations per pass over the shingles, in 64-bit registers. Slow; for tests.
        case scalar
        /// CRefineryMinHash's portable vector code (SSE2 on baseline x86-64, NEON on arm64); runs everywhere.
        case portable
        /// CRefineryMinHash's AVX2 code: four permutations per 256-bit register.
        case avx2
        /// CRefineryMinHash's AVX-512 code: eight permutations per 512-bit register.
        case avx512

        /// Whether this CPU can run the kernel.
        public var isAvailable: Bool {
            guard let kernel = cKernel else { return true }
            return crefinery_minhash_kernel_supported(kernel) != 0
        }

        /// The kernels this CPU can run, slowest first.
        public static var available: [SignatureKernel] { allCases.filter(\.isAvailable) }

        var cKernel: crefinery_minhash_kernel? {
            switch self {
            case .scalar: nil
            case .portable: CREFINERY_MINHASH_PORTABLE
            case .avx2: CREFINERY_MINHASH_AVX2
            case .avx512: CREFINERY_MINHASH_AVX512
            }
        }
    }

    /// The environment variable that chooses a kernel (`scalar`, `portable`, `avx2`, `avx512`) instead of the fastest
    /// one, e.g. to run the tests or a pipeline on the code an older CPU would use. A kernel this CPU cannot run is
    /// replaced by the fastest one it can, so the variable can only slow a process down, never crash it.
    @_spi(Benchmarks)
    public static let kernelEnvironmentVariable = "REFINERY_MINHASH_KERNEL"

    /// The kernel of ``signature(of:into:)``: the fastest this CPU has, unless ``kernelEnvironmentVariable`` names
    /// another that it can run. Chosen once per process.
    @_spi(Benchmarks)
    public static let defaultKernel: SignatureKernel = {
        let fastest = SignatureKernel.available.last ?? .portable
        guard let name = ProcessInfo.processInfo.environment[kernelEnvironmentVariable],
              let chosen = SignatureKernel(rawValue: name.lowercased()), chosen.isAvailable
        else { return fastest }
        return chosen
    }()

    /// ``signature(of:into:)`` with a chosen kernel; every kernel gives the same signature.
    /// - Precondition: `kernel.isAvailable` (a kernel the CPU lacks would stop the process with an illegal
    ///   instruction).
    @_spi(Benchmarks)
    public func signature(of shingles: UnsafeBufferPointer<UInt32>, into signature: inout [UInt32],
                          kernel: SignatureKernel) {
        let count = permutations
        if signature.count != count { signature = [UInt32](repeating: 0, count: count) }
        coefficientGroups.withUnsafeBufferPointer { coefficients in
            signature.withUnsafeMutableBufferPointer { signature in
                guard let cKernel = kernel.cKernel else {
                    Self.scalarKernel(shingles, coefficients, signature)
                    return
                }
                precondition(kernel.isAvailable, "the \(kernel) MinHash kernel needs a CPU feature this one lacks")
                crefinery_minhash_signature(cKernel, shingles.baseAddress, shingles.count, coefficients.baseAddress,
                                            count, signature.baseAddress)
            }
        }
    }

    /// The minimum before any shingle: above every permuted value (at most p + 5), below 2⁶².
    static let empty: UInt64 = (1 << 62) - 1

    // MARK: Reference

    /// `a·h + b` for `a = aHigh·2³¹ + aLow` (30 and 31 bits) and a shingle hash `h < 2³²`, reduced lazily mod p to
    /// [0, p + 5].
    ///
    /// Both products are 32 × 32 bits: `low = aLow·h < 2⁶³`, and `high = aHigh·h = q·2³⁰ + r` gives
    /// `high·2³¹ = r·2³¹ + q·2⁶¹ ≡ r·2³¹ + q` (2⁶¹ ≡ 1). The sum `r·2³¹ + q + low + b` stays below 2⁶⁴, and one fold,
    /// `(x & p) + (x >> 61)`, brings it into [0, p + 5] in the residue class of `a·h + b`. As `h` → residue is
    /// one-to-one, so is `h` → this value; it orders shingles exactly as the canonical residue does except that
    /// residues 0–5 may sort last (6 values in 2⁶¹), and the stored minimum is made canonical. The C kernels compute
    /// exactly this value, so that they agree with this one bit for bit.
    @inline(__always)
    static func permute(_ h: UInt64, aLow: UInt64, aHigh: UInt64, b: UInt64) -> UInt64 {
        let low = aLow &* h
        let high = aHigh &* h
        let x = ((high & ((1 << 30) - 1)) << 31) &+ (high >> 30) &+ low &+ b
        return (x & prime) &+ (x >> 61)
    }

    /// The reference kernel, four permutations per pass over the shingles.
    static func scalarKernel(_ shingles: UnsafeBufferPointer<UInt32>, _ coefficients: UnsafeBufferPointer<UInt64>,
                             _ signature: UnsafeMutableBufferPointer<UInt32>) {
        for k in stride(from: 0, to: signature.count, by: 4) {
            // Lanes past the signature's end are computed from the padding and dropped.
            let base = k / 8 * groupStride + k % 8
            let l0 = coefficients[base], h0 = coefficients[base + 8], b0 = coefficients[base + 16]
            let l1 = coefficients[base + 1], h1 = coefficients[base + 9], b1 = coefficients[base + 17]
            let l2 = coefficients[base + 2], h2 = coefficients[base + 10], b2 = coefficients[base + 18]
            let l3 = coefficients[base + 3], h3 = coefficients[base + 11], b3 = coefficients[base + 19]
            var m0 = empty, m1 = empty, m2 = empty, m3 = empty
            for shingle in shingles {
                let h = UInt64(shingle)
                m0 = min(m0, permute(h, aLow: l0, aHigh: h0, b: b0))
                m1 = min(m1, permute(h, aLow: l1, aHigh: h1, b: b1))
                m2 = min(m2, permute(h, aLow: l2, aHigh: h2, b: b2))
                m3 = min(m3, permute(h, aLow: l3, aHigh: h3, b: b3))
            }
            store(m0, at: k, in: signature)
            store(m1, at: k + 1, in: signature)
            store(m2, at: k + 2, in: signature)
            store(m3, at: k + 3, in: signature)
        }
    }

    /// Stores the low 32 bits of the canonical residue of a minimum (`UInt32.max` for no shingles) in a slot of the
    /// signature, if it has that slot.
    @inline(__always)
    static func store(_ m: UInt64, at k: Int, in signature: UnsafeMutableBufferPointer<UInt32>) {
        guard k < signature.count else { return }
        signature[k] = m == empty ? .max : UInt32(truncatingIfNeeded: m >= prime ? m - prime : m)
    }
}
