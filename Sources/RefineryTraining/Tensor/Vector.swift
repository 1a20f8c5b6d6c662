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
        let clamped = max(min(x, F8(repeating: 88.3)), F8(repeating: -87.3))
        // Adding 1.5·2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
        let shifted = clamped * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = clamped - n * 0.693_145_75 - n * 1.428_606_8e-6
        var p = F8(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let bits = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        let scale = unsafeBitCast(bits, to: F8.self)
        return (p * scale).replacing(with: 0, where: x .< -87.3)
    }

    /// Lane-wise minimum (without the generic NaN handling of `pointwiseMin`, which does not inline).
    @inline(__always) public static func min(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        a.replacing(with: b, where: b .< a)
    }

    /// Lane-wise maximum.
    @inline(__always) public static func max(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        a.replacing(with: b, where: b .> a)
    }

    /// `tanh(x)` on eight lanes, as `1 − 2 / (e^{2x} + 1)`.
    @inline(__always) public static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 - 2 / (exp(2 * x) + 1)
    }

    /// `e^x` for one float, by the same polynomial (so scalar tails agree with vector bodies).
    @inline(__always) public static func exp(_ x: Float) -> Float { exp(F8(repeating: x))[0] }

    /// Replaces `x[0..<count]` by its softmax.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var maxima = F8(repeating: -.infinity)
        var i = 0
        while i + 8 <= count { maxima = max(maxima, x.load8(i)); i += 8 }
        var top = maxima.max()
        while i < count { top = Swift.max(top, x[i]); i += 1 }
        var sums = F8()
        var tail: Float = 0
        i = 0
        while i + 8 <= count { let e = exp(x.load8(i) - top); x.store8(e, i); sums += e; i += 8 }
        while i < count { let e = exp(x[i] - top); x[i] = e; tail += e; i += 1 }
        let inverse = 1 / (sums.sum() + tail)
        i = 0
        while i + 8 <= count { x.store8(x.load8(i) * inverse, i); i += 8 }
        while i < count { x[i] *= inverse; i += 1 }
    }

    /// `Σ a[i] · b[i]` over `count` elements, eight lanes at a time.
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var sums = F8()
        var i = 0
        while i + 8 <= count { sums += a.load8(i) * b.load8(i); i += 8 }
        var total = sums.sum()
        while i < count { total += a[i] * b[i]; i += 1 }
        return total
    }

    /// `grad[i] = p[i] · (grad[i] − dot)`: the softmax's backward pass, given `dot = Σ p · grad`.
    public static func softmaxBackward(_ p: UnsafePointer<Float>, _ grad: UnsafeMutablePointer<Float>, dot: Float, count: Int) {
        var i = 0
        while i + 8 <= count { grad.store8(p.load8(i) * (grad.load8(i) - dot), i); i += 8 }
        while i < count { grad[i] = p[i] * (grad[i] - dot); i += 1 }
    }
}
