import Foundation
import RefineryCodecs
import RefineryRecords

/// Reads a dataset folder or one shard back: verifies checksums, sizes and record counts against the manifest,
/// counts categories, and streams records or rejects.
public struct DatasetInspector {
    /// What verifying one shard found.
    public struct ShardCheck: Sendable {
        public var file: String
        public var split: String
        public var records: Int
        public var categories: [String: Int]
        /// Problems found; empty when the shard matches its manifest entry.
        public var problems: [String]
    }

    public init() {}

    /// Verifies one shard file; compares with `entry` when the manifest lists it.
    public func check(path: String, entry: ShardEntry?, countField: String = "category") throws -> ShardCheck {
        guard let bytes = POSIXFileSystem.contents(atPath: path) else {
            return ShardCheck(file: path, split: entry?.split ?? "?", records: 0, categories: [:], problems: ["missing or unreadable"])
        }
        var problems: [String] = []
        if let entry {
            if bytes.count != entry.bytes { problems.append("size \(bytes.count) bytes, manifest says \(entry.bytes)") }
            let hash = XXH3.hex(XXH3.hash(bytes))
            if hash != entry.xxh3 { problems.append("xxh3 \(hash), manifest says \(entry.xxh3)") }
        }
        var records = 0
        var categories: [String: Int] = [:]
        do {
            let plain = try ZstdDecompressor.decompressAll(bytes, expectedSize: entry?.uncompressedBytes ?? 0)
            if let entry, plain.count != entry.uncompressedBytes {
                problems.append("\(plain.count) bytes uncompressed, manifest says \(entry.uncompressedBytes)")
            }
            try forEachLine(plain) { line in
                records += 1
                let value = try JSONParser.parse(line).value
                let key = value[countField]?.stringValue ?? "(none)"
                categories[key, default: 0] += 1
            }
        } catch {
            problems.append("unreadable: \(error)")
        }
        if let entry {
            if records != entry.records { problems.append("\(records) records, manifest says \(entry.records)") }
            if problems.isEmpty && categories != entry.categories { problems.append("category counts differ from the manifest") }
        }
        return ShardCheck(file: path, split: entry?.split ?? "?", records: records, categories: categories, problems: problems)
    }

    /// Verifies every data and reject shard a dataset folder's manifest lists, in manifest order (reject shards'
    /// counts are by reason, data shards' by category).
    public func checkAll(_ manifest: Manifest, in directory: String) throws -> [(entry: ShardEntry, check: ShardCheck)] {
        try (manifest.shards.map { ($0, "category") } + manifest.rejects.map { ($0, "reason") }).map { entry, countField in
            (entry, try check(path: (directory as NSString).appendingPathComponent(entry.file), entry: entry, countField: countField))
        }
    }

    /// Calls `body` with every line of a shard, in order.
    public func forEachRecord(path: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> Bool) throws {
        guard let bytes = POSIXFileSystem.contents(atPath: path) else {
            throw RefineryError(.integrity, "missing or unreadable shard", at: SourceLocation(file: path))
        }
        let plain = try ZstdDecompressor.decompressAll(bytes)
        var stop = false
        try forEachLine(plain) { line in
            if !stop { stop = !(try body(line)) }
        }
    }

    private func forEachLine(_ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            while let end = DatasetRecords.newline(in: buffer, from: start, to: buffer.count) {
                try body(UnsafeBufferPointer(rebasing: buffer[start..<end]))
                start = end + 1
            }
            if start < buffer.count { try body(UnsafeBufferPointer(rebasing: buffer[start...])) }
        }
    }
}
