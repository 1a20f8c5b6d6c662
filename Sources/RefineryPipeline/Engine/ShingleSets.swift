import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefineryStages

/// The exact similarities of dedup's candidate pairs (`verify: exact`), measured on shingle sets made again from the
/// records' spilled lines once the resolver has every record.
///
/// Only the records of pairs whose sketches come within 0.15 of the threshold are needed: 6,709 pairs among 1.24
/// million spilled records on the 1 GB benchmark corpus. Making their sets again reads each spilled batch that holds
/// one once, on every worker, where keeping every record's shingle hashes until resolution wrote 4 bytes a word into
/// the units' files: 621 MB of the 1.65 GB they held at their largest on that corpus.
enum ShingleSets {
    /// The exact Jaccard similarity of each pair's shingle sets (``DedupStage/shingleSet(of:scratch:)``), in order.
    /// - Parameters:
    ///   - pairs: the resolver's pending pairs; ordinals are the spill's entry numbers.
    ///   - spill: where the records' lines are.
    ///   - stage: the dedup stage whose keys the spill holds (its normalisation and shingle size).
    ///   - threads: how many batches are read at once.
    /// - Returns: the similarities, and how many records' sets were made.
    /// - Throws: ``RefineryError`` (code `output`) naming a unit's file that cannot be read back or is damaged.
    static func similarities(of pairs: [CandidatePair], in spill: Spill, stage: DedupStage,
                             threads: Int) throws -> (similarities: [Double], records: Int) {
        guard !pairs.isEmpty else { return ([], 0) }
        var needed = Set<Int>()
        for pair in pairs {
            needed.insert(pair.candidate)
            needed.insert(pair.record)
        }
        // Per batch that holds some, the records wanted in it, in order (a batch's chunk of entries has its number).
        let batches = spill.batches
        let wanted = spill.entries.chunks(holding: needed.sorted())
        guard wanted.reduce(0, { $0 + $1.indexes.count }) == needed.count else {
            throw RefineryError(.internal, "dedup's candidate pairs name records past the \(spill.entries.count) spilled records")
        }
        let results = ConcurrentResults<[[UInt32]]>(count: wanted.count)
        results.run(threads: threads) { [wanted] job in
            let (batch, records) = wanted[job]
            let files = StoredFiles()
            defer { files.close() }
            return try shingleSets(of: records, in: batches[batch], stage: stage, files: files)
        }
        var sets: [Int: [UInt32]] = [:]
        sets.reserveCapacity(needed.count)
        for ((_, records), result) in zip(wanted, results.all()) {
            for (record, set) in zip(records, try result.get()) { sets[record] = set }
        }
        return (pairs.map { DedupStage.jaccard(sets[$0.candidate]!, sets[$0.record]!) }, needed.count)
    }

    /// The shingle sets of `records` (ascending, all in `batch`): the batch's frame is read and decompressed, and
    /// only those records' lines are parsed.
    private static func shingleSets(of records: [Int], in batch: SpillBatch, stage: DedupStage, files: StoredFiles) throws -> [[UInt32]] {
        var scratch = stage.makeScratch()
        var sets: [[UInt32]] = []
        sets.reserveCapacity(records.count)
        try Spill.forEachLine(of: records, in: batch, files: files) { _, line in
            let view: TextView
            do {
                view = try RecordView.text(ofLine: line)
            } catch {
                throw Spill.damaged("\(error)", in: batch)
            }
            sets.append(stage.shingleSet(of: view, scratch: &scratch))
        }
        return sets
    }
}
