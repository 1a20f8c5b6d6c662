/// Eight-lane loads, stores and the exponential the elementwise kernels are built from.
@usableFromInline typealias F8 = SIMD8<Float>

extension UnsafePointer where Pointee == Float {
    @inline(__always) @usableFromInline func load8(_ i: Int) -> F8 {
        UnsafeRawPointer(self + i).loadUnaligned(as: F8.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) @usableFromInline func load8(_ i: Int) -> F8 {
        UnsafeRawPointer(self + i).loadUnaligned(as: F8.self)
    }

    @inline(__always) @usableFromInline func store8(_ value: F8, _ i: Int) {
        UnsafeMutableRawPointer(self + i).storeBytes(of: value, as: F8.self)
    }
}

/// Elementwise functions on eight floats at once.
public enum Vector {
    /// `e^x` on eight lanes, within 2 ulp of `Foundation.exp` for x in [-87, 88] (0 below, +inf above):
    /// x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial, 2^n by building the exponent bits.
    @inline(__always) public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let clamped = x.clamped(lowerBound: F8(repeating: -87.3), upperBound: F8(repeating: 88.3))
        let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
        let r = clamped - n * 0.693_145_75 - n * 1.428_606_8e-6
        var p = F8(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let bits = (SIMD8<Int32>(n, rounding: .towardZero) &+ 127) &<< 23
        let scale = unsafeBitCast(bits, to: F8.self)
        return (p * scale).replacing(with: 0, where: x .< -87.3)
    }

    /// `tanh(x)` on eight lanes, as `1 − 2 / (e^{2x} + 1)`.
    @inline(__always) public static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 - 2 / (exp(2 * x) + 1)
    }

    /// `e^x` for one float, by the same polynomial (so scalar tails agree with vector bodies).
    @inline(__always) public static func exp(_ x: Float) -> Float { exp(F8(repeating: x))[0] }
}
