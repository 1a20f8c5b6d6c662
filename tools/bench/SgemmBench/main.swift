// sgemm-bench [--threads N] [--rounds R] [SIZE...]: the machine's fp32 matrix-multiply peak through OpenBLAS, the
// denominator of the trainer's model FLOPs utilisation (MFU). For each square size (default 256 512 1024 2048) it
// times `c = a · b` and prints GFLOP/s (2·n³ / seconds, fastest of R rounds, default 5), then the best as the peak.
// Build: swift build -c release --product sgemm-bench
import Foundation
import RefineryTraining

var arguments = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> Int? {
    guard let at = arguments.firstIndex(of: name), at + 1 < arguments.count, let value = Int(arguments[at + 1]) else { return nil }
    arguments.removeSubrange(at...(at + 1))
    return value
}
if let threads = option("--threads") { Matmul.threads = threads }
let rounds = option("--rounds") ?? 5
let sizes = arguments.isEmpty ? [256, 512, 1024, 2048] : arguments.compactMap { Int($0) }
guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else {
    FileHandle.standardError.write(Data("usage: sgemm-bench [--threads N] [--rounds R] [SIZE...]\n".utf8))
    exit(64)
}

var peak = 0.0
print("sgemm-bench: OpenBLAS, \(Matmul.threads) thread(s), fastest of \(rounds)")
for n in sizes {
    var a = [Float](repeating: 0, count: n * n), b = a, c = a
    for i in 0..<(n * n) {
        a[i] = Float((i * 7919) % 1000) / 1000 - 0.5
        b[i] = Float((i * 104_729) % 1000) / 1000 - 0.5
    }
    var best = Double.infinity
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        Matmul.sgemm(m: n, n: n, k: n, a: a, b: b, c: &c)
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let gflops = 2 * Double(n) * Double(n) * Double(n) / best / 1e9
    peak = max(peak, gflops)
    print(String(format: "  %5d × %-5d %8.1f GFLOP/s  (%.4f s)", n, n, gflops, best))
}
print(String(format: "peak: %.1f GFLOP/s", peak))
