import Foundation
import RefineryCodecs
import RefineryRecords

/// One record of a dataset split and where it was read.
public struct DatasetRecord: Sendable {
    /// The record's JSON object.
    public let value: JSONValue
    /// Index of its shard among the split's shards, in manifest order (0-based).
    public let shard: Int
    /// The shard's file name, relative to the dataset folder.
    public let file: String
    /// Line of the record in the shard's decompressed text (1-based).
    public let line: Int

    /// Creates a record read at a position.
    public init(value: JSONValue, shard: Int, file: String, line: Int) {
        self.value = value
        self.shard = shard
        self.file = file
        self.line = line
    }

    /// The record's `id`, or `file:line` when it has none.
    public var id: String { value["id"]?.stringValue ?? "\(file):\(line)" }

    /// The shard file and line, for error messages.
    public var location: SourceLocation { SourceLocation(file: file, line: line) }
}

/// The records of a dataset version, read split by split from its shards, each shard's size and xxh3-64 checked
/// against the manifest before any of its records is given out.
///
/// A shard is read whole, verified, decompressed and parsed line by line; one shard is in memory at a time.
public struct DatasetRecords: Sendable {
    /// The dataset folder.
    public let directory: String
    /// Its manifest.
    public let manifest: Manifest

    /// Opens a dataset folder.
    /// - Parameter directory: a folder holding `manifest.json` and the shards it lists.
    /// - Throws: ``RefineryError`` (code `integrity`) when it holds no readable manifest.
    public init(directory: String) throws {
        self.directory = directory
        manifest = try Manifest.read(directory: directory)
    }

    /// The shards of a split, in manifest order.
    public func shards(split: String) -> [ShardEntry] { manifest.shards.filter { $0.split == split } }

    /// The data splits, in the order the manifest lists their shards (`train`, then `validation`).
    public var splits: [String] {
        var splits: [String] = []
        for entry in manifest.shards where !splits.contains(entry.split) { splits.append(entry.split) }
        return splits
    }

    /// Calls `body` with every record of a split, shard by shard in manifest order, line by line.
    /// - Parameters:
    ///   - split: `train`, `validation`, …; a split the manifest does not list has no records.
    ///   - body: called once per record, in order; an error it throws stops the reading and is rethrown.
    /// - Throws: ``RefineryError`` (code `integrity`) naming the shard when it is missing, its size or checksum
    ///   differs from the manifest's, it does not decompress, a line is not a JSON object, or its record count
    ///   differs from the manifest's.
    public func forEach(split: String = "train", _ body: (DatasetRecord) throws -> Void) throws {
        try forEach(in: shards(split: split), body)
    }

    /// Calls `body` with every line of the given shards (data or reject shards of this dataset), in the order given;
    /// a record's ``DatasetRecord/shard`` is its shard's index in `entries`.
    /// - Throws: as ``forEach(split:_:)``.
    public func forEach(in entries: [ShardEntry], _ body: (DatasetRecord) throws -> Void) throws {
        for (shardIndex, entry) in entries.enumerated() {
            let plain = try verifiedContents(of: entry)
            let path = (directory as NSString).appendingPathComponent(entry.file)
            var start = 0
            var line = 0
            var records = 0
            while start < plain.count {
                let end = plain[start...].firstIndex(of: 0x0A) ?? plain.count
                line += 1
                defer { start = end + 1 }
                guard end > start else { continue } // a blank line is not a record
                let value: JSONValue
                do {
                    value = try plain[start..<end].withUnsafeBufferPointer { try JSONParser.parse($0).value }
                } catch {
                    throw RefineryError(.integrity, "not a JSON record: \(error); the shard is damaged, rebuild the dataset",
                                        at: SourceLocation(file: path, line: line))
                }
                guard case .object = value else {
                    throw RefineryError(.integrity, "a record is a JSON \(value.typeName), not an object; the shard is damaged, rebuild the dataset",
                                        at: SourceLocation(file: path, line: line))
                }
                records += 1
                try body(DatasetRecord(value: value, shard: shardIndex, file: entry.file, line: line))
            }
            guard records == entry.records else {
                throw RefineryError(.integrity, "holds \(records) records, the manifest says \(entry.records); rebuild the dataset",
                                    at: SourceLocation(file: path))
            }
        }
    }

    /// A shard's decompressed bytes, after its size and checksum are checked against the manifest.
    /// - Throws: ``RefineryError`` (code `integrity`) naming the shard.
    public func verifiedContents(of entry: ShardEntry) throws -> [UInt8] {
        let path = (directory as NSString).appendingPathComponent(entry.file)
        guard !entry.file.hasPrefix("/"), !entry.file.split(separator: "/").contains("..") else {
            throw RefineryError(.integrity, "the manifest names a shard outside the dataset folder", at: SourceLocation(file: path))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RefineryError(.integrity, "shard \(entry.file) is missing or unreadable", at: SourceLocation(file: path))
        }
        let bytes = [UInt8](data)
        guard bytes.count == entry.bytes else {
            throw RefineryError(.integrity, "shard \(entry.file) has \(bytes.count) bytes, the manifest says \(entry.bytes); "
                                + "run `refinery inspect` on the dataset or rebuild it", at: SourceLocation(file: path))
        }
        let checksum = XXH3.hex(XXH3.hash(bytes))
        guard checksum == entry.xxh3 else {
            throw RefineryError(.integrity, "shard \(entry.file) has checksum \(checksum), the manifest says \(entry.xxh3); "
                                + "run `refinery inspect` on the dataset or rebuild it", at: SourceLocation(file: path))
        }
        do {
            return try ZstdDecompressor.decompressAll(bytes)
        } catch {
            throw RefineryError(.integrity, "shard \(entry.file) does not decompress", at: SourceLocation(file: path), cause: error)
        }
    }
}
