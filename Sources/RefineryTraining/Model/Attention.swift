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
        /// Query rows per block: a block's products reach only keys from its first position's document start to its
        /// last row, which skips the masked upper triangle and earlier documents.
        public let blockRows: Int
        public init(rows: Int, context: Int, width: Int, heads: Int, blockRows: Int = 64) {
            self.rows = rows; self.context = context; self.width = width; self.heads = heads
            self.blockRows = max(1, blockRows)
        }
        var headSize: Int { width / heads }
        /// Elements of the saved attention probabilities: `rows · heads · context²`.
        public var probabilityCount: Int { rows * heads * context * context }
    }

    /// Writes the attention output `out` (`rows·T × width`) and saves the probabilities for ``backward``.
    /// `segmentStarts` must not decrease along a row (documents are packed one after another).
    public static func forward(qkv: UnsafePointer<Float>, segmentStarts: UnsafePointer<Int32>,
                               probabilities: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, shape: Shape) {
        let (t, c, hs) = (shape.context, shape.width, shape.headSize)
        let scale = 1 / Float(hs).squareRoot()
        perHead(shape) { row, head in
            let q = qkv + row * t * 3 * c + head * hs
            let p = probabilities + (row * shape.heads + head) * t * t
            let starts = segmentStarts + row * t
            for first in stride(from: 0, to: t, by: shape.blockRows) {
                let end = min(t, first + shape.blockRows), key = Int(starts[first])
                let block = p + first * t + key
                // S = Q Kᵀ · scale over the block's reachable keys, then each row's softmax inside its own window.
                Matmul.sgemm(m: end - first, n: end - key, k: hs, a: q + first * 3 * c, lda: 3 * c,
                             b: q + c + key * 3 * c, ldb: 3 * c, transposeB: true, c: block, ldc: t, alpha: scale)
                for i in first..<end {
                    let start = Int(starts[i])
                    let line = p + i * t
                    Vector.softmax(line + start, count: i + 1 - start)
                    if start > 0 { line.update(repeating: 0, count: start) }
                    if i + 1 < t { (line + i + 1).update(repeating: 0, count: t - i - 1) }
                }
                Matmul.sgemm(m: end - first, n: hs, k: end - key, a: block, lda: t, b: q + 2 * c + key * 3 * c, ldb: 3 * c,
                             c: out + (row * t + first) * c + head * hs, ldc: c)
            }
        }
    }

    /// Writes the gradient with respect to `qkv` into `dQKV` (every element), given the gradient `dOut` of the
    /// output and the probabilities saved by ``forward``.
    public static func backward(dOut: UnsafePointer<Float>, qkv: UnsafePointer<Float>, segmentStarts: UnsafePointer<Int32>,
                                probabilities: UnsafePointer<Float>, dQKV: UnsafeMutablePointer<Float>, shape: Shape) {
        let (t, c, hs) = (shape.context, shape.width, shape.headSize)
        let scale = 1 / Float(hs).squareRoot()
        perHead(shape, scratch: t * t) { row, head, dp in
            let q = qkv + row * t * 3 * c + head * hs
            let dq = dQKV + row * t * 3 * c + head * hs
            let p = probabilities + (row * shape.heads + head) * t * t
            let dout = dOut + row * t * c + head * hs
            let starts = segmentStarts + row * t
            // dK and dV collect over blocks.
            for i in 0..<t {
                (dq + i * 3 * c + c).update(repeating: 0, count: hs)
                (dq + i * 3 * c + 2 * c).update(repeating: 0, count: hs)
            }
            for first in stride(from: 0, to: t, by: shape.blockRows) {
                let end = min(t, first + shape.blockRows), key = Int(starts[first])
                let (rows, keys) = (end - first, end - key)
                let pBlock = p + first * t + key, dBlock = dp + first * t + key
                // dP = dO · Vᵀ; dV += Pᵀ · dO
                Matmul.sgemm(m: rows, n: keys, k: hs, a: dout + first * c, lda: c, b: q + 2 * c + key * 3 * c, ldb: 3 * c,
                             transposeB: true, c: dBlock, ldc: t)
                Matmul.sgemm(m: keys, n: hs, k: rows, a: pBlock, lda: t, transposeA: true, b: dout + first * c, ldb: c,
                             c: dq + 2 * c + key * 3 * c, ldc: 3 * c, beta: 1)
                // dS = P ⊙ (dP − rowsum(P ⊙ dP)): zero wherever P is.
                for i in first..<end {
                    let dot = Vector.dot(p + i * t + key, dp + i * t + key, count: keys)
                    Vector.softmaxBackward(p + i * t + key, dp + i * t + key, dot: dot, count: keys)
                }
                // dQ = dS · K · scale; dK += dSᵀ · Q · scale
                Matmul.sgemm(m: rows, n: hs, k: keys, a: dBlock, lda: t, b: q + c + key * 3 * c, ldb: 3 * c,
                             c: dq + first * 3 * c, ldc: 3 * c, alpha: scale)
                Matmul.sgemm(m: keys, n: hs, k: rows, a: dBlock, lda: t, transposeA: true, b: q + first * 3 * c, ldb: 3 * c,
                             c: dq + c + key * 3 * c, ldc: 3 * c, alpha: scale, beta: 1)
            }
        }
    }

    /// Runs `body(row, head)` for every pair, spread over the cores (the model keeps OpenBLAS to one thread).
    private static func perHead(_ shape: Shape, _ body: (Int, Int) -> Void) {
        perHead(shape, scratch: 0) { row, head, _ in body(row, head) }
    }

    private static func perHead(_ shape: Shape, scratch: Int, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        Parallel.forEachRange(shape.rows * shape.heads) { range in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, scratch))
            defer { buffer.deallocate() }
            for pair in range { body(pair / shape.heads, pair % shape.heads, buffer) }
        }
    }
}
