import RefineryShards

/// Everything the report shows about one dataset version, read from its folder in one streaming pass.
///
/// ``numbers`` is what goes into `stats.json` under `report`; the rest (example texts, the shard table, the input
/// fingerprints and the spec) is for the page, and the manifest already holds the last three for machines. Nothing
/// in it depends on the clock or on where the folder is, so the same dataset gives the same bytes.
public struct ReportData: Codable, Sendable, Equatable {
    /// The numbers, for machines (`stats.json`'s `report`).
    public var numbers: ReportNumbers
    /// Up to N rejects per stage and reason, in file order, PII redacted and truncated.
    public var examples: [RejectExample]
    /// Example duplicate pairs with both texts, redacted and truncated.
    public var pairs: [DuplicatePair]
    /// The first written records of each category, in shard order, redacted and truncated: what the dataset holds.
    public var samples: [RecordSample]
    /// Data shards then reject shards, in manifest order.
    public var shards: [ShardEntry]
    /// The input files the run read.
    public var inputs: [InputFingerprint]
    /// The pipeline spec's text.
    public var spec: String
}

/// The report's numbers: funnel, drops, mixes, histograms and duplicate clusters.
public struct ReportNumbers: Codable, Sendable, Equatable {
    /// Format marker, `refinery.report/1`.
    public var format: String
    public var dataset: String
    public var version: String
    public var configHash: String
    /// Units read, records written (repeats included), quarantined, repeats, blank lines: the manifest's totals.
    public var totals: ReportTotals
    /// One row per stage, `read` first, from the manifest's counters.
    public var funnel: [FunnelStage]
    /// Every (stage, reason) with drops, in stage order then by count.
    public var drops: [DropReason]
    /// Category, source and language mix before and after balancing.
    public var mixes: [Mix]
    /// Score and length distributions of the written records.
    public var histograms: [Histogram]
    /// Duplicate clusters found by dedup.
    public var duplicates: DuplicateSummary

    public static let currentFormat = "refinery.report/1"
}

/// The run's accounting, as in the manifest.
public struct ReportTotals: Codable, Sendable, Equatable {
    public var read: Int
    public var written: Int
    public var quarantined: Int
    public var repeats: Int
    public var blankLines: Int
}

/// One stage's records and content bytes in and out.
public struct FunnelStage: Codable, Sendable, Equatable {
    public var stage: String
    public var recordsIn: Int
    public var recordsOut: Int
    public var dropped: Int
    /// UTF-8 bytes of text or message contents, as the engine counted them.
    public var bytesIn: Int
    public var bytesOut: Int
    /// `dropped / recordsIn`, 0 for a stage that saw nothing.
    public var dropShare: Double
    /// `recordsOut / totals.read`: what is left of the input after this stage.
    public var remainingShare: Double
}

/// Records one stage dropped for one reason.
public struct DropReason: Codable, Sendable, Equatable {
    public var stage: String
    public var reason: String
    public var records: Int
    /// Characters (Unicode scalars) of what was quarantined: the record's content, or the raw text of a unit the
    /// reader could not turn into a record.
    public var chars: Int
    /// Share of the stage's input.
    public var shareOfStage: Double
    /// Share of all units read.
    public var shareOfRead: Double
    /// Examples the report holds for it.
    public var examples: Int

    /// `stage.reason`, as in the manifest's `quarantined_by_reason`.
    public var key: String { "\(stage).\(reason)" }
}

/// A mix of the data by one field (category, source, language), before and after balancing.
public struct Mix: Codable, Sendable, Equatable {
    /// `category`, `source` or `lang`.
    public var field: String
    /// One row per value, most records after balancing first, then by name; `(none)` for records without one.
    public var rows: [MixRow]
}

/// One value's records and characters before balancing (kept records plus those balancing dropped, copies not
/// counted) and after it (written records, up-sampled copies counted).
public struct MixRow: Codable, Sendable, Equatable {
    public var name: String
    public var recordsBefore: Int
    public var charsBefore: Int
    public var recordsAfter: Int
    public var charsAfter: Int
}

/// A fixed-bin histogram of one measure over the written records.
public struct Histogram: Codable, Sendable, Equatable {
    /// `quality`, `toxicity`, `lang_confidence`, `length_chars`, `length_words`, `turns`, `reward`.
    public var name: String
    /// What the x axis measures, with its unit.
    public var axis: String
    /// One bin each; the last may be open (`upper` nil).
    public var bins: [HistogramBin]
    /// Records that had the measure (the sum of the bins).
    public var records: Int
    /// Records without it (no score, not a chat, no reward).
    public var missing: Int
}

/// Records with a value in `lower..<upper`; a `nil` bound is open (below the first edge, at or above the last).
/// A histogram without open bins counts values beyond its edges (a score of exactly 1, say) in its end bins.
public struct HistogramBin: Codable, Sendable, Equatable {
    public var lower: Double?
    public var upper: Double?
    public var count: Int
}

/// Duplicate clusters: a kept record and every record dropped as its duplicate.
public struct DuplicateSummary: Codable, Sendable, Equatable {
    public var exactDuplicates: Int
    public var nearDuplicates: Int
    /// Clusters (kept records with at least one duplicate dropped).
    public var clusters: Int
    public var largestCluster: Int
    /// Cluster sizes (kept record included), binned 2, 3, 4, 5, 6–10, 11–20, 21–50, 51+.
    public var sizes: Histogram
}

/// One quarantined record or unit, as the report shows it.
public struct RejectExample: Codable, Sendable, Equatable {
    public var id: String
    public var stage: String
    public var reason: String
    public var detail: String
    /// Input file and line it came from.
    public var file: String
    public var line: Int?
    /// Its text (chat turns as `role: content` lines), PII redacted, truncated.
    public var text: String
    /// Whether `text` was cut.
    public var truncated: Bool
    /// PII matches replaced by placeholders.
    public var redactions: Int
}

/// A written record, as the report shows it.
public struct RecordSample: Codable, Sendable, Equatable {
    public var category: String
    public var id: String
    /// Its text (chat turns as `role: content` lines), PII redacted, truncated.
    public var text: String
}

/// A record dropped as a duplicate beside the one it matched.
public struct DuplicatePair: Codable, Sendable, Equatable {
    /// `exact_duplicate` or `near_duplicate`.
    public var reason: String
    /// Estimated (or verified) Jaccard similarity; 1 for exact duplicates.
    public var jaccard: Double
    public var droppedID: String
    public var droppedText: String
    public var keptID: String
    /// The kept record's text, or `nil` when it is not in this version (a published one, or not found).
    public var keptText: String?
}
