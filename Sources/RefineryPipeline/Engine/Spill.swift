import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefineryStages

/// What the run keeps in memory about one spilled record until the global stages have decided its fate.
struct SpillEntry: Sendable {
    var id: String
    var category: String
    var location: SourceLocation
    /// Bytes of its JSON line in the spill frame (without the newline).
    var lineBytes: Int
    /// UTF-8 bytes of its content, for the stage counters.
    var contentBytes: Int
    /// Unicode scalars of its content, for the category mix.
    var contentChars: Int
    var quality: Double?
    var dedup: DedupKeys?
}

/// One batch's spilled records: a zstd frame of JSON lines, one per entry.
struct SpillPiece: Sendable {
    var frame: [UInt8] = []
    var entries: [SpillEntry] = []
}

/// Where one batch's frame is in the spill file, and its entries' range in the run's entry list.
struct SpillBatch: Sendable {
    var index: Int
    var sourceIndex: Int
    var offset: Int
    var length: Int
    var entries: Range<Int>
}

/// The spill between the per-record stages and the global ones (dedup, balance): the surviving records of every
/// batch, serialised and compressed as they would go into a shard, appended to one temporary file in the output
/// folder, so that the corpus is never held in memory. Read back batch by batch when the shards are written.
final class SpillFile {
    let path: String
    private let handle: FileHandle
    private(set) var batches: [SpillBatch] = []
    private(set) var entries: [SpillEntry] = []
    private var offset = 0

    init(directory: String, version: String) throws {
        path = (directory as NSString).appendingPathComponent(".spill-\(version).tmp")
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forUpdatingAtPath: path) else {
            throw RefineryError(.output, "cannot create the spill file \(path)")
        }
        self.handle = handle
    }

    /// Appends one batch's piece; batches come in order.
    func append(_ piece: SpillPiece, batch: Int, sourceIndex: Int) throws {
        let start = entries.count
        entries += piece.entries
        if !piece.frame.isEmpty {
            do { try handle.write(contentsOf: piece.frame) } catch {
                throw RefineryError(.output, "cannot write the spill file \(path): \(error)")
            }
        }
        batches.append(SpillBatch(index: batch, sourceIndex: sourceIndex, offset: offset, length: piece.frame.count,
                                  entries: start..<entries.count))
        offset += piece.frame.count
    }

    /// The frame of one batch.
    func frame(of batch: SpillBatch) throws -> [UInt8] {
        guard batch.length > 0 else { return [] }
        do {
            try handle.seek(toOffset: UInt64(batch.offset))
            guard let data = try handle.read(upToCount: batch.length), data.count == batch.length else {
                throw RefineryError(.output, "the spill file \(path) is shorter than written")
            }
            return [UInt8](data)
        } catch let error as RefineryError {
            throw error
        } catch {
            throw RefineryError(.output, "cannot read the spill file \(path): \(error)")
        }
    }

    /// Closes and deletes the file.
    func remove() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}
