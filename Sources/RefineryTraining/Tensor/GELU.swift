/// GPT-2's activation, the tanh approximation of GELU (`gelu_new` in Hugging Face's configuration):
/// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 x³)))`.
public enum GELU {
    static let k: Float = 0.797_884_56  // √(2/π)
    static let c: Float = 0.044_715

    /// `tanh(√(2/π) · (v + 0.044715 v³))`, the term forward and backward share.
    @inline(__always) static func tanhTerm(_ v: F8) -> F8 {
        let u: F8 = k * (v + c * v * v * v)
        return Vector.tanh(u)
    }

    /// `out[i] = gelu(x[i])` for `count` elements.
    public static func forward(x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachRange(count, grain: 4096) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let v = x.load8(i)
                let t = tanhTerm(v)
                out.store8(0.5 * v * (1 + t), i)
                i += 8
            }
            while i < range.upperBound {
                let v = x[i]
                let t = tanhTerm(F8(repeating: v))[0]
                out[i] = 0.5 * v * (1 + t)
                i += 1
            }
        }
    }

    /// Replaces `grad[i]` (the gradient of the output) by the gradient of the input `x[i]`.
    public static func backward(x: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachRange(count, grain: 4096) { range in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let v = x.load8(i)
                let t = tanhTerm(v)
                let inner: F8 = k * (1 + 3 * c * v * v)
                let slope: F8 = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * inner
                grad.store8(grad.load8(i) * slope, i)
                i += 8
            }
            while i < range.upperBound {
                let v = x[i]
                let t = tanhTerm(F8(repeating: v))[0]
                let inner = k * (1 + 3 * c * v * v)
                grad[i] *= 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * inner
                i += 1
            }
        }
    }
}
