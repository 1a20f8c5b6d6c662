import Foundation
import RefineryRecords

/// `manifest.json`: what a dataset version holds and how it was made. Written last: a folder without one is
/// not a dataset. It holds no timestamps or timings (those go to `stats.json`), so the same inputs and spec
/// give the same manifest byte for byte.
public struct Manifest: Codable, Sendable, Equatable {
    /// Format marker, `refinery.dataset/1`.
    public var format: String
    public var dataset: String
    public var version: String
    /// XXH3-64 (hex) of the spec's canonical YAML.
    public var configHash: String
    public var spec: String
    public var inputs: [InputFingerprint]
    public var shards: [ShardEntry]
    public var rejects: [ShardEntry]
    public var splits: [String: SplitSummary]
    public var stages: [StageCounters]
    /// The funnel per spec source, in spec order (absent in manifests written before it existed).
    public var sources: [SourceCounters]?
    /// Per category, what went into the global stages (dedup, balance) and what they wrote; absent without them.
    public var categoryMix: [String: CategoryMix]?
    public var totals: Totals

    enum CodingKeys: String, CodingKey {
        case format, dataset, version, configHash = "config_hash", spec, inputs, shards, rejects, splits, stages, sources,
             categoryMix = "category_mix", totals
    }

    public static let currentFormat = "refinery.dataset/1"
    /// The Refinery release; part of a dataset version's identity, since a release may write other bytes.
    public static let refineryVersion = "0.3.0"

    public init(dataset: String, version: String, configHash: String, spec: String, inputs: [InputFingerprint],
                shards: [ShardEntry], rejects: [ShardEntry], splits: [String: SplitSummary], stages: [StageCounters], sources: [SourceCounters]? = nil,
                categoryMix: [String: CategoryMix]? = nil, totals: Totals) {
        format = Self.currentFormat
        self.dataset = dataset
        self.version = version
        self.configHash = configHash
        self.spec = spec
        self.inputs = inputs
        self.shards = shards
        self.rejects = rejects
        self.splits = splits
        self.stages = stages
        self.sources = sources
        self.categoryMix = categoryMix
        self.totals = totals
    }

    /// Pretty JSON with sorted keys: stable bytes for stable content.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Reads `manifest.json` from a dataset folder.
    /// - Throws: ``RefineryError`` with code `integrity` when missing or malformed.
    public static func read(directory: String) throws -> Manifest {
        let path = (directory as NSString).appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RefineryError(.integrity, "no manifest.json here: not a dataset folder (or a run that did not finish)", at: SourceLocation(file: directory))
        }
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw RefineryError(.integrity, "manifest.json is not a Refinery manifest: \(error)", at: SourceLocation(file: path))
        }
    }
}

/// One input file as it was when the run read it.
public struct InputFingerprint: Codable, Sendable, Equatable {
    public var source: String
    /// Path relative to the spec's folder.
    public var path: String
    public var bytes: Int
    /// XXH3-64 (hex) of the file's bytes on disk.
    public var xxh3: String

    public init(source: String, path: String, bytes: Int, xxh3: String) {
        self.source = source
        self.path = path
        self.bytes = bytes
        self.xxh3 = xxh3
    }
}

/// One shard file (data or rejects).
public struct ShardEntry: Codable, Sendable, Equatable {
    /// File name relative to the dataset folder, e.g. `train-00000-of-00002.jsonl.zst`.
    public var file: String
    /// `train`, `validation`, or for rejects the stage name.
    public var split: String
    public var records: Int
    /// Size on disk.
    public var bytes: Int
    public var uncompressedBytes: Int
    /// XXH3-64 (hex) of the file's bytes on disk.
    public var xxh3: String
    /// Records per category (`"(none)"` for records without one); reject shards count by reason.
    public var categories: [String: Int]

    enum CodingKeys: String, CodingKey {
        case file, split, records, bytes, uncompressedBytes = "uncompressed_bytes", xxh3, categories
    }

    public init(file: String, split: String, records: Int, bytes: Int, uncompressedBytes: Int, xxh3: String, categories: [String: Int]) {
        self.file = file
        self.split = split
        self.records = records
        self.bytes = bytes
        self.uncompressedBytes = uncompressedBytes
        self.xxh3 = xxh3
        self.categories = categories
    }
}

/// Records and categories of one split.
public struct SplitSummary: Codable, Sendable, Equatable {
    public var records: Int
    public var shards: Int
    public var categories: [String: Int]

    public init(records: Int, shards: Int, categories: [String: Int]) {
        self.records = records
        self.shards = shards
        self.categories = categories
    }
}

/// What one stage saw and did. `read` is the first row: units read in, records parsed out.
public struct StageCounters: Codable, Sendable, Equatable {
    public var name: String
    public var recordsIn: Int
    public var recordsOut: Int
    /// Drops by named reason.
    public var dropped: [String: Int]
    /// Changes made to kept records, by name.
    public var events: [String: Int]
    /// Content bytes (UTF-8 of text or message contents) going in and coming out.
    public var bytesIn: Int
    public var bytesOut: Int

    enum CodingKeys: String, CodingKey {
        case name, recordsIn = "records_in", recordsOut = "records_out", dropped, events, bytesIn = "bytes_in", bytesOut = "bytes_out"
    }

    public init(name: String) {
        self.name = name
        recordsIn = 0
        recordsOut = 0
        dropped = [:]
        events = [:]
        bytesIn = 0
        bytesOut = 0
    }

    /// Records dropped for any reason.
    public var droppedTotal: Int { dropped.values.reduce(0, +) }

    /// Adds another tally of the same stage.
    public mutating func merge(_ other: StageCounters) {
        recordsIn += other.recordsIn
        recordsOut += other.recordsOut
        bytesIn += other.bytesIn
        bytesOut += other.bytesOut
        dropped.merge(other.dropped, uniquingKeysWith: +)
        events.merge(other.events, uniquingKeysWith: +)
    }
}

/// One source's share of the run: what it read, what reached the shards, and why the rest was dropped.
public struct SourceCounters: Codable, Sendable, Equatable {
    public var name: String
    public var kind: String
    public var files: Int
    /// Records and rejects its reader produced.
    public var read: Int
    public var written: Int
    public var quarantined: Int
    /// `stage.reason` → count.
    public var dropped: [String: Int]

    public init(name: String, kind: String, files: Int) {
        self.name = name
        self.kind = kind
        self.files = files
        read = 0
        written = 0
        quarantined = 0
        dropped = [:]
    }
}

/// One category's records and characters (Unicode scalars of text or message contents) before the global stages
/// (what dedup and balancing were given) and after them (what was written, repeats included).
public struct CategoryMix: Codable, Sendable, Equatable {
    public var recordsBefore: Int
    public var charsBefore: Int
    public var recordsAfter: Int
    public var charsAfter: Int

    enum CodingKeys: String, CodingKey {
        case recordsBefore = "records_before", charsBefore = "chars_before", recordsAfter = "records_after", charsAfter = "chars_after"
    }

    public init(recordsBefore: Int = 0, charsBefore: Int = 0, recordsAfter: Int = 0, charsAfter: Int = 0) {
        self.recordsBefore = recordsBefore
        self.charsBefore = charsBefore
        self.recordsAfter = recordsAfter
        self.charsAfter = charsAfter
    }
}

/// The run's accounting: `read + repeats == written + quarantined`, and `quarantined` is the sum over reasons.
public struct Totals: Codable, Sendable, Equatable {
    /// Input units read (lines, paragraphs, files), blank lines excluded.
    public var read: Int
    /// Records written to train and validation shards.
    public var written: Int
    /// Units and records written to rejects.
    public var quarantined: Int
    /// `stage.reason` → count, over every stage.
    public var quarantinedByReason: [String: Int]
    /// Blank lines skipped by line readers (not records).
    public var blankLines: Int
    /// Extra copies written by balancing's up-sampling (a record written three times adds 2).
    public var repeats: Int

    enum CodingKeys: String, CodingKey {
        case read, written, quarantined, quarantinedByReason = "quarantined_by_reason", blankLines = "blank_lines", repeats
    }

    public init(read: Int, written: Int, quarantined: Int, quarantinedByReason: [String: Int], blankLines: Int, repeats: Int = 0) {
        self.read = read
        self.written = written
        self.quarantined = quarantined
        self.quarantinedByReason = quarantinedByReason
        self.blankLines = blankLines
        self.repeats = repeats
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        read = try container.decode(Int.self, forKey: .read)
        written = try container.decode(Int.self, forKey: .written)
        quarantined = try container.decode(Int.self, forKey: .quarantined)
        quarantinedByReason = try container.decode([String: Int].self, forKey: .quarantinedByReason)
        blankLines = try container.decode(Int.self, forKey: .blankLines)
        // Manifests written before balancing existed have no repeats.
        repeats = try container.decodeIfPresent(Int.self, forKey: .repeats) ?? 0
    }

    /// Whether every record read is accounted for: `read + repeats == written + quarantined`.
    public var balances: Bool {
        read + repeats == written + quarantined && quarantined == quarantinedByReason.values.reduce(0, +)
    }
}
