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

/// Subtitle timestamps, in the shape each format writes them. The fraction is always there, so a timestamp cut short
/// (`00:00:0`, `00:00:03`, `00:00:03,`) does not parse, rather than read as another time; minutes and seconds of one
/// digit are read (`0:1:5.2`, which hand-written files and some tools have), of three or more are not.
enum SubtitleTime {
    /// The timestamp shape of one subtitle format.
    enum Style {
        /// SRT: `H:MM:SS,mmm`. Hours of one or more digits (`0:00:01,000` is common), `.` accepted for `,`, one to
        /// three fraction digits (`,5` is 500 ms).
        case srt
        /// WebVTT: `[H:]MM:SS.mmm`. Hours optional, otherwise as SRT (`,` is accepted for `.`).
        case webVTT
        /// ASS/SSA: `H:MM:SS.cc`, two digits of centiseconds.
        case ass

        /// How the shape reads in an error message.
        var pattern: String {
            switch self {
            case .srt: "HH:MM:SS,mmm"
            case .webVTT: "[HH:]MM:SS.mmm"
            case .ass: "H:MM:SS.cc"
            }
        }
    }

    /// Parses a timestamp at `index` (leading spaces skipped); returns milliseconds and the index after it, or nil
    /// when the bytes there are not a whole timestamp of `style`. What follows it is the caller's to check.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, end: Int, style: Style) -> (ms: Int, next: Int)? {
        var i = index
        while i < end && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
        // Reads a run of digits: its value (the first 9 digits; no field may be longer) and its length.
        func digits() -> (value: Int, count: Int) {
            var value = 0
            var count = 0
            while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                if count < 9 { value = value * 10 + Int(bytes[i] - 0x30) }
                count += 1
                i += 1
            }
            return (value, count)
        }
        func colon() -> Bool {
            guard i < end && bytes[i] == 0x3A else { return false }
            i += 1
            return true
        }
        // [hours:]minutes:seconds, without allocating: two fields, then a third when another colon follows.
        let first = digits()
        guard colon() else { return nil }
        let second = digits()
        var hours = 0
        let minutes: (value: Int, count: Int), seconds: (value: Int, count: Int)
        if colon() {
            guard (1...9).contains(first.count) else { return nil }
            hours = first.value
            minutes = second
            seconds = digits()
        } else {
            guard style == .webVTT else { return nil }
            minutes = first
            seconds = second
        }
        guard (1...2).contains(minutes.count), (1...2).contains(seconds.count), minutes.value < 60, seconds.value < 60 else { return nil }
        // The fraction: `,` or `.` and one to three digits of milliseconds, or `.` and two of centiseconds for ASS.
        guard i < end, bytes[i] == 0x2E || (bytes[i] == 0x2C && style != .ass) else { return nil }
        i += 1
        let fraction = digits()
        let millis: Int
        switch (style, fraction.count) {
        case (.ass, 2): millis = fraction.value * 10
        case (.srt, 1), (.webVTT, 1): millis = fraction.value * 100
        case (.srt, 2), (.webVTT, 2): millis = fraction.value * 10
        case (.srt, 3), (.webVTT, 3): millis = fraction.value
        default: return nil
        }
        return (((hours * 60 + minutes.value) * 60 + seconds.value) * 1000 + millis, i)
    }

    /// `HH:MM:SS.mmm`, for `meta`.
    static func format(_ ms: Int) -> String {
        let h = ms / 3_600_000, m = ms / 60_000 % 60, s = ms / 1000 % 60, f = ms % 1000
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let frac = f < 10 ? "00\(f)" : f < 100 ? "0\(f)" : "\(f)"
        return "\(two(h)):\(two(m)):\(two(s)).\(frac)"
    }
}
