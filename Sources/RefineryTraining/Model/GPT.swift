import Foundation
import RefineryCodecs
import RefineryRecords

/// A GPT-2-shaped decoder in fp32 with its forward and backward passes written out over BLAS: learned positions,
/// pre-LayerNorm blocks (attention, then a GELU MLP), a final LayerNorm and an output layer tied to the token
/// embedding.
///
/// `parameters` and `gradients` are flat buffers laid out by ``ParameterLayout``. ``forward(_:gradientScale:)``
/// keeps every activation the backward pass needs; ``backward()`` adds into `gradients`, so micro-batches
/// accumulate until the caller zeroes them. Not `Sendable`: one training loop owns a model.
public final class GPT {
    /// The shape.
    public let config: GPTConfig
    /// Where each tensor sits.
    public let layout: ParameterLayout
    /// The weights.
    public let parameters: FloatBuffer
    /// Gradients of the weights, summed over backward passes since the last ``zeroGradients()``.
    public let gradients: FloatBuffer
    private var activations: Activations?
    private var pendingBackward: TokenBatch?

    /// A model with GPT-2's initialisation: weights from N(0, 0.02), the two residual projections of each block
    /// from N(0, 0.02/√(2·layers)), biases 0, LayerNorm gains 1; drawn from SplitMix64 so a seed fixes every weight.
    public init(config: GPTConfig, seed: UInt64) {
        Matmul.threads = 1
        self.config = config
        layout = ParameterLayout(config: config)
        parameters = FloatBuffer(count: layout.count)
        gradients = FloatBuffer(count: layout.count)
        var random = GaussianStream(seed: seed)
        let residualScale = 0.02 / Float(2 * config.layers).squareRoot()
        for tensor in layout.tensors {
            let p = parameters.pointer + tensor.offset
            if tensor.name.hasSuffix("ln_1.weight") || tensor.name.hasSuffix("ln_2.weight") || tensor.name.hasSuffix("ln_f.weight") {
                p.update(repeating: 1, count: tensor.count)
            } else if tensor.shape.count == 2 {
                let sigma: Float = tensor.name.hasSuffix("c_proj.weight") ? residualScale : 0.02
                for i in 0..<tensor.count { p[i] = sigma * random.next() }
            }
        }
    }

    /// A model with the given weights (a checkpoint's), laid out by ``ParameterLayout``.
    /// - Throws: ``RefineryError`` (code `integrity`) when their number differs from the configuration's.
    public init(config: GPTConfig, weights: [Float]) throws {
        try Matmul.load()
        Matmul.threads = 1
        self.config = config
        layout = ParameterLayout(config: config)
        guard weights.count == layout.count else {
            throw RefineryError(.integrity, "\(weights.count) weights for a model of \(layout.count) parameters")
        }
        parameters = FloatBuffer(count: layout.count)
        parameters.load(weights)
        gradients = FloatBuffer(count: layout.count)
    }

    /// Sets every gradient to zero.
    public func zeroGradients() { gradients.zero() }

    /// The result of a forward pass.
    public struct Loss: Sendable {
        /// `Σ weight · nll` over the batch's targets.
        public var weightedSum: Double
        /// `Σ nll` over the targets, unweighted (for perplexity).
        public var plainSum: Double
        /// Targets in the batch.
        public var targets: Int
    }

    /// Runs the model on `batch` and returns its loss. With a `gradientScale`, prepares ``backward()`` to add the
    /// gradient of `gradientScale · Σ weight · nll` (the trainer passes one over the targets of the whole
    /// accumulation window); without one, the logits stay readable through ``withLogits(_:)``.
    public func forward(_ batch: TokenBatch, gradientScale: Float? = nil) -> Loss {
        let a = workspace(rows: batch.rows)
        let (n, c, v) = (batch.rows * config.context, config.width, config.vocabularySize)
        let p = parameters.pointer
        batch.inputs.withUnsafeBufferPointer { inputs in
            batch.positions.withUnsafeBufferPointer { positions in
                let wte = p + layout.tokenEmbedding, wpe = p + layout.positionEmbedding, out = a.encoded.pointer
                Parallel.forEachRange(n, grain: 64) { range in
                    for i in range {
                        let token = wte + Int(inputs[i]) * c, position = wpe + Int(positions[i]) * c, o = out + i * c
                        for j in 0..<c { o[j] = token[j] + position[j] }
                    }
                }
            }
        }
        let shape = Attention.Shape(rows: batch.rows, context: config.context, width: c, heads: config.heads)
        var residual = a.encoded.pointer
        batch.segmentStarts.withUnsafeBufferPointer { segments in
            for (l, b) in layout.blocks.enumerated() {
                let s = a.blocks[l]
                LayerNorm.forward(x: residual, weight: p + b.ln1Weight, bias: p + b.ln1Bias, out: s.ln1.pointer,
                                  mean: s.ln1Mean.pointer, rstd: s.ln1Rstd.pointer, rows: n, width: c)
                Self.linear(s.ln1.pointer, p + b.qkvWeight, p + b.qkvBias, into: s.qkv.pointer, rows: n, inputs: c, outputs: 3 * c)
                Attention.forward(qkv: s.qkv.pointer, segmentStarts: segments.baseAddress!, probabilities: s.probabilities.pointer,
                                  out: s.attention.pointer, shape: shape)
                Self.addRows(residual, bias: p + b.projBias, into: s.residual2.pointer, rows: n, width: c)
                Matmul.sgemmAllCores(m: n, n: c, k: c, a: s.attention.pointer, b: p + b.projWeight, c: s.residual2.pointer, beta: 1)
                LayerNorm.forward(x: s.residual2.pointer, weight: p + b.ln2Weight, bias: p + b.ln2Bias, out: s.ln2.pointer,
                                  mean: s.ln2Mean.pointer, rstd: s.ln2Rstd.pointer, rows: n, width: c)
                Self.linear(s.ln2.pointer, p + b.fcWeight, p + b.fcBias, into: s.fc.pointer, rows: n, inputs: c, outputs: 4 * c)
                GELU.forward(x: s.fc.pointer, out: s.fcGELU.pointer, count: n * 4 * c)
                Self.addRows(s.residual2.pointer, bias: p + b.fcProjBias, into: s.residual3.pointer, rows: n, width: c)
                Matmul.sgemmAllCores(m: n, n: c, k: 4 * c, a: s.fcGELU.pointer, b: p + b.fcProjWeight, c: s.residual3.pointer, beta: 1)
                residual = s.residual3.pointer
            }
        }
        LayerNorm.forward(x: residual, weight: p + layout.lnFinalWeight, bias: p + layout.lnFinalBias, out: a.lnFinal.pointer,
                          mean: a.lnFinalMean.pointer, rstd: a.lnFinalRstd.pointer, rows: n, width: c)
        Matmul.sgemmAllCores(m: n, n: v, k: c, a: a.lnFinal.pointer, b: p + layout.tokenEmbedding, transposeB: true, c: a.logits.pointer)
        let weighted = batch.targets.withUnsafeBufferPointer { targets in
            batch.weights.withUnsafeBufferPointer { weights in
                CrossEntropy.evaluate(logits: a.logits.pointer, rows: n, vocabulary: v, targets: targets.baseAddress!,
                                      weights: weights.baseAddress!, nll: a.nll.pointer, gradientScale: gradientScale)
            }
        }
        var plain = 0.0
        var targets = 0
        for i in 0..<n where batch.targets[i] >= 0 { plain += Double(a.nll.pointer[i]); targets += 1 }
        pendingBackward = gradientScale == nil ? nil : batch
        return Loss(weightedSum: weighted, plainSum: plain, targets: targets)
    }

    /// Adds the gradient of the last forward pass's scaled loss into ``gradients``.
    /// - Precondition: the last ``forward(_:gradientScale:)`` had a gradient scale.
    public func backward() {
        guard let batch = pendingBackward, let a = activations else {
            preconditionFailure("backward() needs a forward pass with a gradient scale first")
        }
        pendingBackward = nil
        let (n, c, v) = (batch.rows * config.context, config.width, config.vocabularySize)
        let p = parameters.pointer, g = gradients.pointer
        let dResidual = a.dResidual.pointer, dNorm = a.dNorm.pointer
        // Output layer (tied): logits = lnFinal · wteᵀ, and the logits now hold their gradient.
        Matmul.sgemmAllCores(m: v, n: c, k: n, a: a.logits.pointer, transposeA: true, b: a.lnFinal.pointer, c: g + layout.tokenEmbedding, beta: 1)
        Matmul.sgemmAllCores(m: n, n: c, k: v, a: a.logits.pointer, b: p + layout.tokenEmbedding, c: dNorm)
        a.dResidual.zero()
        let last = layout.blocks.isEmpty ? a.encoded.pointer : a.blocks[layout.blocks.count - 1].residual3.pointer
        LayerNorm.backward(dOut: dNorm, x: last, weight: p + layout.lnFinalWeight, mean: a.lnFinalMean.pointer,
                           rstd: a.lnFinalRstd.pointer, dx: dResidual, dWeight: g + layout.lnFinalWeight,
                           dBias: g + layout.lnFinalBias, rows: n, width: c)
        let shape = Attention.Shape(rows: batch.rows, context: config.context, width: c, heads: config.heads)
        for (l, b) in layout.blocks.enumerated().reversed() {
            let s = a.blocks[l]
            let input = l == 0 ? a.encoded.pointer : a.blocks[l - 1].residual3.pointer
            // MLP: residual3 = residual2 + gelu(ln2 · Wfc + bfc) · Wproj + bproj
            ColumnSum.add(dResidual, rows: n, width: c, into: g + b.fcProjBias)
            Matmul.sgemmAllCores(m: 4 * c, n: c, k: n, a: s.fcGELU.pointer, transposeA: true, b: dResidual, c: g + b.fcProjWeight, beta: 1)
            Matmul.sgemmAllCores(m: n, n: 4 * c, k: c, a: dResidual, b: p + b.fcProjWeight, transposeB: true, c: a.dWide.pointer)
            GELU.backward(x: s.fc.pointer, grad: a.dWide.pointer, count: n * 4 * c)
            ColumnSum.add(a.dWide.pointer, rows: n, width: 4 * c, into: g + b.fcBias)
            Matmul.sgemmAllCores(m: c, n: 4 * c, k: n, a: s.ln2.pointer, transposeA: true, b: a.dWide.pointer, c: g + b.fcWeight, beta: 1)
            Matmul.sgemmAllCores(m: n, n: c, k: 4 * c, a: a.dWide.pointer, b: p + b.fcWeight, transposeB: true, c: dNorm)
            LayerNorm.backward(dOut: dNorm, x: s.residual2.pointer, weight: p + b.ln2Weight, mean: s.ln2Mean.pointer,
                               rstd: s.ln2Rstd.pointer, dx: dResidual, dWeight: g + b.ln2Weight, dBias: g + b.ln2Bias,
                               rows: n, width: c)
            // Attention: residual2 = input + attention(ln1 · Wqkv + bqkv) · Wproj + bproj
            ColumnSum.add(dResidual, rows: n, width: c, into: g + b.projBias)
            Matmul.sgemmAllCores(m: c, n: c, k: n, a: s.attention.pointer, transposeA: true, b: dResidual, c: g + b.projWeight, beta: 1)
            Matmul.sgemmAllCores(m: n, n: c, k: c, a: dResidual, b: p + b.projWeight, transposeB: true, c: a.dAttention.pointer)
            batch.segmentStarts.withUnsafeBufferPointer { segments in
                Attention.backward(dOut: a.dAttention.pointer, qkv: s.qkv.pointer, segmentStarts: segments.baseAddress!,
                                   probabilities: s.probabilities.pointer, dQKV: a.dQKV.pointer, shape: shape)
            }
            ColumnSum.add(a.dQKV.pointer, rows: n, width: 3 * c, into: g + b.qkvBias)
            Matmul.sgemmAllCores(m: c, n: 3 * c, k: n, a: s.ln1.pointer, transposeA: true, b: a.dQKV.pointer, c: g + b.qkvWeight, beta: 1)
            Matmul.sgemmAllCores(m: n, n: c, k: 3 * c, a: a.dQKV.pointer, b: p + b.qkvWeight, transposeB: true, c: dNorm)
            LayerNorm.backward(dOut: dNorm, x: input, weight: p + b.ln1Weight, mean: s.ln1Mean.pointer,
                               rstd: s.ln1Rstd.pointer, dx: dResidual, dWeight: g + b.ln1Weight, dBias: g + b.ln1Bias,
                               rows: n, width: c)
        }
        // Embeddings: scatter by column so each sum keeps the order of the positions.
        let gwte = g + layout.tokenEmbedding, gwpe = g + layout.positionEmbedding
        batch.inputs.withUnsafeBufferPointer { inputs in
            batch.positions.withUnsafeBufferPointer { positions in
                Parallel.forEachRange(c, grain: 32) { columns in
                    for i in 0..<n {
                        let d = dResidual + i * c, token = gwte + Int(inputs[i]) * c, position = gwpe + Int(positions[i]) * c
                        for j in columns { token[j] += d[j]; position[j] += d[j] }
                    }
                }
            }
        }
    }

    /// Calls `body` with the logits of the last forward pass without a gradient scale (`rows·context × vocabulary`).
    /// The pointer is valid only inside `body`.
    public func withLogits<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        guard let a = activations else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeBufferPointer(start: a.logits.pointer, count: a.rows * config.context * config.vocabularySize))
    }

    /// `out = x · W + b` for `rows` rows.
    static func linear(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                       into out: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, outputs: Int) {
        for r in 0..<rows { (out + r * outputs).update(from: bias, count: outputs) }
        Matmul.sgemmAllCores(m: rows, n: outputs, k: inputs, a: x, b: weight, c: out, beta: 1)
    }

    /// `out[r] = x[r] + bias` for `rows` rows.
    static func addRows(_ x: UnsafePointer<Float>, bias: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        Parallel.forEachRange(rows, grain: 64) { range in
            for r in range {
                let i = x + r * width, o = out + r * width
                for j in 0..<width { o[j] = i[j] + bias[j] }
            }
        }
    }

    private func workspace(rows: Int) -> Activations {
        if let a = activations, a.rows == rows { return a }
        let a = Activations(config: config, rows: rows)
        activations = a
        return a
    }
}
