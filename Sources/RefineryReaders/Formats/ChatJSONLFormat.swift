import RefineryRecords
import RefinerySpec

/// `kind: chat_jsonl` — one conversation per line with `messages` (`role`/`content`), and optionally a rating
/// that becomes the record's `reward`, or a `reward` in [0, 1] read as it is. A line with both (neither `null`) is
/// quarantined as `wrong_shape`: two answers for one reward, and neither may silently win.
///
/// Options:
/// - `rating_field` (default `rating`): the field holding the rating; a number, or `true`/`false` (thumbs).
/// - `rating_min`, `rating_max` (default 1 and 5): a rating r becomes reward (r − min) / (max − min);
///   a rating outside the range is quarantined as `invalid_rating`.
/// - `max_line_bytes` (default 64MiB).
public struct ChatJSONLFormat: LineFormat, SingleRecordFormat {
    public var splitter: LineSplitter
    public var ratingField: String
    public var ratingMin: Double
    public var ratingMax: Double

    public init(options: SpecNode?) throws {
        let table = try options?.table(allowed: ["rating_field", "rating_min", "rating_max", "max_line_bytes"])
        splitter = LineSplitter(maxLineBytes: try table?.optional("max_line_bytes")?.byteSize() ?? 64 << 20)
        ratingField = try table?.optional("rating_field")?.string() ?? "rating"
        ratingMin = try table?.optional("rating_min")?.double() ?? 1
        ratingMax = try table?.optional("rating_max")?.double() ?? 5
        if ratingMax <= ratingMin, let node = options {
            throw node.error("rating_max (\(ratingMax)) must be greater than rating_min (\(ratingMin))")
        }
    }

    public func decode(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext) throws(DecodeFailure) -> Record {
        let (members, repairs) = try JSONRecordMapping.parse(bytes)
        var record = context.makeRecord()
        record.utf8Repairs = repairs
        try JSONRecordMapping.fill(&record, from: members, skipping: [ratingField])
        guard record.messages != nil else { throw .wrongShape("a chat line needs 'messages'") }
        if record.text != nil { throw .wrongShape("a chat line holds 'messages', not 'text'") }
        if let rating = members.first(where: { $0.key == ratingField })?.value {
            // `fill` has set `reward` from the line's own `reward` field; the rating must not overwrite it.
            if record.reward != nil, rating != .null {
                throw .wrongShape("the line gives both '\(ratingField)' and 'reward'; give one of them (a rating becomes the reward)")
            }
            switch rating {
            case .null:
                break
            case .bool(let up):
                record.reward = up ? 1 : 0
            case .number:
                let value = rating.doubleValue ?? .nan
                guard value >= ratingMin, value <= ratingMax else {
                    throw DecodeFailure(reason: "invalid_rating", detail: "'\(ratingField)' \(value) is outside [\(ratingMin), \(ratingMax)]")
                }
                record.reward = (value - ratingMin) / (ratingMax - ratingMin)
            default:
                throw .wrongShape("'\(ratingField)' must be a number or a boolean, found \(rating.typeName)")
            }
            record.meta.append((ratingField, rating))
        }
        return record
    }
}
