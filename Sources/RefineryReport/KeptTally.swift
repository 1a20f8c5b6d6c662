import Foundation
import RefineryRecords
import RefineryShards

/// What the data shards contribute to the report: the mixes after balancing, the histograms, the sample records
/// per category, and the texts of the kept records duplicate pairs show.
///
/// One tally per piece of a shard, built on several threads, then appended to each other in file order
/// (``append(_:limit:)``): counts add up, and samples and texts are taken in the order a single pass would meet them,
/// so the report is the same whatever the number of threads.
///
/// A run that writes the shards tallies its kept records as it writes them, from their ``RecordFacts``
/// (``add(_:id:copy:line:limit:)``), one tally per batch and split, and hands the report the whole
/// (``ReportTallies``): reading them back cost the 1 GB benchmark's run 2.4 s of its 28 (decompressing them again,
/// and skimming every line).
public struct KeptTally: Sendable {
    var mixes = MixTally()
    var histograms = Histogram.recordMeasures()
    /// Sample records, at most `limit` per category, in shard order.
    var samples: [RecordSample] = []
    /// Samples taken per category (by the tallies before this one, too, when it started from theirs).
    private var sampled: [String: Int] = [:]
    /// Texts of the ids asked for (a duplicate's kept record), the first occurrence of each.
    var found: [String: String] = [:]

    /// The samples shown of each category, at most: ``DatasetReport``'s `examplesPerReason` by default.
    public static let defaultLimit = 5

    public init() {}

    /// A tally of records after those that took `samplesTaken` samples per category: it takes no sample of a
    /// category that has its limit (``samplesTaken``).
    public init(samplesTaken: [String: Int]) {
        sampled = samplesTaken
    }

    /// Samples taken per category, by this tally and those before it.
    public var samplesTaken: [String: Int] { sampled }

    /// Counts one kept record from what the run knows of it, as ``add(_:wanted:limit:exampleText:)`` would count its
    /// line; the line is parsed only when the record becomes a sample.
    /// - Parameters:
    ///   - id: the id it is written with; `copy`: whether that id marks an up-sampled copy
    ///     (``isUpSampledCopy(_:)``).
    ///   - line: its JSON line, as written.
    /// - Throws: ``RefineryError`` (code `internal`) when a line to sample is not a JSON object.
    public mutating func add(_ facts: RecordFacts, id: String, copy: Bool, line: ArraySlice<UInt8>, limit: Int) throws {
        if !copy, sampled[facts.category ?? "(none)", default: 0] < limit {
            let value = try ReportTallies.parse(line, what: "record \(id)")
            add(DatasetRecord(value: value, shard: 0, file: "", line: 0), wanted: [], limit: limit, exampleText: .standard)
            return
        }
        count(facts.measures(copy: copy), quality: facts.quality, toxicity: facts.toxicity, lang: facts.langScore, reward: facts.reward)
    }

    /// Whether `id` marks an up-sampled copy (it ends in `#r` and a number from 2 on): counted after balancing only.
    public static func isUpSampledCopy(_ id: String) -> Bool {
        RecordMeasures.isUpSampledCopy(id)
    }

    /// Counts one kept record.
    /// - Parameters:
    ///   - wanted: ids whose text the duplicate pairs need.
    ///   - limit: samples kept per category.
    mutating func add(_ record: DatasetRecord, wanted: Set<String>, limit: Int, exampleText: ExampleText) {
        let value = record.value
        let measures = RecordMeasures(value)
        count(measures, quality: value["scores"]?["quality"]?.doubleValue, toxicity: value["scores"]?["toxicity"]?.doubleValue,
              lang: value["scores"]?["lang"]?.doubleValue, reward: value["reward"]?.doubleValue)
        guard !measures.isCopy else { return }
        let category = measures.key("category")
        if sampled[category, default: 0] < limit {
            sampled[category, default: 0] += 1
            samples.append(RecordSample(category: category, id: record.id,
                                        text: exampleText.render(ExampleText.content(of: value)).text))
        }
        let id = record.id
        if wanted.contains(id), found[id] == nil {
            found[id] = exampleText.render(ExampleText.content(of: value)).text
        }
    }

    /// Counts one kept record from its line, skimmed (``RecordSkim``); parsed, as ``add(_:wanted:limit:exampleText:)``
    /// does, when the skim gives up or the record's text is wanted (a sample, or a duplicate's kept record).
    /// - Throws: ``RefineryError`` (code `integrity`) when the line is not a JSON object.
    mutating func add(_ line: DatasetLine, wanted: Set<String>, limit: Int, exampleText: ExampleText) throws {
        guard let skim = RecordSkim(line.bytes) else {
            add(try line.record(), wanted: wanted, limit: limit, exampleText: exampleText)
            return
        }
        let measures = skim.measures
        if !measures.isCopy {
            var textWanted = sampled[measures.key("category"), default: 0] < limit
            if !textWanted && !wanted.isEmpty {
                // The id as DatasetRecord has it.
                let id = skim.id(in: line.bytes) ?? "\(line.file):\(line.line)"
                textWanted = wanted.contains(id) && found[id] == nil
            }
            if textWanted {
                add(try line.record(), wanted: wanted, limit: limit, exampleText: exampleText)
                return
            }
        }
        count(measures, quality: skim.quality, toxicity: skim.toxicity, lang: skim.lang, reward: skim.reward)
    }

    /// Adds a record's measures to the mixes and histograms.
    private mutating func count(_ measures: RecordMeasures, quality: Double?, toxicity: Double?, lang: Double?, reward: Double?) {
        for field in MixTally.fields {
            mixes.addAfter(field: field, value: measures.key(field), chars: measures.chars, copy: measures.isCopy)
        }
        // In the order of Histogram.recordMeasures().
        histograms[0].add(quality)
        histograms[1].add(toxicity)
        histograms[2].add(lang)
        if measures.hasContent {
            histograms[3].add(measures.chars)
            histograms[4].add(measures.words)
        } else {
            histograms[3].add(nil as Double?)
            histograms[4].add(nil as Double?)
        }
        histograms[5].add(measures.turns.map(Double.init))
        histograms[6].add(reward)
    }

    /// Adds the tally of the records after this one's (which started from no more samples than this one has).
    public mutating func append(_ later: KeptTally, limit: Int) {
        mixes.add(later.mixes)
        for index in histograms.indices { histograms[index].add(later.histograms[index]) }
        for sample in later.samples where sampled[sample.category, default: 0] < limit {
            sampled[sample.category, default: 0] += 1
            samples.append(sample)
        }
        for (id, text) in later.found where found[id] == nil { found[id] = text }
    }

    /// The tally of `entries` (data shards, in manifest order), read in pieces on up to `threads` threads
    /// (``DatasetRecords/readInPieces(_:threads:smallestPiece:breaksBatch:start:add:combine:)``); each piece starts
    /// from the samples already taken, so that it renders no sample of a category that has its `limit`.
    /// - Throws: the first error in shard order, as a single pass would.
    static func read(_ entries: [ShardEntry], of records: DatasetRecords, threads: Int, smallestPiece: Int, wanted: Set<String>,
                     limit: Int, exampleText: ExampleText) throws -> KeptTally {
        var total = KeptTally()
        try records.readLinesInPieces(entries, threads: threads, smallestPiece: smallestPiece, start: {
            let sampled = total.sampled
            return { KeptTally(samplesTaken: sampled) }
        }, add: { tally, line in
            try tally.add(line, wanted: wanted, limit: limit, exampleText: exampleText)
        }, combine: { total.append($0, limit: limit) })
        return total
    }
}
