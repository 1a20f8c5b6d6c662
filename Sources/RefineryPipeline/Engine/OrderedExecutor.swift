import Foundation

/// Runs batches on worker threads and hands their results to one consumer strictly in submission order.
///
/// At most `window` batches are in flight: `submit` blocks (consuming finished results) once the window is
/// full, so memory stays bounded however large the input is. Each worker thread builds its own processor
/// (compressors are not shareable) with `makeProcessor`.
final class OrderedExecutor<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Inputs not yet taken by a worker; at most `window` long, so removing from the front is cheap.
    private var pending: [(Int, Input)] = []
    private var results: [Int: Output] = [:]
    private var submitted = 0
    private var consumed = 0
    private var closed = false
    private var running = 0
    private let window: Int
    private let consume: (Output) throws -> Void

    /// - Parameters:
    ///   - workers: worker threads to start.
    ///   - window: batches in flight at most.
    ///   - makeProcessor: called once on each worker thread; the returned closure processes that thread's batches.
    ///   - consume: called on the submitting thread, in order.
    init(workers: Int, window: Int, makeProcessor: @escaping @Sendable () -> (Input) -> Output,
         consume: @escaping (Output) throws -> Void) {
        self.window = max(window, 1)
        self.consume = consume
        running = workers
        for _ in 0..<workers {
            let thread = Thread { [self] in
                let process = makeProcessor()
                self.workerLoop(process)
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    private func workerLoop(_ process: (Input) -> Output) {
        while true {
            condition.lock()
            while pending.isEmpty && !closed { condition.wait() }
            if pending.isEmpty {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            // Taken out of the queue, so the batch is freed as soon as its worker is done with it.
            let (index, input) = pending.removeFirst()
            condition.unlock()
            let output = process(input)
            condition.lock()
            results[index] = output
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Queues one input; consumes finished results, waiting while the window is full.
    func submit(_ input: Input) throws {
        condition.lock()
        pending.append((submitted, input))
        submitted += 1
        condition.broadcast()
        condition.unlock()
        try drain(waitingWhileAtLeast: window)
    }

    /// Consumes results in order until fewer than `limit` are in flight (and whatever else is ready).
    private func drain(waitingWhileAtLeast limit: Int) throws {
        while true {
            condition.lock()
            while results[consumed] == nil && submitted - consumed >= limit && consumed < submitted {
                condition.wait()
            }
            guard let output = results.removeValue(forKey: consumed) else {
                condition.unlock()
                return
            }
            consumed += 1
            condition.unlock()
            try consume(output)
        }
    }

    /// Consumes every remaining result, then stops the workers.
    func finish() throws {
        defer { shutdown() }
        try drain(waitingWhileAtLeast: 1)
    }

    /// Stops the workers, dropping queued inputs; waits for the threads to exit.
    func shutdown() {
        condition.lock()
        closed = true
        pending.removeAll()
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
