import Foundation
import RefineryCodecs
import RefineryTraining
import Testing

/// Finite-difference checks of every hand-written backward pass: each op's analytic gradient against central
/// differences of a scalar loss, in fp32, with a fixed seed.
@Suite struct ModelGradientTests {
    /// Uniform values in [-scale, scale) from a seed.
    static func noise(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in (Float(random.next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    }

    /// Compares `analytic` with central differences of `loss` around `x` at `indices`; returns the worst mismatch.
    static func check(_ x: inout [Float], analytic: [Float], indices: some Sequence<Int>, epsilon: Float = 1e-2,
                      loss: ([Float]) -> Double) -> (worst: Double, largest: Double) {
        var worst = 0.0, largest = 0.0
        for i in indices {
            let saved = x[i]
            x[i] = saved + epsilon
            let up = loss(x)
            x[i] = saved - epsilon
            let down = loss(x)
            x[i] = saved
            let numeric = (up - down) / Double(2 * epsilon)
            let a = Double(analytic[i])
            largest = max(largest, abs(a))
            worst = max(worst, abs(a - numeric) / (abs(a) + abs(numeric) + 1e-3))
        }
        return (worst, largest)
    }

    /// `Σ out · r`, so that `r` is the gradient flowing into the op.
    static func project(_ out: [Float], _ r: [Float]) -> Double {
        zip(out, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    @Test("LayerNorm's input, weight and bias gradients match finite differences")
    func layerNorm() {
        let (rows, width) = (3, 13)
        var x = Self.noise(rows * width, seed: 1, scale: 2)
        var w = Self.noise(width, seed: 2).map { $0 + 1 }
        var b = Self.noise(width, seed: 3)
        let r = Self.noise(rows * width, seed: 4)
        func run(_ x: [Float], _ w: [Float], _ b: [Float]) -> (out: [Float], mean: [Float], rstd: [Float]) {
            var out = [Float](repeating: 0, count: rows * width), mean = [Float](repeating: 0, count: rows), rstd = mean
            LayerNorm.forward(x: x, weight: w, bias: b, out: &out, mean: &mean, rstd: &rstd, rows: rows, width: width)
            return (out, mean, rstd)
        }
        let saved = run(x, w, b)
        var dx = [Float](repeating: 0, count: rows * width), dw = [Float](repeating: 0, count: width), db = dw
        LayerNorm.backward(dOut: r, x: x, weight: w, mean: saved.mean, rstd: saved.rstd, dx: &dx, dWeight: &dw,
                           dBias: &db, rows: rows, width: width)
        let (wx, bx, cx) = (w, b, x)
        #expect(Self.check(&x, analytic: dx, indices: x.indices, epsilon: 1e-2) { Self.project(run($0, wx, bx).out, r) }.worst < 1e-2)
        #expect(Self.check(&w, analytic: dw, indices: w.indices) { Self.project(run(cx, $0, bx).out, r) }.worst < 1e-2)
        #expect(Self.check(&b, analytic: db, indices: b.indices) { Self.project(run(cx, wx, $0).out, r) }.worst < 1e-2)
    }

    @Test("GELU's gradient matches finite differences, in the eight-lane body and the scalar tail")
    func gelu() {
        let count = 21
        var x = Self.noise(count, seed: 5, scale: 4)
        let r = Self.noise(count, seed: 6)
        func run(_ x: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: count)
            GELU.forward(x: x, out: &out, count: count)
            return out
        }
        var grad = r
        GELU.backward(x: x, grad: &grad, count: count)
        #expect(Self.check(&x, analytic: grad, indices: x.indices, epsilon: 1e-2) { Self.project(run($0), r) }.worst < 1e-2)
        // Against the formula in double precision.
        let out = run(x)
        for (v, y) in zip(x, out) {
            let d = Double(v)
            let exact = 0.5 * d * (1 + Foundation.tanh(0.7978845608 * (d + 0.044715 * d * d * d)))
            #expect(abs(Double(y) - exact) < 1e-5 * max(1, abs(exact)))
        }
    }

    @Test("the vector exponential stays within a few ulp of Foundation's across its range")
    func exponential() {
        var x: Float = -87
        while x < 88 {
            let fast = Vector.exp(x), exact = Foundation.exp(x)
            #expect(abs(fast - exact) <= 4 * exact.ulp, "exp(\(x))")
            x += 0.37
        }
        #expect(Vector.exp(-200) == 0)
        #expect(Vector.exp(200) > 1e38)
    }

    @Test("attention's gradient matches finite differences with two documents packed in a row, in one block or several",
          arguments: [64, 2, 1])
    func attention(blockRows: Int) {
        let shape = Attention.Shape(rows: 2, context: 5, width: 8, heads: 2, blockRows: blockRows)
        let n = shape.rows * shape.context
        let segments: [Int32] = [0, 0, 2, 2, 2, 0, 1, 1, 1, 1]
        var qkv = Self.noise(n * 3 * shape.width, seed: 7, scale: 1.5)
        let r = Self.noise(n * shape.width, seed: 8)
        func run(_ qkv: [Float], probabilities: inout [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: n * shape.width)
            Attention.forward(qkv: qkv, segmentStarts: segments, probabilities: &probabilities, out: &out, shape: shape)
            return out
        }
        var probabilities = [Float](repeating: 0, count: shape.probabilityCount)
        _ = run(qkv, probabilities: &probabilities)
        var dqkv = [Float](repeating: .nan, count: qkv.count)
        Attention.backward(dOut: r, qkv: qkv, segmentStarts: segments, probabilities: probabilities, dQKV: &dqkv, shape: shape)
        let result = Self.check(&qkv, analytic: dqkv, indices: qkv.indices) { x in
            var scratch = [Float](repeating: 0, count: shape.probabilityCount)
            return Self.project(run(x, probabilities: &scratch), r)
        }
        #expect(result.worst < 1e-2)
        #expect(result.largest > 0.1)
        // Nothing crosses a document boundary: row 0's third position (a new document) ignores positions 0 and 1.
        let t = shape.context
        for head in 0..<shape.heads {
            let p = probabilities[(0 * shape.heads + head) * t * t + 2 * t ..< (0 * shape.heads + head) * t * t + 3 * t]
            #expect(Array(p) == [0, 0, 1, 0, 0])
        }
    }

    @Test("cross-entropy's gradient matches finite differences, with weights and untrained positions")
    func crossEntropy() {
        let (rows, vocabulary) = (4, 19)
        var logits = Self.noise(rows * vocabulary, seed: 9, scale: 3)
        let targets: [Int32] = [3, -1, 18, 0]
        let weights: [Float] = [1, 5, 0.25, 2]
        func loss(_ x: [Float]) -> Double {
            var copy = x, nll = [Float](repeating: 0, count: rows)
            return CrossEntropy.evaluate(logits: &copy, rows: rows, vocabulary: vocabulary, targets: targets,
                                         weights: weights, nll: &nll, gradientScale: nil)
        }
        var grad = logits, nll = [Float](repeating: 0, count: rows)
        let total = CrossEntropy.evaluate(logits: &grad, rows: rows, vocabulary: vocabulary, targets: targets,
                                          weights: weights, nll: &nll, gradientScale: 1)
        #expect(abs(total - loss(logits)) < 1e-9)
        #expect(grad[vocabulary..<(2 * vocabulary)].allSatisfy { $0 == 0 })
        #expect(Self.check(&logits, analytic: grad, indices: logits.indices, epsilon: 1e-2) { loss($0) }.worst < 1e-2)
    }

    /// A tiny model with weights spread wider than GPT-2's initialisation, so every path carries signal.
    static func tinyModel() throws -> GPT {
        let config = GPTConfig(vocabularySize: 13, context: 6, layers: 2, heads: 2, width: 8)
        let base = GPT(config: config, seed: 3)
        let spread = zip(base.parameters.array, noise(base.layout.count, seed: 11, scale: 0.3)).map { $0 + $1 }
        return try GPT(config: config, weights: spread)
    }

    static let tinyBatch = TokenBatch(
        rows: 2,
        inputs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        positions: [0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 4, 5],
        segmentStarts: [0, 0, 0, 3, 3, 3, 0, 0, 0, 0, 0, 0],
        targets: [2, 3, -1, 5, 6, -1, 8, -1, 10, 11, 12, 0],
        weights: [1, 1, 0, 2, 2, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])

    @Test("the whole model's gradient matches finite differences for every kind of tensor")
    func wholeModel() throws {
        let model = try Self.tinyModel()
        try Self.tinyBatch.validate(for: model.config)
        model.zeroGradients()
        let loss = model.forward(Self.tinyBatch, gradientScale: 1)
        model.backward()
        #expect(loss.targets == 9)
        var weights = model.parameters.array
        let analytic = model.gradients.array
        let config = model.config
        // A few elements of every tensor, the tied embedding's rows for used and unused tokens included.
        let indices = model.layout.tensors.flatMap { t in [0, t.count / 3, t.count - 1].map { t.offset + $0 } }
            + [model.layout.tokenEmbedding + 0 * config.width + 2, model.layout.tokenEmbedding + 12 * config.width + 5]
        let result = Self.check(&weights, analytic: analytic, indices: Set(indices).sorted(), epsilon: 4e-3) { w in
            let probe = try! GPT(config: config, weights: w)
            return probe.forward(Self.tinyBatch).weightedSum
        }
        #expect(result.worst < 2e-2)
        #expect(result.largest > 0.05)
    }

    @Test("the forward loss without gradients equals the loss with them, and backward accumulates")
    func accumulation() throws {
        let model = try Self.tinyModel()
        let plain = model.forward(Self.tinyBatch)
        model.zeroGradients()
        let withGradient = model.forward(Self.tinyBatch, gradientScale: 0.5)
        model.backward()
        let once = model.gradients.array
        _ = model.forward(Self.tinyBatch, gradientScale: 0.5)
        model.backward()
        #expect(plain.weightedSum == withGradient.weightedSum)
        for (a, b) in zip(once, model.gradients.array) { #expect(abs(2 * a - b) <= 1e-6 * max(1, abs(b))) }
    }
}
