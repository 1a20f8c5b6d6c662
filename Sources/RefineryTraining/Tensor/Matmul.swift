import CRefineryBLAS

/// Matrix products for the trainer, on OpenBLAS's `cblas_sgemm` (row-major, fp32).
public enum Matmul {
    /// `c = alpha · op(a) · op(b) + beta · c`, row-major: `op(a)` is `m × k`, `op(b)` is `k × n`, `c` is `m × n`;
    /// `transposeA` / `transposeB` read `a` as `k × m` / `b` as `n × k`.
    public static func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, transposeA: Bool = false,
                             b: UnsafePointer<Float>, transposeB: Bool = false,
                             c: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0) {
        sgemm(m: m, n: n, k: k, a: a, lda: transposeA ? m : k, transposeA: transposeA,
              b: b, ldb: transposeB ? k : n, transposeB: transposeB, c: c, ldc: n, alpha: alpha, beta: beta)
    }

    /// The same product over sub-matrices of larger row-major arrays: `lda`, `ldb`, `ldc` are the distances in
    /// elements between consecutive rows of `a`, `b`, `c` as stored (a head's columns inside a fused QKV row, say).
    public static func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
                             b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
                             c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative matrix dimension")
        guard m > 0 && n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The same product with `c`'s rows split across the cores, each part one single-threaded OpenBLAS call.
    ///
    /// The trainer keeps OpenBLAS to one thread (``threads`` = 1) and splits work itself: OpenBLAS's own idle
    /// workers spin in `sched_yield` while the elementwise kernels run, which cost a fifth of a training step on two
    /// cores. Splitting rows does not change any element's sum, so results are identical on any number of cores.
    public static func sgemmParallel(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, transposeA: Bool = false,
                                     b: UnsafePointer<Float>, transposeB: Bool = false,
                                     c: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0) {
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        guard Parallel.tasks > 1, m >= 64, m * n * k >= 1 << 20 else {
            sgemm(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB,
                  c: c, ldc: n, alpha: alpha, beta: beta)
            return
        }
        // Row blocks of 16 keep OpenBLAS's kernels on full tiles.
        let blocks = (m + 15) / 16
        Parallel.forEachRange(blocks) { range in
            let first = range.lowerBound * 16, rows = min(m, range.upperBound * 16) - first
            sgemm(m: rows, n: n, k: k, a: transposeA ? a + first : a + first * lda, lda: lda, transposeA: transposeA,
                  b: b, ldb: ldb, transposeB: transposeB, c: c + first * n, ldc: n, alpha: alpha, beta: beta)
        }
    }

    /// The threads OpenBLAS uses (every core unless `OPENBLAS_NUM_THREADS` says otherwise).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }
}
