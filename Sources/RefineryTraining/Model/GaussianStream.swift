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
        // u1 in (0, 1] (exactly (k + 1) / 2^53), u2 in [0, 1).
        let u1 = random.nextUnit() + 0x1p-53
        let u2 = random.nextUnit()
        let radius = (-2 * Foundation.log(u1)).squareRoot()
        spare = Float(radius * Foundation.sin(2 * .pi * u2))
        return Float(radius * Foundation.cos(2 * .pi * u2))
    }
}
