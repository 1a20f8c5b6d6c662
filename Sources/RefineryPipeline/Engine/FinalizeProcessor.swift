import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefineryStages

/// One spilled batch with the global stages' decisions about its records, ready for a worker.
struct FinalizeJob: Sendable {
    var batch: SpillBatch
    var frame: [UInt8]
    var entries: [SpillEntry]
    /// Per entry: the decision, and the id of the record kept in its place when it is dropped.
    var decisions: [(decision: DedupDecision, keptID: String?)]
}

/// Writes one spilled batch out on a worker: survivors split into train and validation by id hash, duplicates
/// into `rejects/dedup` with the id of the record kept, each output one zstd frame. The record lines are copied
/// from the spill as they are, not parsed again. Not `Sendable`: one per worker.
final class FinalizeProcessor {
    private let compressor: ZstdCompressor
    private let decompressor: ZstdDecompressor
    private let validationThreshold: UInt64
    /// Phases before `serialize_compress` in the run's timings.
    private let phases: Int

    init(plan: RunPlan) throws {
        phases = plan.stageNames.count
        compressor = try ZstdCompressor(level: plan.spec.output.zstdLevel)
        decompressor = try ZstdDecompressor()
        let fraction = plan.spec.output.validationFraction
        validationThreshold = fraction >= 1 ? UInt64.max : UInt64(fraction * 18_446_744_073_709_551_616.0)
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
        var train: [UInt8] = []
        var validation: [UInt8] = []
        var rejects = JSONWriter()
        var rejectPiece = ShardPiece()
        var offset = 0
        for (entry, (decision, keptID)) in zip(job.entries, job.decisions) {
            let line = lines[offset..<(offset + entry.lineBytes)]
            offset += entry.lineBytes + 1
            switch decision {
            case .keep:
                if BatchProcessor.isValidation(id: entry.id, threshold: validationThreshold) {
                    validation.append(contentsOf: line)
                    validation.append(0x0A)
                    output.validation.records += 1
                    output.validation.categories[entry.category, default: 0] += 1
                } else {
                    train.append(contentsOf: line)
                    train.append(0x0A)
                    output.train.records += 1
                    output.train.categories[entry.category, default: 0] += 1
                }
            case .exactDuplicate, .nearDuplicate:
                let reason: String
                let detail: String
                if case .nearDuplicate(_, let jaccard) = decision {
                    reason = "near_duplicate"
                    detail = "near-duplicate of \(keptID ?? "?") (estimated Jaccard \(Double(Int(jaccard * 1000)) / 1000))"
                } else {
                    reason = "exact_duplicate"
                    detail = "same normalised text as \(keptID ?? "?")"
                }
                BatchProcessor.beginReject(&rejects, id: entry.id, stage: "dedup", reason: reason, detail: detail,
                                           location: entry.location)
                rejects.raw(",\"kept_id\":")
                rejects.string(keptID ?? "")
                rejects.raw(",\"record\":")
                rejects.bytes.append(contentsOf: line)
                rejects.raw("}\n")
                rejectPiece.records += 1
                rejectPiece.categories[reason, default: 0] += 1
                output.globalDropped["dedup.\(reason)", default: 0] += 1
            }
        }
        try seal(train, into: &output.train)
        try seal(validation, into: &output.validation)
        if rejectPiece.records > 0 {
            try seal(rejects.bytes, into: &rejectPiece)
            output.rejects["dedup"] = rejectPiece
        }
        output.seconds = [Double](repeating: 0, count: phases) + [clock.lap()]
    }

    private func seal(_ bytes: [UInt8], into piece: inout ShardPiece) throws {
        guard !bytes.isEmpty else { return }
        piece.uncompressedBytes = bytes.count
        try compressor.compressFrame(bytes, into: &piece.compressed)
    }
}
