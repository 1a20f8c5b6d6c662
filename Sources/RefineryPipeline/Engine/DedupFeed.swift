import Foundation
import RefineryRecords
import RefineryStages

/// Dedup's resolver, on a thread of its own, fed the spilled records' keys in canonical order a chunk at a time.
///
/// A local run starts it before the map phase and hands it each unit's chunks once the unit is committed (its file is
/// then where the chunks say), so that resolution runs beside the map instead of after it on one core while the
/// other waits. The reduce and the resolve phase feed it every chunk after the map, with a dedup phase's band files
/// when they match. Either way it reads the chunks back from the units' files and adds their records in order, so it
/// decides as a single pass would.
final class DedupFeed: @unchecked Sendable {
    /// A batch's spilled records: their entries, and how many.
    struct Chunk: Sendable {
        var entries: StoredBytes
        var records: Int
    }

    /// What the feed made once every chunk was added.
    struct Outcome {
        var resolver: DedupResolver
        /// Records in and content bytes in.
        var records = 0
        var bytesIn = 0
        /// CPU seconds the feed's thread spent reading and adding records (beside the map it shares the cores with the
        /// workers, so its wall time would count its waits for a core).
        var seconds = 0.0
        /// What loading the published index found (`dedup_published` in stats.json).
        var publishedStats: [String: Any] = [:]
    }

    // Guarded by `condition`: what the thread has still to add, whether more may come, whether it is done.
    private let condition = NSCondition()
    private var pending: [Chunk] = []
    /// Records the whole feed is expected to hold (``expect(records:)``), for the thread to size the resolver.
    private var expected = 0
    private var closed = false
    private var done = false
    private var failure: (any Error)?
    // The thread's own until `done`; taken by `finish()` after, so that the feed holds none of the resolver's memory.
    private var outcome: Outcome!
    private let bandFiles: BandFiles.Reader?

    /// Starts the thread. `bandFiles`: bucket numbers from a dedup phase for these very records, in order.
    init(stage: DedupStage, published: PublishedIndex?, publishedStats: [String: Any] = [:], bandFiles: BandFiles.Reader? = nil,
         expectedRecords: Int = 0) {
        self.bandFiles = bandFiles
        var resolver = bandFiles.map { DedupResolver(stage: stage, published: published, bucketCounts: $0.bucketCounts) }
            ?? DedupResolver(stage: stage, published: published, expectedRecords: expectedRecords)
        // Pairs to verify on their shingle sets wait for the caller (``ShingleSets``), once every record is in.
        resolver.defersVerification = stage.near && stage.verify == .exact
        outcome = Outcome(resolver: resolver, publishedStats: publishedStats)
        let bands = stage.hasher.bands
        let thread = Thread { [self] in run(bands: bands) }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues chunks, in order after those queued before.
    func add(_ chunks: some Collection<Chunk>) {
        guard !chunks.isEmpty else { return }
        condition.lock()
        pending.append(contentsOf: chunks)
        condition.broadcast()
        condition.unlock()
    }

    /// Has the resolver sized for `records` records in all before it adds the next chunk (see
    /// ``DedupResolver/reserveCapacity(records:)``); an estimate, to be raised as it improves.
    func expect(records: Int) {
        condition.lock()
        expected = max(expected, records)
        condition.unlock()
    }

    /// Waits until every queued chunk is added; returns the outcome (the resolver leaves the feed).
    /// - Throws: the first failure reading a chunk back (code `output`, naming the unit's file).
    func finish() throws -> Outcome {
        condition.lock()
        closed = true
        condition.broadcast()
        while !done { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if let failure { throw failure }
        let taken: Outcome = outcome
        outcome = nil
        return taken
    }

    /// Stops the thread without adding what is queued (the run failed); waits for it.
    func shutdown() {
        condition.lock()
        closed = true
        pending.removeAll()
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
        outcome = nil
    }

    private func run(bands: Int) {
        let files = StoredFiles()
        var numbers = [UInt32](repeating: 0, count: bands)
        while true {
            condition.lock()
            while pending.isEmpty && !closed { condition.wait() }
            guard failure == nil, !pending.isEmpty else {
                done = true
                condition.broadcast()
                condition.unlock()
                break
            }
            let chunk = pending.removeFirst()
            let expected = self.expected
            condition.unlock()
            do {
                let started = Stopwatch.threadCPUSeconds()
                outcome.resolver.reserveCapacity(records: expected)
                try SpillEntries.forEachKeys(chunk.entries, count: chunk.records, from: files) { keys in
                    var buckets: [UInt32]?
                    if let bandFiles {
                        try bandFiles.next(into: &numbers)
                        buckets = numbers
                    }
                    if keys.hasKeys {
                        outcome.resolver.add(exact: keys.exact, bands: keys.bands, sketch: keys.sketch, buckets: buckets, quality: keys.quality,
                                             id: { keys.id })
                    } else {
                        outcome.resolver.addWithoutKeys(quality: keys.quality)
                    }
                    outcome.records += 1
                    outcome.bytesIn += keys.contentBytes
                }
                outcome.seconds += Stopwatch.threadCPUSeconds() - started
            } catch {
                condition.lock()
                failure = error
                pending.removeAll()
                condition.unlock()
            }
        }
        files.close()
    }
}
