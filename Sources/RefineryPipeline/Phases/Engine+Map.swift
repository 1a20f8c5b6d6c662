import Foundation
import RefineryReaders
import RefineryRecords

/// Phase 1, the map: units read, staged and committed on every core, in reading order.
extension Engine {
    /// What the map phase counted over its units.
    struct MapTotals {
        var blankLines = 0
        var inputBytes = 0
        var readSeconds = 0.0
        /// Units committed earlier (replayed, or skipped by a map task).
        var reused = 0
        /// Units read and committed by this process.
        var committed = 0
        /// Records read from the units this process read.
        var records = 0
    }

    /// Reads, stages and commits each of `units` that is not committed yet, on `options.workers` threads, and hands
    /// every batch output to `deliver` in reading order; a committed unit is loaded from its file and handed over
    /// instead of read again. Without `deliver` (a map task) committed units are skipped. `committed` is called with each
    /// unit once its outputs are all delivered and its file is committed under its final name.
    /// - Throws: the first failure; the units committed before it stay committed, for the next attempt.
    func map(_ units: [WorkUnit], store: UnitStore, monitor: RunMonitor, committed: ((WorkUnit) -> Void)? = nil,
             deliver: ((BatchOutput) throws -> Void)?) throws -> MapTotals {
        let plan = self.plan
        var totals = MapTotals()
        // The consumer runs on this thread, in unit order: it writes each fresh unit's file as its batches arrive.
        var submitted: [WorkUnit] = []   // every unit submitted, read or replayed, in order
        var delivered = 0                // of them, those whose outputs were all delivered
        var unitWriter: UnitWriter?
        var consumeFailed = false
        // Of the unit being delivered, the input bytes the monitor was told of. Progress is counted in file bytes: a
        // batch's records span fewer (line ends, blank lines) or more (overlapping subtitle windows) bytes than the
        // file has, so a unit's batches count at most its size, and its end makes up the rest.
        var unitBytesShown = 0
        func pass(_ output: BatchOutput) throws {
            try deliver?(output)
            let unitBytes = delivered < submitted.count ? submitted[delivered].bytes : 0
            let bytes = min(output.counters.first?.bytesIn ?? 0, max(0, unitBytes - unitBytesShown))
            unitBytesShown += bytes
            monitor.add(bytes: bytes, records: output.counters.first?.recordsIn ?? 0)
        }
        func endUnit(_ end: UnitEnd, reusedUnit: Bool) {
            totals.blankLines += end.counts.blankLines
            totals.inputBytes += end.counts.bytes
            if end.counts.bytes > unitBytesShown { monitor.add(bytes: end.counts.bytes - unitBytesShown, records: 0) }
            unitBytesShown = 0
            monitor.unitFinished(reused: reusedUnit)
        }
        func consume(_ result: UnitResult) throws {
            switch result {
            case .batch(var output):
                try RunStop.check()
                if let failure = output.failure { throw RefineryError(.internal, "batch \(output.index) failed: \(failure)") }
                if unitWriter == nil { unitWriter = try store.begin(submitted[delivered]) }
                let stored = try unitWriter!.append(output)
                output.spill?.stored = stored
                totals.records += output.counters.first?.recordsIn ?? 0
                try pass(output)
            case .end(let end):
                let unitFile = try unitWriter ?? store.begin(submitted[delivered])
                unitWriter = unitFile   // abandoned (its temporary file removed) if the commit fails
                try store.commit(unitFile, end: end)
                committed?(submitted[delivered])
                unitWriter = nil
                delivered += 1
                endUnit(end, reusedUnit: false)
                totals.committed += 1
                StopPoint.reached("unit:\(totals.committed)")
            case .replayed(let outputs, let end):
                for output in outputs { try pass(output) }
                committed?(submitted[delivered])
                delivered += 1
                endUnit(end, reusedUnit: true)
            case .failed(let error):
                throw error
            }
        }
        // As many as the batches in flight: each worker's, and those waiting in the window.
        let buffers = BatchBuffers(limit: options.workers * 2 + 2)
        let executor = OrderedExecutor<UnitWork, UnitResult>(
            workers: options.workers, window: options.workers * 2 + 1,
            makeProcessor: {
                let processor = Result { try BatchProcessor(plan: plan) }
                return { work in
                    let result = UnitResult.make(work, processor: processor)
                    if case .batch(let batch) = work { buffers.recycle(batch.buffer) }
                    return result
                }
            },
            consume: { result in
                do {
                    try consume(result)
                } catch {
                    consumeFailed = true
                    throw error
                }
            })

        do {
            monitor.phase("map")
            StopPoint.reached("unit:0")
            let builder = BatchBuilder(maxRecords: plan.spec.engine.batchRecords, maxBytes: plan.spec.engine.batchBytes, buffers: buffers) {
                try executor.submit(.batch($0))
            }
            do {
                for unit in units {
                    monitor.unitStarted(unit.name)
                    if deliver == nil && store.isCommitted(unit) {
                        totals.reused += 1
                        monitor.unitFinished(reused: true)
                        continue
                    }
                    if deliver != nil, let record = store.reusable(unit) {
                        submitted.append(unit)
                        try executor.submit(.replay(record, firstBatch: builder.nextBatchIndex, sourceIndex: unit.sourceIndex))
                        builder.skip(batches: record.batches)
                        totals.reused += 1
                        continue
                    }
                    var clock = Stopwatch()
                    let first = builder.nextBatchIndex
                    submitted.append(unit)
                    try builder.begin(sourceIndex: unit.sourceIndex)
                    let counts = try plan.formats[unit.sourceIndex].splitSource(unit.files, into: builder)
                    try builder.flush()
                    try Self.checkUnchanged(unit)
                    try executor.submit(.end(UnitEnd(counts: counts, batches: builder.nextBatchIndex - first)))
                    totals.readSeconds += clock.lap()
                    logger.debug("read unit", metadata: ["unit": "\(unit.name)", "unit.lines": "\(counts.lines)"])
                }
            } catch where !consumeFailed {
                // Reading failed (an input changed or became unreadable): commit the units read before it, so that
                // the next run resumes after them. Not after a failed write: a unit must never miss a batch.
                try? executor.finish()
                throw error
            }
            try executor.finish()
        } catch {
            executor.shutdown()
            unitWriter?.abandon()
            throw error
        }
        if totals.reused > 0 {
            logger.info("resumed: reused the committed work of earlier runs", metadata: ["units.reused": "\(totals.reused)", "units": "\(units.count)"])
        }
        return totals
    }

    /// Fails the reduce phase when a unit is not committed: the map task that reads it has not succeeded.
    static func requireMapped(_ units: [WorkUnit], isCommitted: (WorkUnit) -> Bool) throws {
        let missing = units.filter { !isCommitted($0) }
        guard !missing.isEmpty else { return }
        let names = missing.prefix(5).map(\.name).joined(separator: ", ") + (missing.count > 5 ? ", …" : "")
        throw RefineryError(.resume,
            "the map phase is not finished: \(missing.count) of \(units.count) unit(s) are not committed (\(names)). "
            + "Run the map tasks that own them (`refinery status` names those that failed; the same `refinery run SPEC --executor slurm` "
            + "resubmits only those), check that every task sees the same .work folder (a shared filesystem), "
            + "or run without --phase to read the missing units in this process")
    }
}
