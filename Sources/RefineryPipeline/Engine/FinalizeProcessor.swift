import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryReport
import RefineryShards
import RefineryStages

/// One spilled batch with the global stages' decisions about its records, ready for a worker.
struct FinalizeJob: Sendable {
    var batch: SpillBatch
    var frame: [UInt8]
    /// The batch's entries as ``ByteWriter/spillEntries(_:)`` wrote them (decoded by the worker), and where from.
    var encodedEntries: [UInt8]
    var entriesFile: String
    /// Per entry, what becomes of it.
    var fates: [RecordFate]
    /// When the run's report is to come from the records as they are written (``ReportTallies``): where the batches
    /// before this one left the tallies. Nil: no tally.
    var reportStart: ReportStart?

    /// The samples per category the batches before took, in train and in train and validation together, and each
    /// global stage's rejects' starting point (``RejectsTally/init(after:)``): the batch's tallies start from them, so
    /// as not to parse lines for samples and examples the report will not show.
    struct ReportStart: Sendable {
        var trainSamples: [String: Int]
        var validationSamples: [String: Int]
        var rejects: [String: RejectsTally]
    }
}

/// What the global stages decided about one spilled record; the run holds them all in ``RecordFates``, 4 bytes each.
enum RecordFate: Sendable, Equatable {
    /// Written `copies` times (1 normally; more when balancing up-samples; copies after the first get `#r2`, …),
    /// all to one split.
    case keep(copies: Int, validation: Bool)
    /// Quarantined by a global stage.
    case drop(RecordDrop)

    /// A drop by `stage`; `keptID` names the record kept in its place (a duplicate's survivor), `keptRecord` its
    /// number in the spill.
    static func drop(stage: String, reason: String, detail: String, keptID: String?, keptRecord: Int? = nil) -> RecordFate {
        .drop(RecordDrop(stage: stage, reason: reason, detail: detail, keptID: keptID, keptRecord: keptRecord))
    }
}

/// Every spilled record's ``RecordFate``, in 4 bytes each: the run holds one per record, like the facts.
///
/// A code with the top bit clear is kept: the copies (up to 2^30; balancing repeats a record at most 100 times) and,
/// in bit 30, the validation split. One with the top bit set is a drop: the index of its ``RecordDrop`` in a list of
/// them, where a drop set several times in a row (balancing gives a category's records one) is listed once.
struct RecordFates: RandomAccessCollection, Sendable {
    private var codes: [UInt32]
    private var drops: [RecordDrop] = []

    private static let dropBit: UInt32 = 1 << 31
    private static let validationBit: UInt32 = 1 << 30

    init() { codes = [] }

    init(repeating fate: RecordFate, count: Int) {
        self.init()
        codes = [UInt32](repeating: encode(fate), count: count)
    }

    var startIndex: Int { 0 }
    var endIndex: Int { codes.count }

    subscript(index: Int) -> RecordFate {
        get {
            let code = codes[index]
            if code & Self.dropBit != 0 { return .drop(drops[Int(code & ~Self.dropBit)]) }
            return .keep(copies: Int(code & (Self.validationBit - 1)), validation: code & Self.validationBit != 0)
        }
        set { codes[index] = encode(newValue) }
    }

    private mutating func encode(_ fate: RecordFate) -> UInt32 {
        switch fate {
        case .keep(let copies, let validation):
            precondition((0..<Int(Self.validationBit)).contains(copies), "\(copies) copies of one record")
            return UInt32(copies) | (validation ? Self.validationBit : 0)
        case .drop(let drop):
            if drops.last !== drop {
                precondition(drops.count < Int(Self.validationBit) * 2, "more than 2^31 drops by global stages")
                drops.append(drop)
            }
            return UInt32(drops.count - 1) | Self.dropBit
        }
    }
}

/// Why a global stage quarantined a record. One instance may stand for many records (balancing gives all the records
/// it drops from a category the same one).
final class RecordDrop: Sendable, Equatable {
    let stage: String
    let reason: String
    let detail: String
    /// The record kept in this one's place (a duplicate's survivor).
    let keptID: String?
    /// That record's number in the spill, when it is one of this run's records (the report shows some survivors'
    /// texts beside their duplicates). Not kept in finalize files.
    let keptRecord: Int?

    init(stage: String, reason: String, detail: String, keptID: String?, keptRecord: Int? = nil) {
        self.stage = stage
        self.reason = reason
        self.detail = detail
        self.keptID = keptID
        self.keptRecord = keptRecord
    }

    static func == (a: RecordDrop, b: RecordDrop) -> Bool {
        a === b || (a.stage == b.stage && a.reason == b.reason && a.detail == b.detail && a.keptID == b.keptID)
    }
}

/// Writes one spilled batch out on a worker: survivors (and their up-sampled copies) split into train and
/// validation by id hash, records the global stages dropped into `rejects/<stage>` (a duplicate with the id of the
/// record kept), each output one zstd frame. The record lines are copied
/// from the spill as they are, not parsed again. Not `Sendable`: one per worker.
final class FinalizeProcessor {
    private let compressor: ZstdCompressor
    private let decompressor: ZstdDecompressor
    /// Phases before `serialize_compress` in the run's timings.
    private let phases: Int

    init(plan: RunPlan) throws {
        phases = plan.stageNames.count
        compressor = try ZstdCompressor(level: plan.spec.output.zstdLevel)
        decompressor = try ZstdDecompressor()
    }

    func process(_ job: FinalizeJob) -> BatchOutput {
        var output = BatchOutput(index: job.batch.index, sourceIndex: job.batch.sourceIndex)
        do {
            try run(job, into: &output)
        } catch {
            output.failure = "\(error)"
        }
        return output
    }

    private func run(_ job: FinalizeJob, into output: inout BatchOutput) throws {
        var clock = Stopwatch()
        let lines = job.frame.isEmpty ? [] : try ZstdDecompressor.decompressAll(job.frame)
        let tallying = job.reportStart != nil
        let entries = try SpillEntries.decode(job.encodedEntries, count: job.fates.count, file: job.entriesFile,
                                              parts: tallying ? [.location, .report] : .location)
        let limit = KeptTally.defaultLimit
        var tally = BatchReportTally(train: KeptTally(samplesTaken: job.reportStart?.trainSamples ?? [:]),
                                     validation: KeptTally(samplesTaken: job.reportStart?.validationSamples ?? [:]))
        var train: [UInt8] = []
        var validation: [UInt8] = []
        var offset = 0
        // Per global stage that drops records here (dedup, balance: a list searched, not a dictionary hashed per record),
        // its rejects and, in their piece's categories, its drops by reason.
        var rejectWriters: [GlobalRejects] = []
        // Each entry in place, through the buffer: `for (entry, fate) in zip(entries, fates)` copied every entry (a
        // retain and a release of each of its strings). Categories are counted a run at a time (``CategoryRuns``).
        var trainCategories = CategoryRuns(), validationCategories = CategoryRuns()
        try entries.withUnsafeBufferPointer { entries in
            for index in entries.indices {
                let fate = job.fates[index]
                let line = lines[offset..<(offset + entries[index].lineBytes)]
                offset += entries[index].lineBytes + 1
                switch fate {
                case .keep(let copies, let toValidation):
                    // Every copy goes to the original's split, so a repeated record never straddles train and validation.
                    // Copies after the first are up-sampled copies by their ids (`#r2`, …); the first, if its own id says so.
                    let facts = tallying ? try Self.facts(of: entries[index]) : nil
                    let firstIsCopy = facts != nil && KeptTally.isUpSampledCopy(entries[index].id)
                    for copy in 0..<copies {
                        if toValidation {
                            Self.append(line, copy: copy, id: entries[index].id, to: &validation)
                            output.validation.records += 1
                            validationCategories.add(entries[index].category, to: &output.validation.categories)
                            if let facts { try tally.validation.add(facts, id: entries[index].id, copy: copy > 0 || firstIsCopy, line: line, limit: limit) }
                        } else {
                            Self.append(line, copy: copy, id: entries[index].id, to: &train)
                            output.train.records += 1
                            trainCategories.add(entries[index].category, to: &output.train.categories)
                            if let facts { try tally.train.add(facts, id: entries[index].id, copy: copy > 0 || firstIsCopy, line: line, limit: limit) }
                        }
                    }
                case .drop(let drop):
                    let stage = drop.stage, reason = drop.reason
                    let w = rejectWriters.firstIndex { $0.stage == stage } ?? {
                        rejectWriters.append(GlobalRejects(stage: stage))
                        return rejectWriters.count - 1
                    }()
                    let start = rejectWriters[w].write(id: entries[index].id, drop: drop, location: entries[index].location, record: line)
                    if tallying {
                        let facts = try Self.facts(of: entries[index])
                        try tally.rejects[stage, default: job.reportStart?.rejects[stage].map { RejectsTally(after: $0) } ?? RejectsTally(limit: limit)]
                            .add(stage: stage, reason: reason, keptID: drop.keptID, facts: facts, line: rejectWriters[w].writer.bytes[start...])
                    }
                    rejectWriters[w].endLine(reason: reason)
                }
            }
        }
        trainCategories.flush(into: &output.train.categories)
        validationCategories.flush(into: &output.validation.categories)
        for var rejects in rejectWriters {
            rejects.reasons.flush(into: &rejects.piece.categories)
            for (reason, count) in rejects.piece.categories { output.globalDropped["\(rejects.stage).\(reason)", default: 0] += count }
            try seal(rejects.writer.bytes, into: &rejects.piece)
            output.rejects[rejects.stage] = rejects.piece
        }
        try seal(train, into: &output.train)
        try seal(validation, into: &output.validation)
        if tallying { output.reportTally = tally }
        output.seconds = [Double](repeating: 0, count: phases) + [clock.lap()]
    }

    /// What the report reads of a spilled record; entries read for a tally carry it.
    private static func facts(of entry: SpillEntry) throws -> RecordFacts {
        guard let facts = entry.report else { throw RefineryError(.internal, "spilled record \(entry.id) has no facts for the report") }
        return facts
    }

    /// Appends a record line and a newline; copies after the first get the id `…#r2`, `…#r3` (the writer puts
    /// `{"id":` first, so the id is replaced in place).
    static func append(_ line: ArraySlice<UInt8>, copy: Int, id: String, to out: inout [UInt8]) {
        if copy == 0 {
            out.append(contentsOf: line)
        } else {
            var original = JSONWriter()
            original.raw("{\"id\":")
            original.string(id)
            var renamed = JSONWriter()
            renamed.raw("{\"id\":")
            renamed.string("\(id)#r\(copy + 1)")
            out.append(contentsOf: renamed.bytes)
            out.append(contentsOf: line.dropFirst(original.bytes.count))
        }
        out.append(0x0A)
    }

    private func seal(_ bytes: [UInt8], into piece: inout ShardPiece) throws {
        guard !bytes.isEmpty else { return }
        piece.uncompressedBytes = bytes.count
        try compressor.compressFrame(bytes, into: &piece.compressed)
    }
}

/// One global stage's rejects from one batch, as they are written.
private struct GlobalRejects {
    let stage: String
    var writer = JSONWriter()
    var piece = ShardPiece()
    /// Its records by reason, a run at a time.
    var reasons = CategoryRuns()

    init(stage: String) { self.stage = stage }

    /// Writes a reject line but its newline: where the record was read, why it was dropped, the id of the record kept
    /// in its place (a duplicate's survivor), and the record's line as the spill holds it. Returns where it starts.
    mutating func write(id: String, drop: RecordDrop, location: SourceLocation, record line: ArraySlice<UInt8>) -> Int {
        let start = writer.bytes.count
        BatchProcessor.beginReject(&writer, id: id, stage: stage, reason: drop.reason, detail: drop.detail, location: location)
        if let keptID = drop.keptID {
            writer.raw(",\"kept_id\":")
            writer.string(keptID)
        }
        writer.raw(",\"record\":")
        writer.bytes.append(contentsOf: line)
        writer.raw("}")
        return start
    }

    /// Ends the line ``write(id:drop:location:record:)`` began, and counts it for `reason`.
    mutating func endLine(reason: String) {
        writer.byte(0x0A)
        piece.records += 1
        reasons.add(reason, to: &piece.categories)
    }
}

/// Counts records per category into a dictionary a run of equal categories at a time: a batch's records nearly always
/// share one, and looking it up for each record hashed it each time (SipHash).
struct CategoryRuns {
    private var category: String?
    private var count = 0

    /// Counts one record of `category`; a different category than the last first adds the last one's run to `counts`.
    mutating func add(_ category: String, to counts: inout [String: Int]) {
        if category != self.category {
            flush(into: &counts)
            self.category = category
        }
        count += 1
    }

    /// Adds the current run to `counts`.
    mutating func flush(into counts: inout [String: Int]) {
        if let category, count > 0 { counts[category, default: 0] += count }
        count = 0
    }
}
