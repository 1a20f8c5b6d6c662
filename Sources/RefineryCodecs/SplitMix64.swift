/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, fast, seedable generator whose sequence is fixed by its seed on
/// every platform — what Refinery uses wherever a "random" choice must be reproducible (MinHash coefficients, the
/// toxicity trainer's shuffle, test data).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// A uniform double in [0, 1): the top 53 bits of the next output over 2^53 (every value exact).
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) / 9_007_199_254_740_992
    }

    /// The output function alone: a strong 64-bit mixer (bijective).
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
