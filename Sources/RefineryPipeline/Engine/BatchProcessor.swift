import Foundation
import RefineryCodecs
import RefineryReaders
import RefineryRecords
import RefineryReport
import RefineryShards
import RefineryStages

/// Turns one batch into a ``BatchOutput`` on one worker: decode every unit, run the stages stage by stage over
/// the batch (each stage sees the survivors of the previous one, in input order), assign splits by id hash,
/// serialise to JSON lines and compress each output into one zstd frame. Not `Sendable`: one per worker.
final class BatchProcessor {
    private let plan: RunPlan
    private let compressor: ZstdCompressor
    /// The spill's compressor (when the plan has global stages): zstd's fast level ``Spill/zstdLevel`` whatever the
    /// output level, since the spill is read back once and every line is compressed again into its shard at the
    /// output level.
    private let spillCompressor: ZstdCompressor?
    private var writer = JSONWriter(reservingCapacity: 1 << 20)
    private var rejectWriters: [String: JSONWriter] = [:]
    /// The `scores` and `pii` keys of the records this batch's stages dropped, declared by the dataset card with the
    /// kept records' (its `rejects` config holds them).
    private var rejectKeys = FieldKeys()
    /// The stages' buffers on this worker, kept from batch to batch.
    private let scratch = StageScratch()
    private let validationThreshold: UInt64

    init(plan: RunPlan) throws {
        self.plan = plan
        compressor = try ZstdCompressor(level: plan.spec.output.zstdLevel)
        spillCompressor = plan.hasGlobalStages ? try ZstdCompressor(level: Spill.zstdLevel) : nil
        validationThreshold = Self.validationThreshold(fraction: plan.spec.output.validationFraction)
    }

    /// `fraction` × 2^64: ids whose XXH3-64 is below it go to validation (`UInt64.max`: all of them).
    static func validationThreshold(fraction: Double) -> UInt64 {
        fraction >= 1 ? UInt64.max : UInt64(fraction * 18_446_744_073_709_551_616.0)
    }

    /// Whether a record id falls in the validation split: XXH3-64 of the id, below fraction × 2^64.
    static func isValidation(id: String, threshold: UInt64) -> Bool {
        threshold == UInt64.max || XXH3.hash(id) < threshold
    }

    func process(_ batch: Batch) -> BatchOutput {
        var output = BatchOutput(index: batch.index, sourceIndex: batch.sourceIndex)
        do {
            try run(batch, into: &output)
        } catch {
            output.failure = "\(error)"
        }
        return output
    }

    private func run(_ batch: Batch, into output: inout BatchOutput) throws {
        let format = plan.formats[batch.sourceIndex]
        let source = plan.spec.sources[batch.sourceIndex]
        var readCounters = StageCounters(name: "read")
        var records: [Record] = []
        records.reserveCapacity(batch.units.count)
        rejectWriters.removeAll(keepingCapacity: true)
        rejectKeys = FieldKeys()
        var rejectCounts: [String: ShardPiece] = [:]

        var clock = Stopwatch()
        var decoded = DecodedUnit()
        batch.buffer.withUnsafeBufferPointer { buffer in
            for unit in batch.units {
                let file = plan.files[unit.fileIndex]
                let context = UnitContext(source: source.name, category: source.category, lang: source.lang,
                                          relativePath: file.relativePath,
                                          path: plan.fingerprints[unit.fileIndex].path, line: unit.line,
                                          preamble: batch.preambles[unit.fileIndex])
                let bytes = UnsafeBufferPointer(rebasing: buffer[unit.range])
                readCounters.bytesIn += unit.inputBytes ?? unit.range.count
                switch unit.problem {
                case .lineTooLong(let length, let limit)?:
                    decoded.reject(DecodeFailure(reason: "line_too_long", detail: "\(length) bytes, limit \(limit) (max_line_bytes); first \(bytes.count) bytes kept"),
                                   context: context, raw: bytes)
                case .documentTooLong(let length, let limit)?:
                    decoded.reject(DecodeFailure(reason: "document_too_long", detail: "\(length) bytes read, limit \(limit) (max_document_bytes); first \(bytes.count) bytes kept"),
                                   context: context, raw: bytes)
                case .truncated(let detail)?:
                    decoded.reject(DecodeFailure(reason: "truncated_input", detail: detail), context: context, raw: bytes)
                case .rejected(let failure)?:
                    decoded.reject(failure, context: context, raw: bytes)
                case nil:
                    let before = decoded.records.count + decoded.rejects.count
                    format.decodeUnit(bytes, context: context, into: &decoded)
                    if decoded.records.count + decoded.rejects.count == before {
                        // Nothing may vanish: a unit its reader made nothing of is quarantined as such.
                        decoded.reject(DecodeFailure(reason: "no_output", detail: "the \(source.kind) reader made no record and no reject of this unit"),
                                       context: context, raw: UnsafeBufferPointer(rebasing: bytes.prefix(LineSplitter.previewBytes)))
                    }
                }
            }
        }
        // Every record and every reject a unit produced counts as one record in, so in = out + dropped.
        readCounters.recordsIn = decoded.records.count + decoded.rejects.count
        readCounters.recordsOut = decoded.records.count
        for record in decoded.records { readCounters.bytesOut += Self.contentBytes(record) }
        for reject in decoded.rejects {
            readCounters.dropped[reject.failure.reason, default: 0] += 1
            writeRawReject(reject, counts: &rejectCounts)
        }
        readCounters.events = decoded.events
        // Taken, not shared: the stages change the records in place, which would copy an array `decoded` still held.
        swap(&records, &decoded.records)
        // Room for a score from each stage, made once: appended one at a time, a record's scores were reallocated
        // two or three times over the stages.
        for index in records.indices { records[index].scores.reserveCapacity(records[index].scores.count + plan.stages.count) }
        output.counters.append(readCounters)
        output.seconds.append(clock.lap())

        // Each record's text view (words, lines, paragraphs) is built by the first stage that asks and shared by
        // the next ones, until a stage changes the text.
        var views = [RecordView](repeating: RecordView(), count: records.count)
        for stage in plan.stages {
            var counters = StageCounters(name: stage.name)
            var tally = StageTally(scratch: scratch)
            // In place: each record and its view are passed to the stage where they lie, and a survivor is swapped
            // down to the front, so the survivors keep their order and nothing is copied. (Copying each record into
            // a new array per stage, and its view, was a fifth of a run over short subtitle windows, in retains and
            // releases of their strings.)
            var kept = 0
            for index in records.indices {
                counters.recordsIn += 1
                counters.bytesIn += Self.contentBytes(records[index])
                switch stage.process(&records[index], view: &views[index], tally: &tally) {
                case .keep:
                    counters.recordsOut += 1
                    counters.bytesOut += Self.contentBytes(records[index])
                    if kept != index {
                        // Through the buffers: `Array.swapAt` copied both records and views (a retain and a release
                        // of every string they hold) where the buffer's moves them.
                        records.withUnsafeMutableBufferPointer { $0.swapAt(kept, index) }
                        views.withUnsafeMutableBufferPointer { $0.swapAt(kept, index) }
                    }
                    kept += 1
                case .drop(let reason, let detail):
                    counters.dropped[reason, default: 0] += 1
                    writeRecordReject(records[index], stage: stage.name, reason: reason, detail: detail, counts: &rejectCounts)
                }
            }
            records.removeLast(records.count - kept)
            views.removeLast(views.count - kept)
            counters.events = tally.events
            output.counters.append(counters)
            output.seconds.append(clock.lap())
        }

        if plan.hasGlobalStages {
            // Global stages follow: spill the survivors with their keys instead of splitting them.
            // Dedup keys first, timed as the dedup stage's worker seconds (its resolution adds the main thread's).
            var keys: [DedupKeys?] = []
            var piece = SpillPiece()
            // Each record is passed `inout`, in place: passed by value, from the array or from its buffer, or bound by a
            // `for` over it, it was copied for each call (a retain and a release of every string it holds: four copies
            // a record, 1 % of the 1 GB run's CPU).
            if let dedup = plan.dedup {
                keys.reserveCapacity(records.count)
                var scratch = dedup.makeScratch()
                for index in records.indices {
                    keys.append(Self.keys(of: &records[index], dedup: dedup, view: &views[index], scratch: &scratch))
                }
            }
            let keySeconds = clock.lap()
            writer.reset()
            piece.entries.reserveCapacity(records.count)
            var fieldKeys = FieldKeys()
            for index in records.indices {
                Self.spill(&records[index], keys: keys.isEmpty ? nil : keys[index], into: &writer, entries: &piece.entries,
                           fieldKeys: &fieldKeys)
            }
            fieldKeys.add(to: &output.train)
            if !writer.bytes.isEmpty { try (spillCompressor ?? compressor).compressFrame(writer.bytes, into: &piece.frame) }
            // Encoded here, on a worker, once, for the unit file (where the spill reads them back).
            var encoding = ByteWriter()
            encoding.spillEntries(piece.entries)
            piece.encodedEntries = encoding.bytes
            output.spill = piece
            try sealRejects(rejectCounts, into: &output)
            // Global stages after the per-record ones: dedup (its keys), then balance (timed when it resolves).
            if plan.dedup != nil { output.seconds.append(keySeconds) }
            if plan.balance != nil { output.seconds.append(0) }
            output.seconds.append(clock.lap())
            return
        }

        // Split and serialise: train first, then validation, each one zstd frame.
        writer.reset()
        var validationWriter = JSONWriter(reservingCapacity: 0)
        var fieldKeys = FieldKeys()
        for record in records {
            let category = record.category ?? "(none)"
            fieldKeys.note(record)
            if Self.isValidation(id: record.id, threshold: validationThreshold) {
                record.writeJSON(to: &validationWriter)
                validationWriter.byte(0x0A)
                output.validation.records += 1
                output.validation.categories[category, default: 0] += 1
            } else {
                record.writeJSON(to: &writer)
                writer.byte(0x0A)
                output.train.records += 1
                output.train.categories[category, default: 0] += 1
            }
        }
        fieldKeys.add(to: &output.train)
        try seal(writer.bytes, into: &output.train)
        try seal(validationWriter.bytes, into: &output.validation)
        try sealRejects(rejectCounts, into: &output)
        output.seconds.append(clock.lap())
    }

    private func sealRejects(_ counts: [String: ShardPiece], into output: inout BatchOutput) throws {
        rejectKeys.add(to: &output.train)
        for (stage, bytes) in rejectWriters {
            var piece = counts[stage] ?? ShardPiece()
            try seal(bytes.bytes, into: &piece)
            output.rejects[stage] = piece
        }
    }

    private func seal(_ bytes: [UInt8], into piece: inout ShardPiece) throws {
        guard !bytes.isEmpty else { return }
        piece.uncompressedBytes = bytes.count
        try compressor.compressFrame(bytes, into: &piece.compressed)
    }

    /// Dedup's keys of a record (`inout` only to be read in place: see the caller).
    private static func keys(of record: inout Record, dedup: DedupStage, view: inout RecordView, scratch: inout DedupStage.Scratch) -> DedupKeys? {
        dedup.keys(of: record, view: &view, scratch: &scratch)
    }

    /// Spills one survivor: its JSON line and a newline into `writer`, its entry (with what the report reads of it,
    /// measured here once; its characters are the category mix's too), its score and PII keys. `inout` only to be read
    /// in place (see the caller).
    private static func spill(_ record: inout Record, keys: DedupKeys?, into writer: inout JSONWriter, entries: inout [SpillEntry],
                              fieldKeys: inout FieldKeys) {
        let start = writer.bytes.count
        record.writeJSON(to: &writer)
        let facts = RecordFacts(record)
        entries.append(SpillEntry(id: record.id, category: record.category ?? "(none)", location: record.location,
                                  lineBytes: writer.bytes.count - start, contentBytes: contentBytes(record), contentChars: facts.chars,
                                  quality: record.scores.first { $0.key == "quality" }?.value, dedup: keys, report: facts))
        writer.byte(0x0A)
        fieldKeys.note(record)
    }

    /// UTF-8 bytes of the record's content (text or message contents).
    static func contentBytes(_ record: Record) -> Int {
        if let text = record.text { return text.utf8.count }
        return record.messages?.reduce(0) { $0 + $1.content.utf8.count } ?? 0
    }

    /// Starts a reject line: `{"id":…,"stage":…,"reason":…,"detail":…,"file":…,"line":…` (line when known).
    static func beginReject(_ out: inout JSONWriter, id: String, stage: String, reason: String, detail: String,
                                    location: SourceLocation) {
        out.raw("{\"id\":")
        out.string(id)
        out.raw(",\"stage\":")
        out.string(stage)
        out.raw(",\"reason\":")
        out.string(reason)
        out.raw(",\"detail\":")
        out.string(detail)
        out.raw(",\"file\":")
        out.string(location.file)
        if let line = location.line {
            out.raw(",\"line\":")
            out.number(line)
        }
    }

    /// Quarantines a unit that never became a record, with its raw text.
    private func writeRawReject(_ reject: UnitReject, counts: inout [String: ShardPiece]) {
        // Taken out of the dictionary so appending does not copy the buffer (a copy per reject was quadratic).
        var out = rejectWriters.removeValue(forKey: "read") ?? JSONWriter()
        Self.beginReject(&out, id: reject.id, stage: "read", reason: reject.failure.reason, detail: reject.failure.detail,
                         location: reject.location)
        out.raw(",\"raw\":")
        out.string(reject.raw)
        out.raw("}\n")
        rejectWriters["read"] = out
        counts["read", default: ShardPiece()].records += 1
        counts["read", default: ShardPiece()].categories[reject.failure.reason, default: 0] += 1
    }

    /// Quarantines a record a stage dropped, as the stage saw it.
    private func writeRecordReject(_ record: Record, stage: String, reason: String, detail: String,
                                   counts: inout [String: ShardPiece]) {
        var out = rejectWriters.removeValue(forKey: stage) ?? JSONWriter()
        Self.beginReject(&out, id: record.id, stage: stage, reason: reason, detail: detail, location: record.location)
        out.raw(",\"record\":")
        record.writeJSON(to: &out)
        out.raw("}\n")
        rejectWriters[stage] = out
        rejectKeys.note(record)
        counts[stage, default: ShardPiece()].records += 1
        counts[stage, default: ShardPiece()].categories[reason, default: 0] += 1
    }
}

/// The keys of `scores` and `pii` a batch's records have (a few distinct ones), gathered in small arrays and added to
/// the piece's sets once per batch: inserting each record's keys into the sets hashed every key of every record
/// (SipHash, 0.4 % of a 1 GB run).
private struct FieldKeys {
    private var scores: [String] = []
    private var pii: [String] = []

    mutating func note(_ record: Record) {
        for score in record.scores where !scores.contains(score.key) { scores.append(score.key) }
        for count in record.pii where !pii.contains(count.key) { pii.append(count.key) }
    }

    func add(to piece: inout ShardPiece) {
        piece.scoreKeys.formUnion(scores)
        piece.piiKeys.formUnion(pii)
    }
}
