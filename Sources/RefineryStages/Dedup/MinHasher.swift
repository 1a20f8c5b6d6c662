import Foundation
import RefineryCodecs

/// MinHash signatures and their LSH band hashes, from a fixed, seeded family of permutations.
///
/// Permutation `k` maps a 32-bit shingle hash `h` to `(a_k·h + b_k) mod (2⁶¹ − 1)`, with `a_k` in `[1, p)` and
/// `b_k` in `[0, p)` drawn from SplitMix64 seeded with ``seed``; a signature holds, for every permutation, the low
/// 32 bits of the minimum over the record's shingles (the minimum itself is taken over the full 61-bit values).
///
/// Shingle hashes must look random, as the hashes of ``DedupText`` do: a linear family is not min-wise independent
/// on structured keys (on `i·c mod 2³²` its estimates are off by 0.17 at Jaccard 0.5). The loop over permutations is
/// vectorised in C (CRefineryMinHash: AVX-512, AVX2 or portable vectors, chosen once per process from the CPU);
/// MinHasher+Signature.swift has the kernels and their speeds.
///
/// Why `UInt32` slots: two different minima agree in their low 32 bits with probability 2⁻³², which adds nothing
/// measurable to the estimator's own error (±0.04 at Jaccard 0.8 over 112 slots), while a signature is half the
/// size (448 instead of 896 bytes at 14 × 8) to carry from the workers to the index thread, or to keep for
/// verification.
///
/// ## The threshold of 14 bands × 8 rows
/// Two records with Jaccard similarity `s` share at least one band, and so become candidates, with probability
/// `1 − (1 − s^r)^b` (an S-curve). For `b = 14`, `r = 8` (112 permutations):
///
/// | Jaccard `s` | 0.9 | 0.85 | 0.8 | 0.75 | 0.7 | 0.6 | 0.5 | 0.3 |
/// |---|---|---|---|---|---|---|---|---|
/// | P(candidate) | 0.9996 | 0.988 | 0.924 | 0.772 | 0.565 | 0.211 | 0.053 | 0.0009 |
///
/// The curve's midpoint is usually quoted as `(1/b)^(1/r)` = (1/14)^(1/8) ≈ **0.72**; the exact 50 % point,
/// `(1 − 0.5^(1/b))^(1/r)`, is ≈ 0.685. So 14 × 8 is a threshold of about 0.7: it catches 92 % of pairs at
/// exactly 0.8 and nearly all above 0.85 (union-find then joins chains of such pairs), while 5 % of pairs at 0.5
/// become candidates, which verification against a Jaccard threshold (default 0.8) removes.
/// ``candidateProbability(jaccard:)`` and ``threshold`` give these numbers for other shapes.
public struct MinHasher: Sendable {
    /// LSH bands.
    public let bands: Int
    /// Signature slots per band.
    public let rows: Int
    /// The seed of the permutations; records hashed with different seeds cannot be compared.
    public let seed: UInt64
    /// The coefficients, in groups of eight permutations: `a` split into its low 31 bits (eight values) and its high
    /// 30 bits (eight values), then `b` (eight values), so that every product is 32 × 32 bits (one `pmuludq` per two
    /// lanes on x86-64's SSE2, eight lanes per `vpmuludq` with AVX-512). The last group is padded. This is the layout
    /// CRefineryMinHash reads.
    let coefficientGroups: ContiguousArray<UInt64>

    /// Values per group of ``coefficientGroups``.
    static let groupStride = 24

    /// The Mersenne prime 2⁶¹ − 1.
    public static let prime: UInt64 = (1 << 61) - 1

    /// Creates the permutations.
    /// - Parameters:
    ///   - bands: LSH bands, at least 1 (default 14).
    ///   - rows: slots per band, at least 1 (default 8).
    ///   - seed: the permutations' seed; the same seed gives the same signatures on every machine.
    public init(bands: Int = 14, rows: Int = 8, seed: UInt64) {
        precondition(bands >= 1 && rows >= 1, "bands and rows must be at least 1")
        self.bands = bands
        self.rows = rows
        self.seed = seed
        var random = SplitMix64(seed: seed)
        let groups = (bands * rows + 7) / 8
        var coefficients = ContiguousArray<UInt64>(repeating: 0, count: groups * Self.groupStride)
        for group in 0..<groups {
            let base = group * Self.groupStride
            for lane in 0..<8 {
                // Rejection sampling keeps a and b uniform (2⁶¹ − 1 is not a power of two).
                var a: UInt64 = 0
                while a == 0 || a >= Self.prime { a = random.next() >> 3 }
                var b = Self.prime
                while b >= Self.prime { b = random.next() >> 3 }
                coefficients[base + lane] = a & ((1 << 31) - 1)
                coefficients[base + 8 + lane] = a >> 31
                coefficients[base + 16 + lane] = b
            }
        }
        self.coefficientGroups = coefficients
    }

    /// Permutations with given coefficients instead of seeded ones, for tests of edge values (`a` near p, `b` that
    /// sends a shingle to residue 0). The seed is 0; padding lanes get `a = 1, b = 0`.
    /// - Precondition: `permutations.count == bands × rows`, every `a` in `[1, p)` and `b` in `[0, p)`.
    init(bands: Int, rows: Int, permutations: [(a: UInt64, b: UInt64)]) {
        precondition(bands >= 1 && rows >= 1 && permutations.count == bands * rows, "bands × rows permutations")
        self.bands = bands
        self.rows = rows
        self.seed = 0
        let groups = (permutations.count + 7) / 8
        var coefficients = ContiguousArray<UInt64>(repeating: 0, count: groups * Self.groupStride)
        for k in 0..<(groups * 8) {
            let (a, b) = k < permutations.count ? permutations[k] : (1, 0)
            precondition(a >= 1 && a < Self.prime && b < Self.prime, "coefficients out of range")
            let base = k / 8 * Self.groupStride + k % 8
            coefficients[base] = a & ((1 << 31) - 1)
            coefficients[base + 8] = a >> 31
            coefficients[base + 16] = b
        }
        self.coefficientGroups = coefficients
    }

    /// Signature slots: `bands × rows`.
    public var permutations: Int { bands * rows }

    /// Permutation `k`'s coefficients `(a, b)`.
    public func coefficients(_ k: Int) -> (a: UInt64, b: UInt64) {
        let base = k / 8 * Self.groupStride + k % 8
        return (coefficientGroups[base + 8] << 31 | coefficientGroups[base], coefficientGroups[base + 16])
    }

    // MARK: Signatures

    /// The signature of a set of shingle hashes: for each permutation, the low 32 bits of the minimum of
    /// `(a·h + b) mod (2⁶¹ − 1)` over the shingles. No shingles give all slots `UInt32.max`.
    /// - Complexity: O(shingles × permutations).
    public func signature(of shingles: [UInt32]) -> [UInt32] {
        var result: [UInt32] = []
        shingles.withUnsafeBufferPointer { self.signature(of: $0, into: &result) }
        return result
    }

    /// ``signature(of:)`` into a caller's buffer, resized to ``permutations``, for loops that reuse it.
    /// - Complexity: O(shingles × permutations); see MinHasher+Signature.swift for the speed of each kernel.
    public func signature(of shingles: UnsafeBufferPointer<UInt32>, into signature: inout [UInt32]) {
        self.signature(of: shingles, into: &signature, kernel: Self.defaultKernel)
    }

    /// Band hashes of a signature: for each band, XXH3-64 of its rows' bytes, seeded with the band index and
    /// ``seed``, so equal rows in different bands give different hashes. Two signatures share a band hash
    /// when (up to 2⁻⁶⁴) they agree on every row of that band.
    public func bandHashes(_ signature: [UInt32]) -> [UInt64] {
        var hashes: [UInt64] = []
        bandHashes(signature, into: &hashes)
        return hashes
    }

    /// ``bandHashes(_:)`` into a caller's buffer, resized to ``bands``.
    public func bandHashes(_ signature: [UInt32], into hashes: inout [UInt64]) {
        precondition(signature.count == permutations,
                     "a signature of \(signature.count) slots for \(permutations) permutations")
        hashes.removeAll(keepingCapacity: true)
        hashes.reserveCapacity(bands)
        signature.withUnsafeBytes { bytes in
            let width = rows * MemoryLayout<UInt32>.stride
            for band in 0..<bands {
                let rows = UnsafeRawBufferPointer(rebasing: bytes[(band * width)..<((band + 1) * width)])
                hashes.append(XXH3.hash(rows, seed: seed ^ (UInt64(band) &+ 1) &* 0x9E37_79B9_7F4A_7C15))
            }
        }
    }

    /// The share of slots on which two signatures agree: an unbiased estimate of the Jaccard similarity of the two
    /// shingle sets, with standard deviation `√(J(1 − J)/permutations)` (0.038 at J = 0.8 with 112 slots).
    /// - Returns: a value in [0, 1]; 0 for empty signatures.
    public static func estimatedJaccard(_ a: [UInt32], _ b: [UInt32]) -> Double {
        precondition(a.count == b.count, "signatures of different lengths (\(a.count) and \(b.count))")
        guard !a.isEmpty else { return 0 }
        var equal = 0
        for i in 0..<a.count where a[i] == b[i] { equal += 1 }
        return Double(equal) / Double(a.count)
    }

    /// The probability that two records of Jaccard similarity `s` share a band: `1 − (1 − s^rows)^bands`.
    public func candidateProbability(jaccard s: Double) -> Double {
        1 - pow(1 - pow(s, Double(rows)), Double(bands))
    }

    /// The Jaccard similarity at which the candidate curve is usually said to turn, `(1/bands)^(1/rows)`
    /// (≈ 0.72 for 14 × 8; the exact 50 % point is a little lower, ≈ 0.685).
    public var threshold: Double { pow(1 / Double(bands), 1 / Double(rows)) }
}
