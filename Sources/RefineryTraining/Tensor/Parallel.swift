import Dispatch
import Foundation

/// Splits elementwise work across the cores. Every split here is over independent rows or columns, and every sum
/// runs in one fixed order inside one task, so results are the same bit for bit whatever the number of cores.
public enum Parallel {
    /// The number of tasks work is split into: the active cores, or `REFINERY_THREADS` when set.
    public static let tasks: Int = {
        if let value = ProcessInfo.processInfo.environment["REFINERY_THREADS"], let n = Int(value), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Calls `body` with disjoint ranges that cover `0..<count`, concurrently when there is enough work.
    /// - Parameter grain: the smallest range worth a task of its own.
    public static func forEachRange(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let parts = min(tasks, max(1, count / max(1, grain)))
        if parts == 1 { body(0..<count); return }
        // The tasks touch disjoint ranges and `body` does not outlive this call, which is what Sendable would guard.
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                task.value((count * part / parts)..<(count * (part + 1) / parts))
            }
        }
    }

    /// Calls `body` once per index in `0..<count`, spread across the cores, each index in one task.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forEachRange(count) { range in for i in range { body(i) } }
    }
}

/// Carries a value into `concurrentPerform`'s tasks where the caller guarantees they use it without races.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
