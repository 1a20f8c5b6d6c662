import RefineryRecords

/// What the run that wrote a dataset tallied of what finalize wrote (the data shards, dedup's and balance's rejects) as
/// it wrote it, so that its report reads back only the per-record stages' reject shards
/// (``DatasetReport/write(directory:examplesPerReason:threads:tallies:)``).
///
/// The report made with them is the one reading the shards would make: the same counts, samples and texts
/// (`ReportTests` compare the two pages byte for byte).
public struct ReportTallies: Sendable {
    /// The kept records, train shards then validation, in file order.
    public var kept: KeptTally
    /// The rejects of the stages whose reject shards the run wrote last (dedup's and balance's, written with the data
    /// shards), by stage: those shards are not read either.
    public var rejects: [String: RejectsTally]
    /// The samples per category the tally took at most; the report uses it only with the same number of examples.
    public var limit: Int
    /// The JSON lines of kept records whose texts duplicate pairs may show, by id: the survivors of the first
    /// `limit` dedup drops of each reason that ``mayShowPair(reason:detail:)`` (a pair wanting another falls back to
    /// reading the data shards).
    public var keptLines: [String: [UInt8]]

    public init(kept: KeptTally, rejects: [String: RejectsTally], limit: Int, keptLines: [String: [UInt8]]) {
        self.kept = kept
        self.rejects = rejects
        self.limit = limit
        self.keptLines = keptLines
    }

    /// A line the run wrote (a kept record's or a reject's), parsed for a sample, an example or a pair; `what` names it.
    /// - Throws: ``RefineryError`` (code `internal`) when it is not JSON.
    static func parse(_ line: ArraySlice<UInt8>, what: String) throws -> JSONValue {
        do {
            return try line.withUnsafeBufferPointer { try JSONParser.parse($0).value }
        } catch {
            throw RefineryError(.internal, "\(what) was written as a line that is not JSON: \(error)")
        }
    }

    /// Whether a reject of `reason` with `detail` can be shown as a duplicate pair: it matched the record its cluster
    /// keeps, and that record is in this version (not a published one).
    public static func mayShowPair(reason: String, detail: String) -> Bool {
        (reason == "exact_duplicate" || reason == "near_duplicate") && !detail.contains("its group keeps") && !detail.contains("published in")
    }
}

/// What the rejects of one stage contribute to the report, tallied by the run that writes them: one tally per batch,
/// appended to each other in batch order (the reject shards' order), as ``RejectTally`` pieces are.
public struct RejectsTally: Sendable {
    var piece: RejectPiece

    /// An empty tally, taking up to `limit` examples of each reason (and duplicate pairs of each kind).
    public init(limit: Int) {
        piece = RejectPiece(tally: RejectTally(limit: limit))
    }

    /// An empty tally of the rejects after `earlier`'s: it parses no line for an example of a reason that has its
    /// limit there.
    public init(after earlier: RejectsTally) {
        piece = RejectPiece(tally: earlier.piece.tally.startingPoint)
    }

    /// Counts one reject as its written line would count (``RecordFacts`` of the record it holds), parsing the line
    /// only when it gives an example or a duplicate pair.
    /// - Parameters:
    ///   - keptID: the record kept in its place (a duplicate's survivor); `line`: the reject line, without its newline.
    /// - Throws: ``RefineryError`` (code `internal`) when a line to parse is not JSON.
    public mutating func add(stage: String, reason: String, keptID: String?, facts: RecordFacts, line: ArraySlice<UInt8>) throws {
        try piece.add(stage: stage, reason: reason, keptID: keptID, facts: facts, line: line, exampleText: .standard)
    }

    /// Adds the tally of the rejects after this one's (started ``init(after:)`` this one or an earlier one).
    public mutating func append(_ later: RejectsTally) {
        piece.tally.append(later.piece.tally)
        piece.mixesBefore.add(later.piece.mixesBefore)
    }
}
