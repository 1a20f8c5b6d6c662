import RefineryRecords
import RefinerySpec

/// `kind: jsonl` — one JSON object per line, plain or `.jsonl.zst`, holding `text` or `messages` and any of the
/// record fields of DESIGN.md. Refinery's own shards read back with this format.
///
/// Options: `max_line_bytes` (default 64MiB): longer lines are quarantined as `line_too_long`.
public struct JSONLFormat: LineFormat, SingleRecordFormat {
    public var splitter: LineSplitter

    public init(options: SpecNode?) throws {
        let table = try options?.table(allowed: ["max_line_bytes"])
        splitter = LineSplitter(maxLineBytes: try table?.optional("max_line_bytes")?.byteSize() ?? 64 << 20)
    }

    public func decode(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext) throws(DecodeFailure) -> Record {
        let (members, repairs) = try JSONRecordMapping.parse(bytes)
        var record = context.makeRecord()
        record.utf8Repairs = repairs
        try JSONRecordMapping.fill(&record, from: members)
        if record.text != nil && record.messages != nil {
            throw .wrongShape("a record holds 'text' or 'messages', not both")
        }
        return record
    }
}
