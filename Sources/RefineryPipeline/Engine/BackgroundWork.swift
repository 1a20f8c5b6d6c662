import Foundation

/// Work on a thread of its own, whose value the caller waits for: for serial work that can go on beside work already
/// spread over every core (the dedup index segment, made while the shards are written).
final class BackgroundWork<Value>: @unchecked Sendable {
    // Guarded by `condition`: the body until the thread takes it, then its result.
    private let condition = NSCondition()
    private var body: (() throws -> Value)?
    private var result: Result<Value, any Error>?

    /// Starts `body` on a new thread.
    init(_ body: @escaping () throws -> Value) {
        self.body = body
        let thread = Thread { [self] in run() }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Waits for the work to end; returns its value or throws what it threw (on every call).
    func wait() throws -> Value {
        condition.lock()
        while result == nil { condition.wait() }
        let result = self.result!
        condition.unlock()
        return try result.get()
    }

    private func run() {
        condition.lock()
        let body = self.body!
        self.body = nil
        condition.unlock()
        let outcome = Result { try body() }
        condition.lock()
        result = outcome
        condition.broadcast()
        condition.unlock()
    }
}
