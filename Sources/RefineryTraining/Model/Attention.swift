import Foundation

/// Causal multi-head self-attention over packed rows: position `t` attends to positions `s` with
/// `segmentStarts[t] ≤ s ≤ t`, so documents packed into one row never see each other.
///
/// Queries, keys and values come fused from one projection, `qkv[row·T + t] = [q | k | v]` (each `width` wide,
/// heads side by side as GPT-2 lays them out). Each head's products are `cblas_sgemm` calls on strided views,
/// one (row, head) pair per task.
public enum Attention {
    /// The shape of one call.
    public struct Shape: Sendable {
        public let rows, context, width, heads: Int
        public init(rows: Int, context: Int, width: Int, heads: Int) {
            self.rows = rows; self.context = context; self.width = width; self.heads = heads
        }
        var headSize: Int { width / heads }
        /// Elements of the saved attention probabilities: `rows · heads · context²`.
        public var probabilityCount: Int { rows * heads * context * context }
    }

    /// Writes the attention output `out` (`rows·T × width`) and saves the probabilities for ``backward``.
    public static func forward(qkv: UnsafePointer<Float>, segmentStarts: UnsafePointer<Int32>,
                               probabilities: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, shape: Shape) {
        let (t, c, hs) = (shape.context, shape.width, shape.headSize)
        let scale = 1 / Float(hs).squareRoot()
        perHead(shape) { row, head in
            let q = qkv + row * t * 3 * c + head * hs
            let p = probabilities + (row * shape.heads + head) * t * t
            Matmul.sgemm(m: t, n: t, k: hs, a: q, lda: 3 * c, b: q + c, ldb: 3 * c, transposeB: true,
                         c: p, ldc: t, alpha: scale)
            for i in 0..<t {
                let start = Int(segmentStarts[row * t + i])
                let line = p + i * t
                Vector.softmax(line + start, count: i + 1 - start)
                if start > 0 { line.update(repeating: 0, count: start) }
                if i + 1 < t { (line + i + 1).update(repeating: 0, count: t - i - 1) }
            }
            Matmul.sgemm(m: t, n: hs, k: t, a: p, lda: t, b: q + 2 * c, ldb: 3 * c,
                         c: out + row * t * c + head * hs, ldc: c)
        }
    }

    /// Writes the gradient with respect to `qkv` into `dQKV` (every element), given the gradient `dOut` of the
    /// output and the probabilities saved by ``forward``.
    public static func backward(dOut: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                                probabilities: UnsafePointer<Float>, dQKV: UnsafeMutablePointer<Float>, shape: Shape) {
        let (t, c, hs) = (shape.context, shape.width, shape.headSize)
        let scale = 1 / Float(hs).squareRoot()
        perHead(shape, scratch: t * t) { row, head, dp in
            let q = qkv + row * t * 3 * c + head * hs
            let dq = dQKV + row * t * 3 * c + head * hs
            let p = probabilities + (row * shape.heads + head) * t * t
            let dout = dOut + row * t * c + head * hs
            // dP = dO · Vᵀ; dV = Pᵀ · dO
            Matmul.sgemm(m: t, n: t, k: hs, a: dout, lda: c, b: q + 2 * c, ldb: 3 * c, transposeB: true, c: dp, ldc: t)
            Matmul.sgemm(m: t, n: hs, k: t, a: p, lda: t, transposeA: true, b: dout, ldb: c, c: dq + 2 * c, ldc: 3 * c)
            // dS = P ⊙ (dP − rowsum(P ⊙ dP)); zero outside each row's window because P is.
            for i in 0..<t {
                let pl = p + i * t, dl = dp + i * t
                let dot = Vector.dot(pl, dl, count: i + 1)
                Vector.softmaxBackward(pl, dl, dot: dot, count: i + 1)
                if i + 1 < t { (dl + i + 1).update(repeating: 0, count: t - i - 1) }
            }
            // dQ = dS · K · scale; dK = dSᵀ · Q · scale
            Matmul.sgemm(m: t, n: hs, k: t, a: dp, lda: t, b: q + c, ldb: 3 * c, c: dq, ldc: 3 * c, alpha: scale)
            Matmul.sgemm(m: t, n: hs, k: t, a: dp, lda: t, transposeA: true, b: q, ldb: 3 * c, c: dq + c, ldc: 3 * c, alpha: scale)
        }
    }

    /// Runs `body(row, head)` for every pair, spread over the cores, with OpenBLAS kept to one thread inside
    /// (the pairs are the parallelism; OpenBLAS's split of the same products does not change their results).
    private static func perHead(_ shape: Shape, _ body: (Int, Int) -> Void) {
        perHead(shape, scratch: 0) { row, head, _ in body(row, head) }
    }

    private static func perHead(_ shape: Shape, scratch: Int, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let pairs = shape.rows * shape.heads
        let blasThreads = Matmul.threads
        if Parallel.tasks > 1 && pairs > 1 { Matmul.threads = 1 }
        defer { Matmul.threads = blasThreads }
        Parallel.forEachRange(pairs) { range in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, scratch))
            defer { buffer.deallocate() }
            for pair in range { body(pair / shape.heads, pair % shape.heads, buffer) }
        }
    }
}
