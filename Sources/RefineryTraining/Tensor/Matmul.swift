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

    /// The same product on every core through OpenBLAS's own threading, which then goes back to one thread.
    ///
    /// The trainer keeps OpenBLAS at one thread between products, because its attention calls OpenBLAS from
    /// several tasks at once. Large products get every core for the length of the call. OpenBLAS splits a product
    /// by rows and columns of `c`, never along `k`, so every element sums in the same order on any number of cores.
    /// Measured against splitting `c`'s rows into one single-threaded call per core (`tools/bench/TrainBench`,
    /// alternating runs on the same machine), this was 1.2–1.4× faster: the threads share packed panels.
    public static func sgemmAllCores(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, transposeA: Bool = false,
                                     b: UnsafePointer<Float>, transposeB: Bool = false,
                                     c: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0) {
        threads = Parallel.tasks
        sgemm(m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB, c: c, alpha: alpha, beta: beta)
        threads = 1
    }

    /// The threads OpenBLAS uses (every core unless `OPENBLAS_NUM_THREADS` says otherwise).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }
}
