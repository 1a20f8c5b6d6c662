import Foundation
import RefineryRecords
import RefineryShards
import RefineryStages

/// Reads a dataset folder once and gathers what the report shows: reject shards first (drops, examples,
/// duplicate clusters, what balancing dropped), then the data shards (histograms, mixes, the texts of duplicate
/// pairs' kept records).
///
/// Streaming: shards are read in batches of about 64 MiB decompressed per thread, in pieces on several threads
/// (``DatasetRecords/readInPieces(_:threads:smallestPiece:breaksBatch:start:add:combine:)``), each piece into a tally
/// of its own, and the tallies are appended to each other in file order (``KeptTally``, ``RejectTally``); every
/// shard's size and checksum is verified against the manifest before its records are used. What is held besides is
/// bounded by the report's size (examples, bins, mix rows) and by the number of duplicate clusters.
struct ReportBuilder {
    let records: DatasetRecords
    /// Examples kept per stage and reason.
    let examplesPerReason: Int
    let exampleText = ExampleText()

    /// The stage whose rejects are records balancing dropped (its kept records plus these are the mix "before").
    static let balanceStage = "balance"

    private var manifest: Manifest { records.manifest }

    /// Threads reading the pieces of a shard.
    let threads: Int
    /// The smallest piece of a shard a thread reads, in bytes.
    let smallestPiece: Int

    init(directory: String, examplesPerReason: Int, threads: Int, smallestPiece: Int) throws {
        records = try DatasetRecords(directory: directory)
        self.examplesPerReason = max(0, examplesPerReason)
        self.threads = max(1, threads)
        self.smallestPiece = smallestPiece
    }

    /// Reads every shard, or only the reject shards with the run's `tallies` of the data shards, and returns the report.
    /// - Throws: ``RefineryError`` (code `integrity`) when a shard does not match the manifest or is damaged.
    func build(tallies: ReportTallies? = nil) throws -> ReportData {
        var mixes = MixTally()
        var rejects = try readRejects(into: &mixes, tallied: tallies.flatMap { talliedRejects($0) } ?? [])
        let wanted = Set(rejects.wanted.filter { $0.value == nil }.keys)
        let kept = try keptTally(tallies: tallies, wanted: wanted)
        mixes.add(kept.mixes)
        for (id, text) in kept.found { rejects.wanted[id] = text }
        let histograms = kept.histograms
        let samples = kept.samples
        let numbers = ReportNumbers(
            format: ReportNumbers.currentFormat, dataset: manifest.dataset, version: manifest.version, configHash: manifest.configHash,
            totals: ReportTotals(read: manifest.totals.read, written: manifest.totals.written, quarantined: manifest.totals.quarantined,
                                 repeats: manifest.totals.repeats, blankLines: manifest.totals.blankLines),
            funnel: funnel(), drops: drops(rejects), mixes: mixes.mixes(), histograms: histograms,
            duplicates: rejects.duplicateSummary())
        return ReportData(numbers: numbers, examples: rejects.examples, pairs: rejects.pairs(limit: examplesPerReason),
                          samples: samples.enumerated().sorted { ($0.element.category, $0.offset) < ($1.element.category, $1.offset) }
                              .map(\.element),
                          shards: manifest.shards + manifest.rejects, inputs: manifest.inputs, spec: manifest.spec)
    }

    /// The data shards' tally: the run's, with the texts of `wanted` from its lines, or read from the shards.
    private func keptTally(tallies: ReportTallies?, wanted: Set<String>) throws -> KeptTally {
        let shards = records.splits.flatMap { records.shards(split: $0) }
        guard let tallies, tallies.limit == examplesPerReason else {
            return try KeptTally.read(shards, of: records, threads: threads, smallestPiece: smallestPiece, wanted: wanted,
                                      limit: examplesPerReason, exampleText: exampleText)
        }
        var kept = tallies.kept
        var missing = Set<String>()
        for id in wanted {
            guard let line = tallies.keptLines[id] else {
                missing.insert(id)
                continue
            }
            let value = try ReportTallies.parse(line[...], what: "kept record \(id)")
            kept.found[id] = exampleText.render(ExampleText.content(of: value)).text
        }
        if !missing.isEmpty {
            let read = try KeptTally.read(shards, of: records, threads: threads, smallestPiece: smallestPiece, wanted: missing,
                                          limit: examplesPerReason, exampleText: exampleText)
            kept.found.merge(read.found) { $1 }
        }
        return kept
    }

    /// One row per stage, from the manifest's counters.
    private func funnel() -> [FunnelStage] {
        let read = manifest.totals.read
        return manifest.stages.map { stage in
            FunnelStage(stage: stage.name, recordsIn: stage.recordsIn, recordsOut: stage.recordsOut, dropped: stage.droppedTotal,
                        bytesIn: stage.bytesIn, bytesOut: stage.bytesOut, dropShare: Self.share(stage.droppedTotal, of: stage.recordsIn),
                        remainingShare: Self.share(stage.recordsOut, of: read))
        }
    }

    /// Every reason with drops, in stage order, most drops first; counts from the manifest, characters and examples
    /// from the reject shards.
    private func drops(_ rejects: RejectTally) -> [DropReason] {
        manifest.stages.flatMap { stage in
            stage.dropped.filter { $0.value > 0 }.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { reason, count in
                let key = "\(stage.name).\(reason)"
                return DropReason(stage: stage.name, reason: reason, records: count, chars: rejects.chars[key] ?? 0,
                                  shareOfStage: Self.share(count, of: stage.recordsIn), shareOfRead: Self.share(count, of: manifest.totals.read),
                                  examples: rejects.exampleCounts[key] ?? 0)
            }
        }
    }

    static func share(_ part: Int, of whole: Int) -> Double { whole > 0 ? Double(part) / Double(whole) : 0 }

    /// The run's reject tallies to use, in manifest (stage) order: those of stages whose shards all come after every
    /// other stage's in the manifest, when the tallies took as many examples as this report shows; else none.
    private func talliedRejects(_ tallies: ReportTallies) -> [(stage: String, tally: RejectsTally)] {
        guard tallies.limit == examplesPerReason else { return [] }
        let stages = manifest.rejects.map(\.split)
        guard let first = stages.firstIndex(where: { tallies.rejects[$0] != nil }),
              stages[first...].allSatisfy({ tallies.rejects[$0] != nil }) else { return [] }
        var order: [String] = []
        for stage in stages[first...] where order.last != stage { order.append(stage) }
        // A stage the run tallied but wrote no shard of adds nothing.
        return order.map { ($0, tallies.rejects[$0]!) }
    }

    /// Reads every reject shard, verified, in manifest (stage) order, in pieces on up to ``threads`` threads; the
    /// shards of one stage at a time (see ``RejectTally/append(_:)``). The shards of the last stages may come as the
    /// run's `tallied` counts instead, appended after the others (see ``talliedRejects(_:)``).
    private func readRejects(into mixes: inout MixTally, tallied: [(stage: String, tally: RejectsTally)] = []) throws -> RejectTally {
        var tally = RejectTally(limit: examplesPerReason)
        let exampleText = exampleText
        let talliedStages = Set(tallied.map(\.stage))
        let entries = manifest.rejects.filter { !talliedStages.contains($0.split) }
        try records.readLinesInPieces(entries, threads: threads, smallestPiece: smallestPiece, breaksBatch: { $0.split != $1.split },
                                      start: {
            let before = tally.startingPoint
            return { RejectPiece(tally: before) }
        }, add: { piece, line in
            try piece.add(line, split: entries[line.shard].split, exampleText: exampleText)
        }, combine: { piece in
            tally.append(piece.tally)
            mixes.add(piece.mixesBefore)
        })
        for (_, stage) in tallied {
            tally.append(stage.piece.tally)
            mixes.add(stage.piece.mixesBefore)
        }
        return tally
    }
}

/// What a run of one reject shard's lines contributes to the report: the rejects' tally, and the mixes before
/// balancing of the records balancing dropped.
struct RejectPiece: Sendable {
    var tally: RejectTally
    var mixesBefore = MixTally()

    /// Counts a reject the run that writes it knows: as ``add(_:split:exampleText:)-(DatasetLine,_,_)`` would count its
    /// line, which is parsed only when it gives an example or a pair.
    /// - Parameters:
    ///   - facts: the rejected record's (``RecordFacts``); `line`: the reject line as written, without its newline.
    mutating func add(stage: String, reason: String, keptID: String?, facts: RecordFacts, line: ArraySlice<UInt8>,
                      exampleText: ExampleText) throws {
        let key = "\(stage).\(reason)"
        if tally.needsLine(key: key, reason: reason, hasKeptID: keptID != nil) {
            add(try ReportTallies.parse(line, what: "a \(stage) reject"), split: stage, exampleText: exampleText)
            return
        }
        tally.count(key: key, reason: reason, chars: facts.chars, keptID: keptID)
        if stage == ReportBuilder.balanceStage {
            let measures = facts.measures(copy: false)
            for field in MixTally.fields { mixesBefore.addBefore(field: field, value: measures.key(field), chars: measures.chars) }
        }
    }

    /// Counts one reject line of a shard of `split`, skimmed (``RejectSkim``) unless it gives an example or a pair, holds
    /// a text the pairs want, or the skim gives up; then parsed.
    /// - Throws: ``RefineryError`` (code `integrity`) when the line is not a JSON object.
    mutating func add(_ line: DatasetLine, split: String, exampleText: ExampleText) throws {
        guard let skim = RejectSkim(line.bytes) else {
            add(try line.record().value, split: split, exampleText: exampleText)
            return
        }
        let stage = skim.stage ?? split
        let reason = skim.reason ?? "?"
        let key = "\(stage).\(reason)"
        var needsLine = tally.needsLine(key: key, reason: reason, hasKeptID: skim.keptID != nil)
        if !needsLine, !tally.wanted.isEmpty, let id = skim.record?.id(in: line.bytes), case .some(.none) = tally.wanted[id] {
            needsLine = true
        }
        if needsLine {
            add(try line.record().value, split: split, exampleText: exampleText)
            return
        }
        tally.count(key: key, reason: reason, chars: skim.record?.measures.chars ?? skim.rawChars ?? 0, keptID: skim.keptID)
        if stage == ReportBuilder.balanceStage, let measures = skim.record?.measures {
            for field in MixTally.fields { mixesBefore.addBefore(field: field, value: measures.key(field), chars: measures.chars) }
        }
    }

    /// Counts one reject line of a shard of `split` (its stage, when the line names none).
    mutating func add(_ value: JSONValue, split: String, exampleText: ExampleText) {
        let stage = value["stage"]?.stringValue ?? split
        let record = value["record"]
        let content = record.map(ExampleText.content(of:)) ?? value["raw"]?.stringValue ?? ""
        // Characters as the mixes count them: message contents only, no `role: ` display prefixes.
        let measures = record.map(RecordMeasures.init)
        let chars = measures?.chars ?? ByteLanes.scalarCount(content)
        tally.add(value, stage: stage, content: content, chars: chars, exampleText: exampleText)
        if stage == ReportBuilder.balanceStage, let measures {
            for field in MixTally.fields { mixesBefore.addBefore(field: field, value: measures.key(field), chars: measures.chars) }
        }
        if let record, let id = record["id"]?.stringValue, case .some(.none) = tally.wanted[id] {
            // A duplicate's kept record that balancing then dropped.
            tally.wanted[id] = exampleText.render(content).text
        }
    }
}

/// What one written or rejected record contributes: its mix keys, characters, words and turns.
struct RecordMeasures {
    /// The record's string values of ``MixTally/fields``.
    private var category: String?
    private var source: String?
    private var lang: String?
    /// Unicode scalars of `text` or of every message's content (0 for an interaction history).
    var chars = 0
    /// Runs of non-whitespace (ASCII whitespace separates words).
    var words = 0
    /// Messages of a chat; `nil` for other records.
    var turns: Int?
    /// Whether the record has text or messages at all.
    var hasContent = false
    /// An up-sampled copy (`id` ending in `#r2`, `#r3`, …): counted after balancing, not before.
    var isCopy = false

    /// No content and no mix keys; ``RecordSkim`` fills them in.
    init() {}

    init(_ value: JSONValue) {
        for field in MixTally.fields { setKey(field, value[field]?.stringValue) }
        if let text = value["text"]?.stringValue {
            hasContent = true
            add(text)
        } else if case .array(let messages)? = value["messages"] {
            hasContent = true
            turns = messages.count
            for message in messages { add(message["content"]?.stringValue ?? "") }
        }
        if let id = value["id"]?.stringValue { isCopy = Self.isUpSampledCopy(id) }
    }

    /// Whether `id` ends in `#r` and a number from 2 to `Int.max`.
    static func isUpSampledCopy(_ id: String) -> Bool {
        isUpSampledCopy(id.utf8)
    }

    /// ``isUpSampledCopy(_:)-(String)`` of an id's UTF-8.
    static func isUpSampledCopy(_ utf8: some BidirectionalCollection<UInt8>) -> Bool {
        var start = utf8.endIndex
        while start > utf8.startIndex, case let byte = utf8[utf8.index(before: start)], byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            start = utf8.index(before: start)
        }
        guard start != utf8.endIndex, utf8.distance(from: utf8.startIndex, to: start) >= 2 else { return false }
        let r = utf8.index(before: start)
        guard utf8[r] == UInt8(ascii: "r"), utf8[utf8.index(before: r)] == UInt8(ascii: "#") else { return false }
        var copy = 0
        for byte in utf8[start...] {
            let (times10, overflow) = copy.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflow, !carry else { return false }
            copy = sum
        }
        return copy >= 2
    }

    private mutating func add(_ text: String) {
        let (scalars, words) = ByteLanes.measure(text)
        chars += scalars
        self.words += words
    }

    /// The record's value for a mix field, `(none)` when it has none.
    func key(_ field: String) -> String {
        switch field {
        case "category": category ?? "(none)"
        case "source": source ?? "(none)"
        case "lang": lang ?? "(none)"
        default: preconditionFailure("\(field) is not a mix field")
        }
    }

    /// Sets the value of a mix field (``MixTally/fields``).
    mutating func setKey(_ field: String, _ value: String?) {
        switch field {
        case "category": category = value
        case "source": source = value
        case "lang": lang = value
        default: preconditionFailure("\(field) is not a mix field")
        }
    }
}

/// Records and characters per value of each mix field, before and after balancing.
struct MixTally {
    static let fields = ["category", "source", "lang"]
    /// Per field of ``fields``, in that order, its rows by value. (Nested dictionaries by field name, and a lookup for
    /// each number a row counts, hashed the strings some twenty times a record: 8 % of the report's time.)
    private var rows: [[String: MixRow]] = Array(repeating: [:], count: 3)

    /// A written record: after; before too unless it is an up-sampled copy.
    mutating func addAfter(field: String, value: String, chars: Int, copy: Bool) {
        Self.update(&rows[Self.position(field)], value) { row in
            row.recordsAfter += 1
            row.charsAfter += chars
            if !copy {
                row.recordsBefore += 1
                row.charsBefore += chars
            }
        }
    }

    /// A record balancing was given.
    mutating func addBefore(field: String, value: String, chars: Int) {
        Self.update(&rows[Self.position(field)], value) { row in
            row.recordsBefore += 1
            row.charsBefore += chars
        }
    }

    /// Adds another tally's rows.
    mutating func add(_ other: MixTally) {
        for position in rows.indices {
            for (value, row) in other.rows[position] {
                Self.update(&rows[position], value) { sum in
                    sum.recordsBefore += row.recordsBefore
                    sum.charsBefore += row.charsBefore
                    sum.recordsAfter += row.recordsAfter
                    sum.charsAfter += row.charsAfter
                }
            }
        }
    }

    private static func position(_ field: String) -> Int {
        switch field {
        case "category": 0
        case "source": 1
        case "lang": 2
        default: preconditionFailure("\(field) is not a mix field")
        }
    }

    /// Changes the row of `value` in place (one lookup), making it when it is new.
    private static func update(_ rows: inout [String: MixRow], _ value: String, _ change: (inout MixRow) -> Void) {
        change(&rows[value, default: MixRow(name: value, recordsBefore: 0, charsBefore: 0, recordsAfter: 0, charsAfter: 0)])
    }

    /// One mix per field, most records after balancing first.
    func mixes() -> [Mix] {
        Self.fields.enumerated().map { position, field in
            let sorted = rows[position].values.sorted {
                ($1.recordsAfter, $1.recordsBefore, $0.name) < ($0.recordsAfter, $0.recordsBefore, $1.name)
            }
            return Mix(field: field, rows: sorted)
        }
    }
}
