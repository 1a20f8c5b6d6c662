import Foundation
import RefineryRecords
import RefineryShards

/// The texts of a dataset version's records, read from its shards after their checksums are verified against the
/// manifest (``DatasetRecords``): a document's `text`, a chat's message contents one by one; interaction histories
/// have none.
public struct DatasetTexts {
    /// The dataset folder.
    public var directory: String { records.directory }
    /// Its manifest.
    public var manifest: Manifest { records.manifest }
    private let records: DatasetRecords

    /// Opens a dataset folder.
    /// - Throws: ``RefineryError`` (code `integrity`) when it holds no readable manifest.
    public init(directory: String) throws {
        records = try DatasetRecords(directory: directory)
    }

    /// Calls `body` with every text of the split's records, shard by shard, in manifest order.
    /// - Throws: ``RefineryError`` (code `integrity`) naming a shard whose bytes differ from the manifest's.
    public func forEachText(split: String = "train", _ body: (String) throws -> Void) throws {
        try records.forEach(split: split) { record in
            if let text = record.value["text"]?.stringValue {
                try body(text)
            } else if case .array(let messages)? = record.value["messages"] {
                for message in messages { if let content = message["content"]?.stringValue { try body(content) } }
            }
        }
    }
}
