@testable import RefineryTraining
import Testing

/// The trainer's matrix product on OpenBLAS, against a plain triple loop.
@Suite struct MatmulTests {
    @Test("sgemm matches a triple loop for every transpose, odd shapes, alpha and beta",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func sgemm(transposeA: Bool, transposeB: Bool) {
        let (m, n, k) = (7, 5, 9)
        let a = (0..<(m * k)).map { Float(($0 * 37) % 23) / 23 - 0.5 }
        let b = (0..<(k * n)).map { Float(($0 * 53) % 19) / 19 - 0.5 }
        let start = (0..<(m * n)).map { Float($0 % 7) / 7 }
        var c = start
        Matmul.sgemm(m: m, n: n, k: k, a: a, transposeA: transposeA, b: b, transposeB: transposeB, c: &c, alpha: 0.5, beta: 2)
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    let x = transposeA ? a[p * m + i] : a[i * k + p]
                    let y = transposeB ? b[j * k + p] : b[p * n + j]
                    sum += x * y
                }
                let expected = 0.5 * sum + 2 * start[i * n + j]
                #expect(abs(c[i * n + j] - expected) <= 1e-5 * max(1, abs(expected)), "c[\(i)][\(j)]")
            }
        }
    }

    @Test("sgemmAllCores cuts the longer side into tiles fixed by the shape, and each tile's product matches the triple loop",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func allCores(transposeA: Bool, transposeB: Bool) {
        for (m, n, k) in [(520, 40, 9), (40, 520, 9), (384, 384, 5), (17, 3, 4)] {
            let (byRows, bounds) = Matmul.tiles(m: m, n: n)
            #expect(byRows == (m >= n) && bounds.first == 0 && bounds.last == max(m, n))
            #expect(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 } && bounds.dropLast().allSatisfy { $0 % 16 == 0 })
            #expect(bounds.count - 1 == (max(m, n) + Matmul.tileSide - 1) / Matmul.tileSide)
            let a = (0..<(m * k)).map { Float(($0 * 37) % 23) / 23 - 0.5 }
            let b = (0..<(k * n)).map { Float(($0 * 53) % 19) / 19 - 0.5 }
            let start = (0..<(m * n)).map { Float($0 % 7) / 7 }
            var c = start
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        Matmul.sgemmAllCores(m: m, n: n, k: k, a: a.baseAddress!, transposeA: transposeA, b: b.baseAddress!,
                                             transposeB: transposeB, c: c.baseAddress!, alpha: 0.5, beta: 2)
                    }
                }
            }
            var wrong = 0
            for i in 0..<m {
                for j in 0..<n {
                    var sum: Float = 0
                    for p in 0..<k {
                        sum += (transposeA ? a[p * m + i] : a[i * k + p]) * (transposeB ? b[j * k + p] : b[p * n + j])
                    }
                    let expected = 0.5 * sum + 2 * start[i * n + j]
                    if abs(c[i * n + j] - expected) > 1e-5 * max(1, abs(expected)) { wrong += 1 }
                }
            }
            #expect(wrong == 0, "\(m) × \(n) × \(k)")
        }
    }
}
