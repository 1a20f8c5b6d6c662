import Foundation
@testable import RefineryPipeline
import RefineryRecords
import Testing

/// Counts live instances, to see how many inputs the executor keeps alive.
final class Tracked: @unchecked Sendable {
    static let lock = NSLock()
    nonisolated(unsafe) static var live = 0
    nonisolated(unsafe) static var peak = 0
    let value: Int

    init(_ value: Int) {
        self.value = value
        Self.lock.lock()
        Self.live += 1
        Self.peak = max(Self.peak, Self.live)
        Self.lock.unlock()
    }

    deinit {
        Self.lock.lock()
        Self.live -= 1
        Self.lock.unlock()
    }
}

@Suite(.serialized) struct OrderedExecutorTests {
    @Test("results come out in submission order whatever the worker count", arguments: [1, 2, 4])
    func ordered(workers: Int) throws {
        var seen: [Int] = []
        let executor = OrderedExecutor<Int, Int>(
            workers: workers, window: workers * 2 + 1,
            makeProcessor: { { value in
                // Uneven work so later inputs often finish first.
                usleep(UInt32((value * 7919) % 5) * 200)
                return value * 10
            } },
            consume: { seen.append($0) })
        for value in 0..<300 { try executor.submit(value) }
        try executor.finish()
        #expect(seen == (0..<300).map { $0 * 10 })
    }

    @Test("inputs in flight stay within the window: memory does not grow with the input")
    func bounded() throws {
        Tracked.lock.lock()
        Tracked.live = 0
        Tracked.peak = 0
        Tracked.lock.unlock()
        let window = 5
        let executor = OrderedExecutor<Tracked, Int>(
            workers: 2, window: window, makeProcessor: { { $0.value } }, consume: { _ in })
        for value in 0..<2000 { try executor.submit(Tracked(value)) }
        try executor.finish()
        // The window, plus one being made by the submitter and one per worker just finishing.
        #expect(Tracked.peak <= window + 3, "peak \(Tracked.peak) live inputs")
        #expect(Tracked.live == 0)
    }

    @Test("a consumer failure stops the run and the workers exit")
    func failureStops() {
        struct Stop: Error {}
        let executor = OrderedExecutor<Int, Int>(
            workers: 2, window: 3, makeProcessor: { { $0 } },
            consume: { if $0 == 50 { throw Stop() } })
        #expect(throws: Stop.self) {
            for value in 0..<1000 { try executor.submit(value) }
            try executor.finish()
        }
        executor.shutdown()
    }
}

/// Serial work on a thread of its own beside the executor's (the dedup index segment while the shards are written).
@Suite struct BackgroundWorkTests {
    @Test("runs on another thread; wait gives its value, or what it threw, as often as it is called")
    func valueAndError() throws {
        let caller = Thread.current
        let work = BackgroundWork { () -> Bool in
            Thread.sleep(forTimeInterval: 0.02)
            return Thread.current != caller
        }
        #expect(try work.wait() == true)
        #expect(try work.wait() == true)
        let failing = BackgroundWork { () -> Int in throw RefineryError(.output, "disk full") }
        for _ in 0..<2 {
            #expect { try failing.wait() } throws: { ($0 as? RefineryError)?.message == "disk full" }
        }
    }
}
