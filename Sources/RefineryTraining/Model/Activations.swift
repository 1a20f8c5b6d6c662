/// Every activation of one forward pass that the backward pass reads, and the backward pass's scratch.
final class Activations {
    final class Block {
        let ln1, ln1Mean, ln1Rstd, qkv, probabilities, attention, residual2: FloatBuffer
        let ln2, ln2Mean, ln2Rstd, fc, fcGELU, residual3: FloatBuffer
        init(n: Int, c: Int, attention shape: Attention.Shape) {
            ln1 = FloatBuffer(count: n * c); ln1Mean = FloatBuffer(count: n); ln1Rstd = FloatBuffer(count: n)
            qkv = FloatBuffer(count: n * 3 * c)
            probabilities = FloatBuffer(count: shape.probabilityCount)
            attention = FloatBuffer(count: n * c); residual2 = FloatBuffer(count: n * c)
            ln2 = FloatBuffer(count: n * c); ln2Mean = FloatBuffer(count: n); ln2Rstd = FloatBuffer(count: n)
            fc = FloatBuffer(count: n * 4 * c); fcGELU = FloatBuffer(count: n * 4 * c); residual3 = FloatBuffer(count: n * c)
        }
    }

    let rows: Int
    let encoded, lnFinal, lnFinalMean, lnFinalRstd, logits, nll: FloatBuffer
    let blocks: [Block]
    let dResidual, dNorm, dWide, dAttention, dQKV: FloatBuffer

    init(config: GPTConfig, rows: Int) {
        self.rows = rows
        let n = rows * config.context, c = config.width
        let shape = Attention.Shape(rows: rows, context: config.context, width: c, heads: config.heads)
        encoded = FloatBuffer(count: n * c)
        blocks = (0..<config.layers).map { _ in Block(n: n, c: c, attention: shape) }
        lnFinal = FloatBuffer(count: n * c); lnFinalMean = FloatBuffer(count: n); lnFinalRstd = FloatBuffer(count: n)
        logits = FloatBuffer(count: n * config.vocabularySize)
        nll = FloatBuffer(count: n)
        dResidual = FloatBuffer(count: n * c); dNorm = FloatBuffer(count: n * c); dWide = FloatBuffer(count: n * 4 * c)
        dAttention = FloatBuffer(count: n * c); dQKV = FloatBuffer(count: n * 3 * c)
    }
}
