import RefineryRecords

/// What the run that wrote a dataset tallied of its data shards as it wrote them, so that its report reads only the
/// reject shards back (``DatasetReport/write(directory:examplesPerReason:threads:tallies:)``).
///
/// The report made with them is the one reading the shards would make: the same counts, samples and texts
/// (`ReportTests` compare the two pages byte for byte).
public struct ReportTallies: Sendable {
    /// The kept records, train shards then validation, in file order.
    public var kept: KeptTally
    /// The samples per category the tally took at most; the report uses it only with the same number of examples.
    public var limit: Int
    /// The JSON lines of kept records whose texts duplicate pairs may show, by id: the survivors of the first
    /// `limit` dedup drops of each reason that ``mayShowPair(reason:detail:)`` (a pair wanting another falls back to
    /// reading the data shards).
    public var keptLines: [String: [UInt8]]

    public init(kept: KeptTally, limit: Int, keptLines: [String: [UInt8]]) {
        self.kept = kept
        self.limit = limit
        self.keptLines = keptLines
    }

    /// Whether a reject of `reason` with `detail` can be shown as a duplicate pair: it matched the record its cluster
    /// keeps, and that record is in this version (not a published one).
    public static func mayShowPair(reason: String, detail: String) -> Bool {
        (reason == "exact_duplicate" || reason == "near_duplicate") && !detail.contains("its group keeps") && !detail.contains("published in")
    }
}
