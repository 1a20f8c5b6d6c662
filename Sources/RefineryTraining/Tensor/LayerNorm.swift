/// Layer normalisation over the last dimension (GPT-2's `ln_1`, `ln_2`, `ln_f`; ε = 1e-5).
public enum LayerNorm {
    /// GPT-2's epsilon.
    public static let epsilon: Float = 1e-5

    /// `out[r] = (x[r] − mean) / sqrt(var + ε) · weight + bias` for `rows` rows of `width`; saves each row's mean and
    /// reciprocal standard deviation for the backward pass.
    public static func forward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        Parallel.forEachRange(rows, grain: 16) { range in
            for r in range {
                let row = x + r * width, o = out + r * width
                var sum: Float = 0
                for c in 0..<width { sum += row[c] }
                let mu = sum / Float(width)
                var squares: Float = 0
                for c in 0..<width { let d = row[c] - mu; squares += d * d }
                let s = 1 / (squares / Float(width) + epsilon).squareRoot()
                for c in 0..<width { o[c] = (row[c] - mu) * s * weight[c] + bias[c] }
                mean[r] = mu
                rstd[r] = s
            }
        }
    }

    /// Adds the gradient with respect to `x` into `dx`, and with respect to `weight` and `bias` into `dWeight`
    /// and `dBias`, given the gradient `dOut` of the output and the saved `mean` and `rstd`.
    public static func backward(dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
                                dBias: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        Parallel.forEachRange(rows, grain: 16) { range in
            for r in range {
                let row = x + r * width, g = dOut + r * width, d = dx + r * width
                let mu = mean[r], s = rstd[r]
                var meanG: Float = 0, meanGX: Float = 0
                for c in 0..<width {
                    let gn = g[c] * weight[c]
                    meanG += gn
                    meanGX += gn * (row[c] - mu) * s
                }
                meanG /= Float(width)
                meanGX /= Float(width)
                for c in 0..<width {
                    let xhat = (row[c] - mu) * s
                    d[c] += s * (g[c] * weight[c] - meanG - xhat * meanGX)
                }
            }
        }
        // Weight and bias gradients sum over rows: split by column so each sum keeps one order.
        Parallel.forEachRange(width, grain: 64) { columns in
            for r in 0..<rows {
                let row = x + r * width, g = dOut + r * width
                let mu = mean[r], s = rstd[r]
                for c in columns {
                    dWeight[c] += g[c] * (row[c] - mu) * s
                    dBias[c] += g[c]
                }
            }
        }
    }
}
