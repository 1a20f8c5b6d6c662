import RefineryRecords

/// What a stage decided about one record.
public enum StageDecision: Sendable, Equatable {
    /// Pass the (possibly changed) record on.
    case keep
    /// Drop the record to quarantine with a named reason (`too_short`) and a detail for people.
    case drop(reason: String, detail: String)
}

/// Counts one worker keeps for one stage while it processes a batch; merged in order afterwards.
public struct StageTally: Sendable {
    /// Things a stage did to records it kept (`utf8_repaired`, `nfc_normalized`, …), by name.
    public var events: [String: Int] = [:]
    /// The worker's buffers, which stages reuse from record to record (the engine hands every batch the same).
    public let scratch: StageScratch

    public init(scratch: StageScratch = StageScratch()) {
        self.scratch = scratch
    }

    /// Adds `count` to the event `name`.
    public mutating func note(_ name: String, _ count: Int = 1) {
        events[name, default: 0] += count
    }
}

/// A stage that looks at one record at a time. The engine runs it on every core, over batches, and keeps the
/// output in input order; a stage must therefore be deterministic and hold no mutable shared state.
///
/// Stages plug in by conforming to this protocol and adding one line to ``StageRegistry``; the engine does not
/// change.
public protocol Stage: Sendable {
    /// The name used in the spec, in counters and in `rejects/<name>-NNNNN.jsonl.zst`.
    var name: String { get }

    /// Looks at one record, may change it, and decides whether it goes on. `view` holds the record's words, lines
    /// and paragraphs, built once for all stages; a stage that changes the text calls `view.invalidate()`.
    func process(_ record: inout Record, view: inout RecordView, tally: inout StageTally) -> StageDecision
}

extension Stage {
    /// Processes a record with a fresh view (tests, and callers that run one stage alone).
    public func process(_ record: inout Record, tally: inout StageTally) -> StageDecision {
        var view = RecordView()
        return process(&record, view: &view, tally: &tally)
    }
}
