/// Parses ASS/SSA: the `[Events]` section's `Dialogue:` lines, read in the column order its `Format:` line gives
/// (the text is always the last column and may hold commas). `Comment:` lines are skipped (event
/// `comment_skipped`); without a `Format:` line the ASS default order is used (event `default_format`).
///
/// Problems: `wrong_column_count` (a dialogue line with fewer columns than the format), `invalid_timestamp`,
/// `missing_events` (no `[Events]` section with a dialogue line). The text keeps its override blocks and `\N`
/// escapes: ``CueCleaner`` removes them.
public struct ASSParser: Sendable {
    static let defaultFormat = ["layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text"]

    public init() {}

    /// Dialogue cues with text ranges into `bytes` (UTF-8), problems and events.
    public func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedSubtitles {
        var result = ParsedSubtitles()
        var cursor = LineCursor(bytes)
        var inEvents = false
        var sawEvents = false
        var columns: [String]?
        while let line = cursor.next() {
            let range = line.range
            var i = range.lowerBound
            while i < range.upperBound && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
            guard i < range.upperBound else { continue }
            if bytes[i] == UInt8(ascii: "[") {
                let section = cursor.string(i..<range.upperBound).trimmingSpaces.lowercased()
                inEvents = section == "[events]"
                sawEvents = sawEvents || inEvents
                continue
            }
            guard inEvents else { continue }
            guard let colon = (i..<range.upperBound).first(where: { bytes[$0] == 0x3A }) else { continue }
            let key = cursor.string(i..<colon).trimmingSpaces.lowercased()
            switch key {
            case "format":
                columns = cursor.string((colon + 1)..<range.upperBound).split(separator: ",").map { $0.trimmingSpaces.lowercased() }
            case "comment":
                result.note("comment_skipped")
            case "dialogue":
                if columns == nil {
                    result.note("default_format")
                    columns = Self.defaultFormat
                }
                let format = columns!
                guard let startColumn = format.firstIndex(of: "start"), let endColumn = format.firstIndex(of: "end"),
                      format.last == "text"
                else {
                    result.problem("wrong_column_count", "the Format line needs Start, End and Text (last)", line: line.number,
                                   raw: cursor.string(range))
                    continue
                }
                // Split into format.count fields; the last one (text) takes the rest of the line.
                var fields: [Range<Int>] = []
                var fieldStart = colon + 1
                var j = fieldStart
                while j < range.upperBound && fields.count < format.count - 1 {
                    if bytes[j] == 0x2C {
                        fields.append(fieldStart..<j)
                        fieldStart = j + 1
                    }
                    j += 1
                }
                guard fields.count == format.count - 1 else {
                    result.problem("wrong_column_count", "\(fields.count + 1) columns, the Format line names \(format.count)",
                                   line: line.number, raw: cursor.string(range))
                    continue
                }
                fields.append(fieldStart..<range.upperBound)
                let startField = fields[startColumn], endField = fields[endColumn]
                guard let start = SubtitleTime.parse(bytes, at: startField.lowerBound, end: startField.upperBound, style: .ass),
                      Self.onlySpaces(bytes, start.next..<startField.upperBound),
                      let end = SubtitleTime.parse(bytes, at: endField.lowerBound, end: endField.upperBound, style: .ass),
                      Self.onlySpaces(bytes, end.next..<endField.upperBound)
                else {
                    result.problem("invalid_timestamp", "cannot read Start '\(cursor.string(startField))' or End '\(cursor.string(endField))' as H:MM:SS.cc",
                                   line: line.number, raw: cursor.string(range))
                    continue
                }
                let text = fields[format.count - 1]
                if text.isEmpty {
                    result.note("empty_cue")
                } else {
                    result.cues.append(Cue(start: start.ms, end: end.ms, text: text, line: line.number))
                }
            default:
                continue
            }
        }
        if !sawEvents || (result.cues.isEmpty && result.problems.isEmpty && result.events["empty_cue"] == nil) {
            result.problem("missing_events", sawEvents ? "the [Events] section holds no Dialogue line" : "no [Events] section",
                           line: 1, raw: String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<min(bytes.count, 200)]), as: UTF8.self))
        }
        return result
    }

    static func onlySpaces(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        CueBlockParser.onlySpaces(bytes, range)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
