// The signature loop: for every permutation, the minimum over the record's shingles of `a·h + b mod (2⁶¹ − 1)`.
//
// Kernels, measured with tools/bench/DedupBench (`dedup-bench --rounds 40 --only sig.scalar,sig.simd4,sig.simd8`)
// on 2 MB of tools/bench/gen_corpus.py documents (5.25 bytes of text per shingle), on one core of a 2.5 GHz Xeon with
// AVX-512, Swift 6.3.1 `-c release`; MB/s of text per CPU-second, best of 40 rounds:
//
// | kernel                                   | default build (SSE2) | `-target-cpu haswell` | `-target-cpu skylake-avx512` |
// |------------------------------------------|-----:|-----:|------:|
// | scalar, 4 permutations per pass          |   20 |   50 |    59 |
// | SIMD4<UInt64>, branch-free minimum       | **40** | 67 |    83 |
// | SIMD8<UInt64>, compare-and-select        |   27 |   80 | **142** |
//
// The default build targets baseline x86-64, where SIMD vectors lower to SSE2: two 64-bit lanes per register, a
// 32 × 32 → 64-bit multiply (`pmuludq`) but no 64-bit multiply, compare or minimum. SIMD4 is the fastest there (2×
// scalar; SIMD8 runs out of the 16 registers) and is what ``MinHasher/signature(of:into:)`` uses. Its inner loop is
// about 22 instructions per two lanes at ~3.5 a cycle, and variants (two SIMD4 or four SIMD2 accumulators, two
// shingles per pass) all measure 40–41 MB/s: ~40 MB/s is this permutation family's ceiling on SSE2, short of 100.
// SIMD8 pays off when the compiler may use AVX-512 (`vpmuludq` and `vpminsq` on eight lanes): 142 MB/s. It is kept
// for such builds and for the benchmark.
//
// From a TextView, the worker's whole job (DedupText.fingerprint: normalise, hash the words, shingle, sign) runs at
// 32 MB/s in the default build on the same input, the signature being 4/5 of it; the exact hash alone at 250 MB/s and
// normalisation with shingles at 165 MB/s.

extension MinHasher {
    /// The implementations of the signature loop, for the benchmark and for the test that they agree.
    @_spi(Benchmarks)
    public enum SignatureKernel: String, Sendable, CaseIterable {
        /// Four permutations per pass over the shingles, in 64-bit registers.
        case scalar
        /// Four permutations per `SIMD4<UInt64>`, branch-free minimum (the default).
        case simd4
        /// Eight permutations per `SIMD8<UInt64>`, compare-and-select minimum (fastest with AVX-512).
        case simd8
    }

    /// ``signature(of:into:)`` with a chosen kernel; every kernel gives the same signature.
    @_spi(Benchmarks)
    public func signature(of shingles: UnsafeBufferPointer<UInt32>, into signature: inout [UInt32],
                          kernel: SignatureKernel) {
        let count = permutations
        if signature.count != count { signature = [UInt32](repeating: 0, count: count) }
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: lanes.count * 8) { minima in
            lanes.withUnsafeBufferPointer { lanes in
                switch kernel {
                case .scalar: Self.scalarKernel(shingles, lanes, minima)
                case .simd4: Self.simd4Kernel(shingles, lanes, minima)
                case .simd8: Self.simd8Kernel(shingles, lanes, minima)
                }
            }
            signature.withUnsafeMutableBufferPointer { signature in
                for k in 0..<count {
                    // The low 32 bits of the canonical residue; UInt32.max for no shingles.
                    let m = minima[k]
                    signature[k] = m == Self.empty ? .max : UInt32(truncatingIfNeeded: m >= Self.prime ? m - Self.prime : m)
                }
            }
        }
    }

    /// The minimum before any shingle: above every permuted value (at most p + 5), below 2⁶² for the branch-free
    /// minimum.
    static let empty: UInt64 = (1 << 62) - 1

    // MARK: Scalar

    /// `a·h + b`, reduced lazily mod p to [0, p + 5]; see ``permute(_:_:_:_:)``.
    @inline(__always)
    static func permute(_ h: UInt64, aLow: UInt64, aHigh: UInt64, b: UInt64) -> UInt64 {
        let low = aLow &* h
        let high = aHigh &* h
        let x = ((high & ((1 << 30) - 1)) << 31) &+ (high >> 30) &+ low &+ b
        return (x & prime) &+ (x >> 61)
    }

    static func scalarKernel(_ shingles: UnsafeBufferPointer<UInt32>, _ lanes: UnsafeBufferPointer<Lanes>,
                             _ minima: UnsafeMutableBufferPointer<UInt64>) {
        for k in stride(from: 0, to: lanes.count * 8, by: 4) {
            let group = lanes[k / 8]
            let j = k % 8
            let l0 = group.aLow[j], h0 = group.aHigh[j], b0 = group.b[j]
            let l1 = group.aLow[j + 1], h1 = group.aHigh[j + 1], b1 = group.b[j + 1]
            let l2 = group.aLow[j + 2], h2 = group.aHigh[j + 2], b2 = group.b[j + 2]
            let l3 = group.aLow[j + 3], h3 = group.aHigh[j + 3], b3 = group.b[j + 3]
            var m0 = empty, m1 = empty, m2 = empty, m3 = empty
            for shingle in shingles {
                let h = UInt64(shingle)
                m0 = min(m0, permute(h, aLow: l0, aHigh: h0, b: b0))
                m1 = min(m1, permute(h, aLow: l1, aHigh: h1, b: b1))
                m2 = min(m2, permute(h, aLow: l2, aHigh: h2, b: b2))
                m3 = min(m3, permute(h, aLow: l3, aHigh: h3, b: b3))
            }
            minima[k] = m0
            minima[k + 1] = m1
            minima[k + 2] = m2
            minima[k + 3] = m3
        }
    }

    // MARK: SIMD

    /// Four permutations of one shingle hash `h` (< 2³², in every lane): `a·h + b`, reduced lazily mod p to
    /// [0, p + 5].
    ///
    /// With `a = aHigh·2³¹ + aLow` (30 and 31 bits) both products are 32 × 32 bits, one `pmuludq` per two lanes:
    /// `low = aLow·h < 2⁶³`, and `high = aHigh·h = q·2³⁰ + r` gives `high·2³¹ = r·2³¹ + q·2⁶¹ ≡ r·2³¹ + q`
    /// (2⁶¹ ≡ 1). The sum `r·2³¹ + q + low + b` stays below 2⁶⁴, and one fold, `(x & p) + (x >> 61)`, brings it into
    /// [0, p + 5] in the residue class of `a·h + b`. As `h` → residue is one-to-one, so is `h` → this value; it orders
    /// shingles exactly as the canonical residue does except that residues 0–5 may sort last (6 values in 2⁶¹), and
    /// the stored minimum is made canonical.
    @inline(__always)
    static func permute(_ h: SIMD4<UInt64>, _ aLow: SIMD4<UInt64>, _ aHigh: SIMD4<UInt64>, _ b: SIMD4<UInt64>)
        -> SIMD4<UInt64>
    {
        let low = aLow &* h
        let high = aHigh &* h
        let x = ((high & SIMD4(repeating: (1 << 30) - 1)) &<< 31) &+ (high &>> 30) &+ low &+ b
        return (x & SIMD4(repeating: prime)) &+ (x &>> 61)
    }

    static func simd4Kernel(_ shingles: UnsafeBufferPointer<UInt32>, _ lanes: UnsafeBufferPointer<Lanes>,
                            _ minima: UnsafeMutableBufferPointer<UInt64>) {
        // Masking with 2³² − 1 tells the compiler that the products are 32 × 32 bits (`pmuludq`); it is hoisted.
        let low32 = SIMD4<UInt64>(repeating: 0xFFFF_FFFF)
        for g in 0..<lanes.count {
            let group = lanes[g]
            for half in 0..<2 {
                let aLow = (half == 0 ? group.aLow.lowHalf : group.aLow.highHalf) & low32
                let aHigh = (half == 0 ? group.aHigh.lowHalf : group.aHigh.highHalf) & low32
                let b = half == 0 ? group.b.lowHalf : group.b.highHalf
                var m = SIMD4<UInt64>(repeating: empty)
                for shingle in shingles {
                    let v = permute(SIMD4(repeating: UInt64(shingle)), aLow, aHigh, b)
                    // min(m, v) = m + min(v − m, 0), both below 2⁶²: the sign of v − m is its top bit. SSE2 has no
                    // 64-bit compare; this compiles to a 32-bit compare of the high halves, an AND and an add.
                    let d = v &- m
                    m &+= d & (SIMD4<UInt64>.zero &- (d &>> 63))
                }
                for j in 0..<4 { minima[g * 8 + half * 4 + j] = m[j] }
            }
        }
    }

    /// Eight permutations of one shingle hash; see ``permute(_:_:_:_:)``.
    @inline(__always)
    static func permute(_ h: SIMD8<UInt64>, _ lanes: Lanes) -> SIMD8<UInt64> {
        let low32 = SIMD8<UInt64>(repeating: 0xFFFF_FFFF)
        let low = (lanes.aLow & low32) &* h
        let high = (lanes.aHigh & low32) &* h
        let x = ((high & SIMD8(repeating: (1 << 30) - 1)) &<< 31) &+ (high &>> 30) &+ low &+ lanes.b
        return (x & SIMD8(repeating: prime)) &+ (x &>> 61)
    }

    static func simd8Kernel(_ shingles: UnsafeBufferPointer<UInt32>, _ lanes: UnsafeBufferPointer<Lanes>,
                            _ minima: UnsafeMutableBufferPointer<UInt64>) {
        for g in 0..<lanes.count {
            let group = lanes[g]
            // Signed lanes (every value is below 2⁶²) so that AVX-512 compares with one `vpcmpq`/`vpminsq`.
            var m = SIMD8<Int64>(repeating: Int64(empty))
            for shingle in shingles {
                let v = SIMD8<Int64>(truncatingIfNeeded: permute(SIMD8(repeating: UInt64(shingle)), group))
                m.replace(with: v, where: v .< m)
            }
            for j in 0..<8 { minima[g * 8 + j] = UInt64(m[j]) }
        }
    }
}
