import RefineryRecords

/// A record's text split once into words, lines and paragraphs, shared by every stage that reads it (language,
/// PII, quality, toxicity) instead of each stage re-tokenising.
///
/// The text is the record's `text`, or for a chat its turns' contents joined by a blank line (so each turn is a
/// paragraph). Ranges are byte offsets into ``bytes`` (UTF-8). A word is a maximal run of letters, digits and
/// marks (Unicode categories L, N, M) plus inner apostrophes and hyphens (`don't`, `e-mail`); scripts written
/// without spaces (Han, Hiragana, Katakana, Thai…) give one word per character, so counts stay meaningful.
public struct TextView: Sendable {
    /// The text as UTF-8.
    public let bytes: [UInt8]
    /// Words, in order.
    public let words: [Range<Int>]
    /// Lines (split at `\n`, CR removed), empty lines included.
    public let lines: [Range<Int>]
    /// Paragraphs: runs of non-blank lines.
    public let paragraphs: [Range<Int>]
    /// Unicode scalars in the text.
    public let scalarCount: Int

    public init(_ text: String) {
        let bytes = Array(text.utf8)
        var words: [Range<Int>] = []
        var lines: [Range<Int>] = []
        var paragraphs: [Range<Int>] = []
        var scalars = 0
        var wordStart: Int?
        var lineStart = 0
        var paragraphStart: Int?
        var lastContentEnd = 0
        var lineHasContent = false
        var i = 0
        let n = bytes.count
        func closeLine(_ end: Int) {
            var stop = end
            if stop > lineStart && bytes[stop - 1] == 0x0D { stop -= 1 }
            lines.append(lineStart..<stop)
            if lineHasContent {
                if paragraphStart == nil { paragraphStart = lineStart }
                lastContentEnd = stop
            } else if let start = paragraphStart {
                paragraphs.append(start..<lastContentEnd)
                paragraphStart = nil
            }
            lineHasContent = false
        }
        while i < n {
            let byte = bytes[i]
            let length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
            let scalar = Self.scalar(at: i, in: bytes)
            scalars += 1
            if byte == 0x0A {
                if let start = wordStart { words.append(start..<i); wordStart = nil }
                closeLine(i)
                lineStart = i + 1
                i += 1
                continue
            }
            let kind = Self.kind(of: scalar)
            if byte < 0x80 ? kind != .space : !scalar.properties.isWhitespace { lineHasContent = true }
            switch kind {
            case .word:
                if wordStart == nil { wordStart = i }
            case .joiner:
                // An apostrophe or hyphen between two word characters stays in the word; elsewhere it ends it.
                let inside = wordStart != nil && i + length < n && Self.kind(of: Self.scalar(at: i + length, in: bytes)) == .word
                if !inside, let start = wordStart {
                    words.append(start..<i)
                    wordStart = nil
                }
            case .ideograph:
                if let start = wordStart { words.append(start..<i) }
                words.append(i..<(i + length))
                wordStart = nil
            case .space, .other:
                if let start = wordStart { words.append(start..<i); wordStart = nil }
            }
            i += length
        }
        if let start = wordStart { words.append(start..<n) }
        if lineStart < n || n == 0 || bytes.last == 0x0A { closeLine(n) }
        if let start = paragraphStart { paragraphs.append(start..<lastContentEnd) }
        self.bytes = bytes
        self.words = words
        self.lines = lines
        self.paragraphs = paragraphs
        scalarCount = scalars
    }

    /// The text of a range.
    public func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    enum Kind { case word, joiner, ideograph, space, other }

    static func scalar(at i: Int, in bytes: [UInt8]) -> Unicode.Scalar {
        let byte = bytes[i]
        if byte < 0x80 { return Unicode.Scalar(byte) }
        let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
        var value = UInt32(byte) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for k in 1..<length where i + k < bytes.count { value = value << 6 | UInt32(bytes[i + k] & 0x3F) }
        return Unicode.Scalar(value) ?? "\u{FFFD}"
    }

    static func kind(of scalar: Unicode.Scalar) -> Kind {
        let v = scalar.value
        if v < 0x80 {
            switch v {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return .word
            case 0x27, 0x2D: return .joiner
            case 0x20, 0x09, 0x0D, 0x0B, 0x0C: return .space
            default: return .other
            }
        }
        if v == 0x2019 || v == 0x2010 { return .joiner }
        // Scripts without spaces between words: each character counts as a word.
        if (0x3040...0x30FF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x0E00...0x0E7F).contains(v) || (0x20000...0x2FA1F).contains(v) {
            return .ideograph
        }
        if scalar.properties.isWhitespace { return .space }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber:
            return .word
        default:
            return .other
        }
    }
}

/// The view of the record a stage is looking at, built on first use and kept for the next stages until a stage
/// changes the text (and calls ``invalidate()``).
public struct RecordView: Sendable {
    private var cached: TextView?

    public init() {}

    /// The record's text view: `text`, or a chat's turns joined by blank lines.
    public mutating func text(of record: Record) -> TextView {
        if let cached { return cached }
        let view = TextView(Self.text(of: record))
        cached = view
        return view
    }

    /// Forgets the view; call after changing the record's text or messages.
    public mutating func invalidate() { cached = nil }

    /// What a record's view is built from.
    public static func text(of record: Record) -> String {
        if let text = record.text { return text }
        if let messages = record.messages { return messages.map(\.content).joined(separator: "\n\n") }
        return ""
    }
}
