import RefineryRecords

/// What decoding one unit produced: records in input order, rejects, and counts of repairs the reader made.
public struct DecodedUnit: Sendable {
    public var records: [Record] = []
    public var rejects: [UnitReject] = []
    /// Reader events (e.g. `subtitle_redecoded`, `cue_end_before_start`), added to the `read` stage's events.
    public var events: [String: Int] = [:]

    public init() {}

    /// Quarantines a part of the unit: the reject's id and location are the unit's, at `line` when given.
    public mutating func reject(_ failure: DecodeFailure, context: UnitContext, line: Int? = nil, raw: UnsafeBufferPointer<UInt8>) {
        reject(failure, context: context, line: line, raw: String(decoding: raw, as: UTF8.self))
    }

    /// Quarantines a part of the unit given as text.
    public mutating func reject(_ failure: DecodeFailure, context: UnitContext, line: Int? = nil, raw: String) {
        var at = context
        if let line { at.line = line }
        rejects.append(UnitReject(id: at.recordID, failure: failure, location: at.location, raw: raw))
    }

    /// Counts one reader event.
    public mutating func note(_ event: String, count: Int = 1) {
        if count > 0 { events[event, default: 0] += count }
    }
}

/// A piece of input that could not become a record.
public struct UnitReject: Sendable {
    public var id: String
    public var failure: DecodeFailure
    public var location: SourceLocation
    /// The input as it was (or its first bytes), for the quarantine shard.
    public var raw: String

    public init(id: String, failure: DecodeFailure, location: SourceLocation, raw: String) {
        self.id = id
        self.failure = failure
        self.location = location
        self.raw = raw
    }
}
