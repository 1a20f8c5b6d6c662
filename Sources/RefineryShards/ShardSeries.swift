import Foundation
import RefineryCodecs
import RefineryRecords

/// A piece of one output, made by a worker: whole zstd frames ready to append, with what they hold.
public struct ShardPiece: Sendable {
    public var compressed: [UInt8] = []
    public var uncompressedBytes = 0
    public var records = 0
    public var categories: [String: Int] = [:]
    /// Keys of `scores` and `pii` seen in the records, for the dataset card's schema.
    public var scoreKeys: Set<String> = []
    public var piiKeys: Set<String> = []

    public init() {}
}

/// A numbered series of shard files for one split (`train`, `validation`) or one reject stage.
///
/// Pieces are appended in batch order; a shard is closed once it holds at least `targetSize` uncompressed
/// bytes, so shard boundaries fall on batch boundaries and depend only on the input and the spec. Files are
/// written under temporary names and get their final `NAME-00000-of-000NN.jsonl.zst` names in ``finish()``,
/// once the count is known.
public final class ShardSeries {
    public let split: String
    private let directory: String
    private let prefix: String
    private let targetSize: Int
    private let fileSystem: any OutputFileSystem
    private var current: (file: any OutputFile, tempPath: String, entry: ShardEntry, hasher: XXH3Hasher)?
    private var closed: [(tempPath: String, entry: ShardEntry)] = []
    /// Temporary files made so far, for cleanup after a failure.
    public private(set) var temporaryPaths: [String] = []
    /// Shards renamed to their final names by ``finish()``, for cleanup if the run fails after that.
    private var finalPaths: [String] = []

    /// - Parameters:
    ///   - split: name written into each entry.
    ///   - prefix: file name prefix relative to `directory`, e.g. `train` or `rejects/validate`.
    public init(split: String, directory: String, prefix: String, targetSize: Int, fileSystem: any OutputFileSystem) {
        self.split = split
        self.directory = directory
        self.prefix = prefix
        self.targetSize = targetSize
        self.fileSystem = fileSystem
    }

    /// Appends a piece, opening a new shard if needed and closing it once it is full.
    public func append(_ piece: ShardPiece) throws {
        guard piece.records > 0 else { return }
        if current == nil {
            let index = closed.count
            let tempName = "\(prefix)-\(String(format: "%05d", index)).jsonl.zst.tmp"
            let tempPath = (directory as NSString).appendingPathComponent(tempName)
            let file = try fileSystem.create(tempPath)
            temporaryPaths.append(tempPath)
            let entry = ShardEntry(file: "", split: split, records: 0, bytes: 0, uncompressedBytes: 0, xxh3: "", categories: [:])
            current = (file, tempPath, entry, try XXH3Hasher())
        }
        try piece.compressed.withUnsafeBytes { raw in
            try current!.file.write(raw)
            current!.hasher.update(raw)
        }
        current!.entry.records += piece.records
        current!.entry.bytes += piece.compressed.count
        current!.entry.uncompressedBytes += piece.uncompressedBytes
        current!.entry.categories.merge(piece.categories, uniquingKeysWith: +)
        if current!.entry.uncompressedBytes >= targetSize {
            try closeCurrent()
        }
    }

    private func closeCurrent() throws {
        guard var shard = current else { return }
        current = nil
        try shard.file.close()
        shard.entry.xxh3 = XXH3.hex(shard.hasher.digest)
        closed.append((shard.tempPath, shard.entry))
    }

    /// Closes the last shard and renames every shard to its final name.
    /// - Returns: the entries, in order.
    public func finish() throws -> [ShardEntry] {
        try closeCurrent()
        let total = closed.count
        var entries: [ShardEntry] = []
        for (index, shard) in closed.enumerated() {
            var entry = shard.entry
            entry.file = "\(prefix)-\(String(format: "%05d", index))-of-\(String(format: "%05d", total)).jsonl.zst"
            let finalPath = (directory as NSString).appendingPathComponent(entry.file)
            try fileSystem.rename(shard.tempPath, to: finalPath)
            temporaryPaths.removeAll { $0 == shard.tempPath }
            finalPaths.append(finalPath)
            entries.append(entry)
        }
        return entries
    }

    /// Removes every file this series created, renamed or not, after a failed run: without a manifest they are
    /// not a dataset, and must not be mistaken for one.
    public func abandon() {
        if let shard = current { try? shard.file.close() }
        current = nil
        for path in temporaryPaths + finalPaths { fileSystem.remove(path) }
        temporaryPaths.removeAll()
        finalPaths.removeAll()
    }
}
