import Foundation

/// Softmax cross-entropy over a vocabulary, with a weight per target and rows without a target (`−1`).
public enum CrossEntropy {
    /// Computes each row's negative log-likelihood of its target and returns `Σ weight · nll` over rows whose target
    /// is not `−1`. With a `gradientScale`, replaces every row of `logits` by the gradient of
    /// `gradientScale · Σ weight · nll` with respect to it (zeros for rows without a target); otherwise leaves the
    /// logits as they are.
    /// - Parameters:
    ///   - nll: receives each row's unweighted negative log-likelihood (0 where there is no target).
    public static func evaluate(logits: UnsafeMutablePointer<Float>, rows: Int, vocabulary: Int,
                                targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>,
                                nll: UnsafeMutablePointer<Float>, gradientScale: Float?) -> Double {
        Parallel.forEachRange(rows, grain: 4) { range in
            for r in range {
                let row = logits + r * vocabulary
                let target = Int(targets[r])
                guard target >= 0 else {
                    nll[r] = 0
                    if gradientScale != nil { row.update(repeating: 0, count: vocabulary) }
                    continue
                }
                var maxima = F8(repeating: -.infinity)
                var i = 0
                while i + 8 <= vocabulary { maxima = Vector.max(maxima, row.load8(i)); i += 8 }
                var top = maxima.max()
                while i < vocabulary { top = Swift.max(top, row[i]); i += 1 }
                let targetLogit = row[target]
                var sums = F8()
                var tail: Float = 0
                i = 0
                if let scale = gradientScale {
                    // Exponentials in place, then normalised and weighted: p · w · scale, minus w · scale at the target.
                    while i + 8 <= vocabulary { let e = Vector.exp(row.load8(i) - top); row.store8(e, i); sums += e; i += 8 }
                    while i < vocabulary { let e = Vector.exp(row[i] - top); row[i] = e; tail += e; i += 1 }
                    let sum = sums.sum() + tail
                    let w = weights[r] * scale
                    let factor = F8(repeating: w / sum)
                    i = 0
                    while i + 8 <= vocabulary { row.store8(row.load8(i) * factor, i); i += 8 }
                    while i < vocabulary { row[i] *= w / sum; i += 1 }
                    row[target] -= w
                    nll[r] = logf(sum) - (targetLogit - top)
                } else {
                    while i + 8 <= vocabulary { sums += Vector.exp(row.load8(i) - top); i += 8 }
                    while i < vocabulary { tail += Vector.exp(row[i] - top); i += 1 }
                    nll[r] = logf(sums.sum() + tail) - (targetLogit - top)
                }
            }
        }
        var total = 0.0
        for r in 0..<rows where targets[r] >= 0 { total += Double(weights[r]) * Double(nll[r]) }
        return total
    }
}
