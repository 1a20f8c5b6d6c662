/// One subtitle cue: a time span and where its text is. Parsers point `text` into the file's UTF-8 bytes (raw,
/// line ends included); after cleaning it points into the cleaned-text arena (lines joined by `\n`), so no cue
/// owns an array of its own.
public struct Cue: Sendable, Equatable {
    /// Start, milliseconds from the beginning of the video.
    public var start: Int
    /// End, milliseconds.
    public var end: Int
    /// Byte range of the text in its buffer.
    public var text: Range<Int>
    /// 1-based line of the file where the cue starts (its number or timing line).
    public var line: Int

    public init(start: Int, end: Int, text: Range<Int>, line: Int) {
        self.start = start
        self.end = end
        self.text = text
        self.line = line
    }
}

/// What a subtitle parser found in one file: cues in file order (their text ranges point into the parsed
/// bytes, or into `arena` once cleaned), malformed blocks (each with a named reason and its line), and counts
/// of what it repaired or skipped.
public struct ParsedSubtitles: Sendable {
    public var cues: [Cue] = []
    /// Cleaned cue texts back to back (filled by ``SubtitleDecoder``).
    public var arena: [UInt8] = []
    public var problems: [(failure: DecodeFailure, line: Int, raw: String)] = []
    public var events: [String: Int] = [:]

    public init() {}

    /// A cleaned cue's text.
    public func string(_ cue: Cue) -> String { String(decoding: arena[cue.text], as: UTF8.self) }

    mutating func note(_ event: String) { events[event, default: 0] += 1 }

    mutating func problem(_ reason: String, _ detail: String, line: Int, raw: String) {
        problems.append((DecodeFailure(reason: reason, detail: detail), line, raw))
    }
}

/// Iterates the lines of a UTF-8 buffer: LF, CRLF and lone CR all end a line.
struct LineCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    /// 1-based number of the line `next()` returns next.
    var number = 1

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The next line's byte range (without its end) and number, or nil at the end.
    mutating func next() -> (range: Range<Int>, number: Int)? {
        guard position < bytes.count else { return nil }
        let start = position
        var end = start
        while end < bytes.count && bytes[end] != 0x0A && bytes[end] != 0x0D { end += 1 }
        position = end
        if position < bytes.count {
            position += bytes[position] == 0x0D && position + 1 < bytes.count && bytes[position + 1] == 0x0A ? 2 : 1
        }
        defer { number += 1 }
        return (start..<end, number)
    }

    /// Whether a line holds only spaces and tabs.
    func isBlank(_ range: Range<Int>) -> Bool {
        for i in range where bytes[i] != 0x20 && bytes[i] != 0x09 { return false }
        return true
    }

    func string(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
}

/// Subtitle timestamps: `[H…:]MM:SS[,.]fff` (SRT, WebVTT) and `H:MM:SS.cc` (ASS).
enum SubtitleTime {
    /// Parses a timestamp at `index` (leading spaces skipped); returns milliseconds and the index after it.
    /// Accepts 1–3 fraction digits (`,5` is 500 ms) and an hours field of any width.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, end: Int) -> (ms: Int, next: Int)? {
        var i = index
        while i < end && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
        // Up to three colon-separated fields, without allocating: [hours:]minutes:seconds.
        var fields = (0, 0, 0)
        var count = 0
        while true {
            var value = 0
            var digits = 0
            while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39, digits < 9 {
                value = value * 10 + Int(bytes[i] - 0x30)
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            fields = (fields.1, fields.2, value)
            count += 1
            if i < end && bytes[i] == 0x3A && count < 3 {
                i += 1
                continue
            }
            break
        }
        guard count >= 2 else { return nil }
        let (hours, minutes, seconds) = (count == 3 ? fields.0 : 0, fields.1, fields.2)
        guard seconds < 60, minutes < 60 else { return nil }
        var millis = 0
        if i < end && (bytes[i] == 0x2C || bytes[i] == 0x2E) {
            i += 1
            var digits = 0
            var scale = 100
            while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                if digits < 3 { millis += Int(bytes[i] - 0x30) * scale; scale /= 10 }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
        }
        return (((hours * 60 + minutes) * 60 + seconds) * 1000 + millis, i)
    }

    /// `HH:MM:SS.mmm`, for `meta`.
    static func format(_ ms: Int) -> String {
        let h = ms / 3_600_000, m = ms / 60_000 % 60, s = ms / 1000 % 60, f = ms % 1000
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let frac = f < 10 ? "00\(f)" : f < 100 ? "0\(f)" : "\(f)"
        return "\(two(h)):\(two(m)):\(two(s)).\(frac)"
    }
}
