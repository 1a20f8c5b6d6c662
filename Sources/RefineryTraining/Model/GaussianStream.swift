import Foundation
import RefineryCodecs

/// Standard normal floats from SplitMix64 by the Box–Muller transform: the same seed gives the same weights
/// on every machine.
struct GaussianStream {
    private var random: SplitMix64
    private var spare: Float?

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func next() -> Float {
        if let value = spare { spare = nil; return value }
        // Two uniforms in (0, 1] from the top 53 bits.
        let u1 = Double((random.next() >> 11) + 1) / 9_007_199_254_740_992
        let u2 = Double(random.next() >> 11) / 9_007_199_254_740_992
        let radius = (-2 * Foundation.log(u1)).squareRoot()
        spare = Float(radius * Foundation.sin(2 * .pi * u2))
        return Float(radius * Foundation.cos(2 * .pi * u2))
    }
}
