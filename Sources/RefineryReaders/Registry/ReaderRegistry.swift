import RefineryRecords
import RefinerySpec

/// The source kinds a spec can name. Adding a reader: one file in `Formats/`, one line here.
public enum ReaderRegistry {
    /// Kind name → constructor from the source's `options` node.
    public static let formats: [(kind: String, make: @Sendable (SpecNode?) throws -> any RecordFormat)] = [
        ("jsonl", { try JSONLFormat(options: $0) }),
        ("chat_jsonl", { try ChatJSONLFormat(options: $0) }),
        ("text", { try TextFormat(options: $0) }),
        ("subtitles", { try SubtitleFormat(options: $0) }),
        ("bilingual_subtitles", { try BilingualSubtitleFormat(options: $0) }),
        ("metadata_csv", { try MetadataCSVFormat(options: $0) }),
        ("interactions", { try InteractionsFormat(options: $0) }),
    ]

    /// The format for a source spec.
    /// - Throws: ``RefineryError`` naming the source's line when the kind is unknown or its options are wrong.
    public static func format(for source: SourceSpec) throws -> any RecordFormat {
        guard let entry = formats.first(where: { $0.kind == source.kind }) else {
            throw source.node.error("unknown source kind '\(source.kind)'; known kinds: \(formats.map(\.kind).joined(separator: ", "))")
        }
        return try entry.make(source.options)
    }
}
