import Foundation

/// AdamW (decoupled weight decay) over a model's flat parameter buffer, with bias-corrected moments; decay applies
/// to the tensors ``ParameterLayout`` marks (matrices and embeddings), not to biases and LayerNorm parameters.
public final class AdamW {
    /// Hyper-parameters.
    public struct Settings: Codable, Equatable, Sendable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.95
        public var epsilon: Float = 1e-8
        public var weightDecay: Float = 0.1
        public init() {}
    }

    public let settings: Settings
    /// First and second moments, one per parameter.
    public let m, v: FloatBuffer
    /// Updates taken so far (the bias correction's `t`).
    public private(set) var steps: Int = 0
    private let decayMask: [(range: Range<Int>, decays: Bool)]

    /// An optimiser with zero moments for the parameters `layout` describes.
    public init(layout: ParameterLayout, settings: Settings) {
        self.settings = settings
        m = FloatBuffer(count: layout.count)
        v = FloatBuffer(count: layout.count)
        decayMask = layout.tensors.map { ($0.offset..<($0.offset + $0.count), $0.decays) }
    }

    /// Restores moments and the step count from a checkpoint.
    public func restore(m: [Float], v: [Float], steps: Int) {
        self.m.load(m)
        self.v.load(v)
        self.steps = steps
    }

    /// One update of `parameters` from `gradients` (already clipped) at learning rate `rate`.
    public func step(parameters: FloatBuffer, gradients: FloatBuffer, rate: Float) {
        steps += 1
        let (b1, b2, eps) = (settings.beta1, settings.beta2, settings.epsilon)
        let correction1 = 1 - Float(Foundation.pow(Double(b1), Double(steps)))
        let correction2 = 1 - Float(Foundation.pow(Double(b2), Double(steps)))
        let p = parameters.pointer, g = gradients.pointer, m = m.pointer, v = v.pointer
        for (range, decays) in decayMask {
            let decay = decays ? settings.weightDecay : 0
            Parallel.forEachRange(range.count, grain: 16_384) { part in
                var i = range.lowerBound + part.lowerBound
                let end = range.lowerBound + part.upperBound
                while i + 8 <= end {
                    let grad = g.load8(i)
                    let mi = b1 * m.load8(i) + (1 - b1) * grad
                    let vi = b2 * v.load8(i) + (1 - b2) * grad * grad
                    m.store8(mi, i)
                    v.store8(vi, i)
                    let update = (mi / correction1) / ((vi / correction2).squareRoot() + eps)
                    let weights = p.load8(i)
                    p.store8(weights - rate * (update + decay * weights), i)
                    i += 8
                }
                while i < end {
                    let grad = g[i]
                    let mi = b1 * m[i] + (1 - b1) * grad
                    let vi = b2 * v[i] + (1 - b2) * grad * grad
                    m[i] = mi
                    v[i] = vi
                    let update = (mi / correction1) / ((vi / correction2).squareRoot() + eps)
                    p[i] -= rate * (update + decay * p[i])
                    i += 1
                }
            }
        }
    }

    /// The Euclidean norm of all gradients, summed in fixed blocks in one order (the same on any number of cores).
    public static func globalNorm(_ gradients: FloatBuffer) -> Double {
        let block = 65_536
        let blocks = (gradients.count + block - 1) / block
        var partial = [Double](repeating: 0, count: blocks)
        let g = gradients.pointer
        partial.withUnsafeMutableBufferPointer { sums in
            let out = sums.baseAddress!
            Parallel.forEach(blocks) { b in
                var s = 0.0
                for i in (b * block)..<min(gradients.count, (b + 1) * block) { s += Double(g[i]) * Double(g[i]) }
                out[b] = s
            }
        }
        return partial.reduce(0, +).squareRoot()
    }

    /// Multiplies every gradient by `factor`.
    public static func scale(_ gradients: FloatBuffer, by factor: Float) {
        let g = gradients.pointer
        Parallel.forEachRange(gradients.count, grain: 65_536) { range in for i in range { g[i] *= factor } }
    }
}
