import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards

/// The texts of a dataset version's records, read from its shards after their checksums are verified against the
/// manifest: a document's `text`, a chat's message contents one by one; interaction histories have none.
public struct DatasetTexts {
    public let directory: String
    public let manifest: Manifest

    /// Opens a dataset folder.
    /// - Throws: ``RefineryError`` (code `integrity`) when it holds no readable manifest.
    public init(directory: String) throws {
        self.directory = directory
        manifest = try Manifest.read(directory: directory)
    }

    /// Calls `body` with every text of the split's records, shard by shard, in manifest order.
    /// - Throws: ``RefineryError`` (code `integrity`) naming a shard whose bytes differ from the manifest's.
    public func forEachText(split: String = "train", _ body: (String) throws -> Void) throws {
        for entry in manifest.shards where entry.split == split {
            let path = (directory as NSString).appendingPathComponent(entry.file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RefineryError(.integrity, "missing or unreadable shard", at: SourceLocation(file: path))
            }
            let bytes = [UInt8](data)
            guard bytes.count == entry.bytes, XXH3.hex(XXH3.hash(bytes)) == entry.xxh3 else {
                throw RefineryError(.integrity, "checksum differs from the manifest's; run `refinery inspect` on the dataset",
                                    at: SourceLocation(file: path))
            }
            let plain = try ZstdDecompressor.decompressAll(bytes)
            var start = 0
            var line = 0
            for end in plain.indices where plain[end] == 0x0A {
                line += 1
                let record: JSONValue
                do {
                    record = try plain[start..<end].withUnsafeBufferPointer { try JSONParser.parse($0).value }
                } catch {
                    throw RefineryError(.integrity, "not a JSON record: \(error)", at: SourceLocation(file: path, line: line))
                }
                start = end + 1
                if let text = record["text"]?.stringValue {
                    try body(text)
                } else if case .array(let messages)? = record["messages"] {
                    for message in messages { if let content = message["content"]?.stringValue { try body(content) } }
                }
            }
        }
    }
}
