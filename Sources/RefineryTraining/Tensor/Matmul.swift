import CRefineryBLAS
import RefineryRecords

/// Matrix products for the trainer, on OpenBLAS's `cblas_sgemm` (row-major, fp32). OpenBLAS is opened on first use
/// (``load()``), not when the program starts: see `CRefineryBLAS.h`.
public enum Matmul {
    /// Opens OpenBLAS, once; later calls are free.
    /// - Throws: ``RefineryError`` (code `environment`) when the library is not installed or lacks a function.
    public static func load() throws {
        if case .failure(let error) = library { throw error }
    }

    private static let library: Result<Void, RefineryError> = {
        var message = [CChar](repeating: 0, count: 512)
        guard refinery_blas_load(&message, message.count) == 0 else { return .success(()) }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return .failure(RefineryError(.environment, "the trainer needs OpenBLAS (Debian's libopenblas0; `bash tools/install-deps.sh` installs it): \(reason)"))
    }()

    /// ``load()``, for the calls that cannot throw: a program that multiplies matrices without OpenBLAS stops here.
    private static func loaded() {
        do { try load() } catch { fatalError("\(error)") }
    }

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
        loaded()
        refinery_blas_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                            beta, c, Int32(ldc))
    }

    /// The same product on every core: `c` cut into tiles (``tiles(m:n:)``), each tile one single-threaded
    /// `cblas_sgemm`, the tiles shared among the cores.
    ///
    /// The tiles depend on the shape alone, never on the number of cores, so every element of `c` comes out of the
    /// same call on any number of cores, and the weights a run trains are the same bit for bit. OpenBLAS's own
    /// threading (`openblas_set_num_threads`) does not promise that: it cuts `c` by the number of threads, and its
    /// Haswell kernels (which OpenBLAS 0.3.21 also picks on AVX-512 processors it does not know, such as Zen 5) sum
    /// an element of an edge block in another order than one inside, so 1, 2 and 3 cores trained different weights.
    public static func sgemmAllCores(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, transposeA: Bool = false,
                                     b: UnsafePointer<Float>, transposeB: Bool = false,
                                     c: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0) {
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let (byRows, bounds) = tiles(m: m, n: n)
        // The tiles write disjoint parts of `c`.
        Parallel.forEach(bounds.count - 1) { tile in
            let start = bounds[tile], count = bounds[tile + 1] - start
            if byRows {
                sgemm(m: count, n: n, k: k, a: transposeA ? a + start : a + start * lda, lda: lda, transposeA: transposeA,
                      b: b, ldb: ldb, transposeB: transposeB, c: c + start * n, ldc: n, alpha: alpha, beta: beta)
            } else {
                sgemm(m: m, n: count, k: k, a: a, lda: lda, transposeA: transposeA,
                      b: transposeB ? b + start * ldb : b + start, ldb: ldb, transposeB: transposeB, c: c + start, ldc: n,
                      alpha: alpha, beta: beta)
            }
        }
    }

    /// How ``sgemmAllCores(m:n:k:a:transposeA:b:transposeB:c:alpha:beta:)`` cuts an `m × n` product: along its
    /// longer side (rows when `m >= n`), into tiles of about ``tileSide`` rows or columns, their bounds multiples of
    /// 16 (the kernels' register blocks) but for the last. A function of the shape only.
    static func tiles(m: Int, n: Int) -> (byRows: Bool, bounds: [Int]) {
        let byRows = m >= n
        let extent = byRows ? m : n
        let count = max(1, (extent + tileSide - 1) / tileSide)
        var bounds = (0..<count).map { min(extent, (extent * $0 / count + 15) / 16 * 16) }
        bounds.append(extent)
        return (byRows, bounds)
    }

    /// The side of ``sgemmAllCores(m:n:k:a:transposeA:b:transposeB:c:alpha:beta:)``'s tiles, about: large enough
    /// that packing the other operand once per tile costs little, small enough that two or three cores get even
    /// shares of the trainer's products (a 384-wide model's smallest, 384 × 384, is two tiles).
    static let tileSide = 256

    /// The threads OpenBLAS uses (every core unless `OPENBLAS_NUM_THREADS` says otherwise).
    public static var threads: Int {
        get {
            loaded()
            return Int(refinery_blas_threads())
        }
        set {
            loaded()
            refinery_blas_set_threads(Int32(max(1, newValue)))
        }
    }
}
