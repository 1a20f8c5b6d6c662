import Foundation
import RefineryRecords

/// A record's text split once into words, lines and paragraphs, shared by every stage that reads it (language,
/// PII, quality, toxicity) instead of each stage re-tokenising.
///
/// The text is the record's `text`, or for a chat its turns' contents joined by a blank line (so each turn is a
/// paragraph). Ranges are byte offsets into ``bytes`` (UTF-8). A word is a maximal run of letters, digits and
/// marks (Unicode categories L, N, M) plus inner apostrophes and hyphens (`don't`, `e-mail`); scripts written
/// without spaces (Han, Hiragana, Katakana, Thai…) give one word per character, so counts stay meaningful.
///
/// Building one is a single pass: runs of ASCII letters and digits are found eight bytes at a time (``ByteLanes``)
/// and other scalars are classified by ``ScalarClassTable`` instead of `Unicode.Scalar.Properties`. That took it
/// from 43 to about 300 MB/s on one core on the benchmark corpus (`tools/bench/gen_corpus.py`, documents).
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

    /// Splits `text` into words, lines and paragraphs.
    /// - Complexity: O(n) in the text's UTF-8 length, one pass.
    public init(_ text: String) {
        self.init(utf8: Array(text.utf8))
    }

    /// Splits UTF-8 that is known to be valid (the bytes of a `String`, or several joined).
    init(utf8 bytes: [UInt8]) {
        (words, lines, paragraphs, scalarCount) = bytes.withUnsafeBufferPointer { Self.split($0, ScalarClassTable.shared) }
        self.bytes = bytes
    }

    /// One pass over the bytes: words by the kind of each scalar, lines at `\n`, paragraphs at blank lines.
    private static func split(_ p: UnsafeBufferPointer<UInt8>, _ table: ScalarClassTable)
        -> (words: [Range<Int>], lines: [Range<Int>], paragraphs: [Range<Int>], scalars: Int)
    {
        let n = p.count
        var words: [Range<Int>] = []
        // About one word per six bytes in prose: reserving that saves most of the array's regrowth copies.
        words.reserveCapacity(n / 6)
        // Lines are one more than the line feeds, and paragraphs at most half as many, rounded up: counted first
        // (memchr), so each array is allocated once. Grown append by append, a subtitle window's few lines were
        // reallocated two or three times.
        var lineFeeds = 0
        if let base = p.baseAddress {
            var at = UnsafeRawPointer(base)
            let end = at + n
            while at < end, let found = memchr(at, 0x0A, end - at) {
                lineFeeds += 1
                at = UnsafeRawPointer(found) + 1
            }
        }
        var lines: [Range<Int>] = []
        lines.reserveCapacity(lineFeeds + 1)
        var paragraphs: [Range<Int>] = []
        paragraphs.reserveCapacity(lineFeeds / 2 + 1)
        var wordStart: Int?
        var lineStart = 0
        var paragraphStart: Int?
        var lastContentEnd = 0
        var lineHasContent = false
        // Every byte that is not a UTF-8 continuation byte starts a scalar.
        var continuations = 0
        func closeLine(_ end: Int) {
            var stop = end
            if stop > lineStart && p[stop - 1] == 0x0D { stop -= 1 }
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
        var i = 0
        while i < n {
            let byte = p[i]
            if Self.isASCIIWordByte(byte) {
                // Most text is runs of ASCII letters and single spaces: take the run at once, and a space after it.
                if wordStart == nil { wordStart = i }
                lineHasContent = true
                i = Self.endOfASCIIWordRun(p, from: i + 1)
                if i < n && p[i] == 0x20, let start = wordStart {
                    words.append(start..<i)
                    wordStart = nil
                    i += 1
                }
                continue
            }
            if byte == 0x0A {
                if let start = wordStart { words.append(start..<i); wordStart = nil }
                closeLine(i)
                lineStart = i + 1
                i += 1
                continue
            }
            let (scalar, length) = Self.decode(p, at: i)
            continuations += length - 1
            let kind = table.kind(of: scalar)
            // Tests on the kind's bits rather than a `switch`: the compiler made the switch (and an if-chain of
            // `==`) a jump table, an indirect branch mispredicted on most separators.
            if kind.endsWord {
                if let start = wordStart { words.append(start..<i); wordStart = nil }
                if kind == .other { lineHasContent = true }
            } else {
                lineHasContent = true
                if kind == .word {
                    if wordStart == nil { wordStart = i }
                    // The rest of the run of word characters (a word in Cyrillic, Greek, Arabic…) in a tight loop.
                    i = Self.endOfWordRun(p, from: i + length, table, continuations: &continuations)
                    continue
                } else if kind == .joiner {
                    // An apostrophe or hyphen between two word characters stays in the word; elsewhere it ends it.
                    let inside = wordStart != nil && i + length < n && table.kind(of: Self.decode(p, at: i + length).scalar) == .word
                    if !inside, let start = wordStart {
                        words.append(start..<i)
                        wordStart = nil
                    }
                } else {
                    // An ideograph: a word by itself, and so is each one right after it (taken in a tight loop).
                    if let start = wordStart { words.append(start..<i) }
                    wordStart = nil
                    words.append(i..<(i + length))
                    i += length
                    while i < n && p[i] >= 0xE0 {
                        let (next, nextLength) = Self.decode(p, at: i)
                        guard table.kind(of: next) == .ideograph else { break }
                        words.append(i..<(i + nextLength))
                        continuations += nextLength - 1
                        i += nextLength
                    }
                    continue
                }
            }
            i += length
        }
        if let start = wordStart { words.append(start..<n) }
        if lineStart < n || n == 0 || p.last == 0x0A { closeLine(n) }
        if let start = paragraphStart { paragraphs.append(start..<lastContentEnd) }
        return (words, lines, paragraphs, n - continuations)
    }

    /// The end of the run of word characters (letters, digits and marks of any script) at `start`; counts the
    /// continuation bytes it passes.
    @inline(__always)
    static func endOfWordRun(_ p: UnsafeBufferPointer<UInt8>, from start: Int, _ table: ScalarClassTable,
                             continuations: inout Int) -> Int {
        var i = start
        while i < p.count {
            if p[i] < 0x80 {
                guard isASCIIWordByte(p[i]) else { return i }
                i = endOfASCIIWordRun(p, from: i + 1)
                continue
            }
            let (scalar, length) = decode(p, at: i)
            guard table.kind(of: scalar) == .word else { return i }
            continuations += length - 1
            i += length
        }
        return i
    }

    /// The end of the run of ASCII letters and digits at `start`, eight bytes per step.
    @inline(__always)
    static func endOfASCIIWordRun(_ p: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        ByteLanes.endOfRun(p, from: start, lanes: ByteLanes.letterOrDigit, byte: isASCIIWordByte)
    }

    /// Whether an ASCII byte is a letter or digit (a word character; ``ScalarClassTable`` agrees).
    @inline(__always)
    static func isASCIIWordByte(_ byte: UInt8) -> Bool {
        // Bit `byte % 64` of one of two masks (digits in the first, letters in the second): a shift and a test
        // instead of two range checks, each a branch the processor often guessed wrong.
        let mask: UInt64 = byte < 64 ? 0x03FF_0000_0000_0000 : byte < 128 ? 0x07FF_FFFE_07FF_FFFE : 0
        return (mask &>> UInt64(byte & 63)) & 1 != 0
    }

    /// The text of a range.
    public func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// What a scalar does to words; ``ScalarClassTable`` says which scalar is which. One bit each, so that
    /// ``endsWord`` is one mask test.
    enum Kind: UInt8, Sendable {
        case word = 1, joiner = 2, ideograph = 4, space = 8, other = 16

        /// A space or another character that is not part of a word.
        var endsWord: Bool { rawValue & (Self.space.rawValue | Self.other.rawValue) != 0 }
    }

    /// The scalar value starting at byte `i` of valid UTF-8, and its length in bytes. A sequence cut short by the
    /// end of the buffer (impossible in a `String`'s bytes) reads as U+FFFD up to the end.
    @inline(__always)
    static func decode(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (scalar: UInt32, length: Int) {
        let lead = UInt32(p[i])
        if lead < 0x80 { return (lead, 1) }
        if lead < 0xE0 {
            guard i + 2 <= p.count else { return (0xFFFD, p.count - i) }
            return ((lead & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2)
        }
        if lead < 0xF0 {
            guard i + 3 <= p.count else { return (0xFFFD, p.count - i) }
            return ((lead & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
        }
        guard i + 4 <= p.count else { return (0xFFFD, p.count - i) }
        return ((lead & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
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
        let view = TextView(utf8: Self.utf8(of: record))
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

    /// ``text(of:)`` as UTF-8, with a chat's turns copied once into one buffer instead of joined into a `String`
    /// first.
    static func utf8(of record: Record) -> [UInt8] {
        if let text = record.text { return Array(text.utf8) }
        return joined(record.messages?.lazy.map(\.content) ?? [])
    }

    /// The view of a record from its JSON line as a shard or the spill holds it (``Record/writeJSON(to:)``): its
    /// `text`, or the `content` of its `messages` joined by blank lines, as ``text(of:)`` has it.
    /// - Throws: ``JSONParseError`` for a line that is not JSON.
    public static func text(ofLine line: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> TextView {
        let value = try JSONParser.parse(line).value
        if let text = value["text"]?.stringValue { return TextView(utf8: Array(text.utf8)) }
        guard case .array(let messages)? = value["messages"] else { return TextView(utf8: []) }
        return TextView(utf8: joined(messages.lazy.map { $0["content"]?.stringValue ?? "" }))
    }

    /// Turns joined by a blank line, copied once into one buffer.
    private static func joined(_ turns: some Collection<String>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(turns.reduce(2 * max(turns.count - 1, 0)) { $0 + $1.utf8.count })
        for (index, turn) in turns.enumerated() {
            if index > 0 {
                bytes.append(0x0A)
                bytes.append(0x0A)
            }
            bytes.append(contentsOf: turn.utf8)
        }
        return bytes
    }
}
