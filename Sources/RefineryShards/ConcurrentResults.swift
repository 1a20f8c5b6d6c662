import Foundation

/// Results filled by several threads, in the order of their indices: the next index to work on and each index's
/// result, behind a lock.
public final class ConcurrentResults<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var results: [Result<Value, any Error>?]

    public init(count: Int) {
        results = Array(repeating: nil, count: count)
    }

    /// Runs `body` for every index on up to `threads` threads, each taking the next index left.
    public func run(threads: Int, _ body: @Sendable (Int) throws -> Value) {
        @Sendable func work() {
            while let index = next() {
                let result = Result { try body(index) }
                lock.withLock { results[index] = result }
            }
        }
        let threads = max(1, min(threads, results.count))
        if threads == 1 {
            work()
        } else {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in work() }
        }
    }

    private func next() -> Int? {
        lock.withLock {
            guard nextIndex < results.count else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    /// Every index's result, in order (once ``run(threads:_:)`` has returned).
    public func all() -> [Result<Value, any Error>] {
        lock.withLock { results.map { $0! } }
    }
}
