import Foundation
import RefineryStages

/// What the report reads of a written record, skimmed from its JSON line in one pass without building its value: the
/// mix keys, the content's characters and words, the turns, three scores, the reward and the id. Parsing every line
/// whole (a string, array or dictionary for each member, then freeing them) was half of `refinery report`'s time.
///
/// Exact or nothing: for a line with anything the skim does not follow exactly as ``JSONParser`` and
/// ``RecordMeasures`` would — a `\u` escape or invalid UTF-8 in a text it measures, an escape in a key or mix value,
/// a member it reads given twice, deep nesting, or JSON it finds malformed — ``init(_:)`` returns nil, and the caller
/// parses the line (which also makes the error a damaged line deserves).
struct RecordSkim {
    /// The content's measures and the mix keys, as ``RecordMeasures`` has them.
    var measures = RecordMeasures()
    /// `scores.quality`, `scores.toxicity`, `scores.lang` and `reward`, when numbers.
    var quality: Double?
    var toxicity: Double?
    var lang: Double?
    var reward: Double?
    /// Where the `id` string is in the line (no escapes), when the record has one.
    var idBytes: Range<Int>?

    var text: Measured?
    var messages: (turns: Int, measured: Measured)?

    /// Characters and words of one or more strings.
    struct Measured {
        var chars = 0
        var words = 0
    }

    init?(_ line: UnsafeBufferPointer<UInt8>) {
        var scanner = SkimScanner(bytes: line)
        scanner.skipSpace()
        guard scanner.record(into: &self, depth: 1) else { return nil }
        scanner.skipSpace()
        guard scanner.index == line.count else { return nil }
        finish(in: line)
    }

    /// A record skimmed by ``SkimScanner/record(into:depth:)``, not finished yet.
    init() {}

    /// Sets the measures from what the scan found (text first, as ``RecordMeasures`` does).
    mutating func finish(in line: UnsafeBufferPointer<UInt8>) {
        if let text {
            measures.hasContent = true
            measures.chars = text.chars
            measures.words = text.words
        } else if let messages {
            measures.hasContent = true
            measures.turns = messages.turns
            measures.chars = messages.measured.chars
            measures.words = messages.measured.words
        }
        if let idBytes {
            measures.isCopy = RecordMeasures.isUpSampledCopy(UnsafeBufferPointer(rebasing: line[idBytes]))
        }
    }

    /// The record's id.
    func id(in line: UnsafeBufferPointer<UInt8>) -> String? {
        idBytes.map { String(decoding: UnsafeBufferPointer(rebasing: line[$0]), as: UTF8.self) }
    }

}

/// What the report reads of most reject lines: the stage, reason and kept id, the characters of the rejected record
/// (``RecordSkim``) or of the raw text, and the record's mix keys and id. Exact or nothing, as ``RecordSkim``; a line
/// that gives an example or a duplicate pair is parsed whole by the caller.
struct RejectSkim {
    var stage: String?
    var reason: String?
    var keptID: String?
    /// The rejected record, finished; nil without a `record` member.
    var record: RecordSkim?
    /// Characters of the `raw` string, when there is one.
    var rawChars: Int?

    init?(_ line: UnsafeBufferPointer<UInt8>) {
        var scanner = SkimScanner(bytes: line)
        scanner.skipSpace()
        guard scanner.take(UInt8(ascii: "{")) else { return nil }
        var seen = SeenMembers()
        var skim = RejectSkim()
        let ok = scanner.members { scanner, key in
            guard let number = Self.keys.firstIndex(where: { SkimScanner.equal(key, $0) }) else { return scanner.skipValue(depth: 2) }
            guard seen.insert(number) else { return false }
            switch number {
            case 0, 1, 2:
                guard scanner.peek == UInt8(ascii: "\"") else { return scanner.skipValue(depth: 2) }
                guard let text = scanner.plainText() else { return false }
                if number == 0 { skim.stage = text } else if number == 1 { skim.reason = text } else { skim.keptID = text }
                return true
            case 3:
                var record = RecordSkim()
                guard scanner.record(into: &record, depth: 2) else { return false }
                record.finish(in: line)
                skim.record = record
                return true
            default:
                guard scanner.peek == UInt8(ascii: "\"") else { return scanner.skipValue(depth: 2) }
                var measured = RecordSkim.Measured()
                var afterSpace = true
                guard scanner.measureString(into: &measured, afterSpace: &afterSpace) else { return false }
                skim.rawChars = measured.chars
                return true
            }
        }
        guard ok else { return nil }
        scanner.skipSpace()
        guard scanner.index == line.count else { return nil }
        self = skim
    }

    private init() {}

    static let keys: [StaticString] = ["stage", "reason", "kept_id", "record", "raw"]
}

/// The known members an object has had so far, by their number in a short list of names: a bit each. (A `Set<Int>`
/// allocated and hashed for every object, with the lists of names built again for every member, took a sixth of the
/// report's time: 1 GB dataset, 2.94-3.22 s before, 2.43-2.45 s after.)
struct SeenMembers {
    private var bits: UInt64 = 0

    /// Marks member `number` (0 to 63); false when it was marked already.
    mutating func insert(_ number: Int) -> Bool {
        let bit: UInt64 = 1 << UInt64(number)
        defer { bits |= bit }
        return bits & bit == 0
    }
}

/// A cursor over one JSON line, for ``RecordSkim`` and ``RejectSkim``. Every method returns false (or nil) when the
/// skim gives up.
struct SkimScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    static let maxDepth = 64

    /// A record's object at the cursor, at nesting `depth` (1: the line itself).
    mutating func record(into skim: inout RecordSkim, depth: Int) -> Bool {
        guard depth <= Self.maxDepth, take(UInt8(ascii: "{")) else { return false }
        var seen = SeenMembers()   // the members read, by number (a second one: parse instead)
        return members { scanner, key in
            let number = Self.topKeys.firstIndex { Self.equal(key, $0) } ?? -1
            if number >= 0 {
                guard seen.insert(number) else { return false }
            }
            switch number {
            case 0: // id (a string with escapes: parse instead)
                guard scanner.peek == UInt8(ascii: "\"") else { return scanner.skipValue(depth: depth + 1) }
                guard let range = scanner.plainString() else { return false }
                skim.idBytes = range
                return true
            case 1, 2, 3: // category, source, lang: the mix keys
                if scanner.peek == UInt8(ascii: "\"") {
                    guard let value = scanner.plainText() else { return false }
                    skim.measures.setKey(MixTally.fields[number - 1], value)
                    return true
                }
                return scanner.skipValue(depth: depth + 1)
            case 4: // text
                if scanner.peek == UInt8(ascii: "\"") {
                    var measured = RecordSkim.Measured()
                    var afterSpace = true
                    guard scanner.measureString(into: &measured, afterSpace: &afterSpace) else { return false }
                    skim.text = measured
                    return true
                }
                return scanner.skipValue(depth: depth + 1)
            case 5: // messages
                guard scanner.peek == UInt8(ascii: "[") else { return scanner.skipValue(depth: depth + 1) }
                guard let messages = scanner.messages(depth: depth + 1) else { return false }
                skim.messages = messages
                return true
            case 6: // scores
                guard scanner.peek == UInt8(ascii: "{") else { return scanner.skipValue(depth: depth + 1) }
                return scanner.scores(into: &skim, depth: depth + 1)
            case 7: // reward
                guard let number = scanner.number() else { return scanner.skipValue(depth: depth + 1) }
                skim.reward = Double(number)
                return true
            default:
                return scanner.skipValue(depth: depth + 1)
            }
        }
    }

    static let topKeys: [StaticString] = ["id", "category", "source", "lang", "text", "messages", "scores", "reward"]
    static let scoreKeys: [StaticString] = ["quality", "toxicity", "lang"]

    static func equal(_ key: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        key.count == name.utf8CodeUnitCount && (key.isEmpty || memcmp(key.baseAddress!, name.utf8Start, key.count) == 0)
    }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D {
            index += 1
        }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// The members of an object whose `{` was taken: `body` gets each key (no escapes) with the cursor at its value.
    mutating func members(_ body: (inout SkimScanner, UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        skipSpace()
        if take(UInt8(ascii: "}")) { return true }
        while true {
            skipSpace()
            guard let key = plainString() else { return false }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return false }
            skipSpace()
            guard body(&self, UnsafeBufferPointer(rebasing: bytes[key])) else { return false }
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            return take(UInt8(ascii: "}"))
        }
    }

    /// A string without escapes or control characters at the cursor: its bytes' range (quotes excluded).
    mutating func plainString() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        index = Self.endOfPlainRun(bytes, from: start)
        guard take(UInt8(ascii: "\"")) else { return nil }
        return start..<(index - 1)
    }

    /// The byte a two-byte escape `\\x` stands for (`x` one of `" \\ / b f n r t`); nil for `\\u` and for what is
    /// not an escape.
    static func shortEscape(_ x: UInt8) -> UInt8? {
        switch x {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): x
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// A string without escapes, as a String, when its bytes are valid UTF-8.
    mutating func plainText() -> String? {
        guard let range = plainString() else { return nil }
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        guard (try? UTF8Span(validating: slice.span)) != nil else { return nil }
        return String(decoding: slice, as: UTF8.self)
    }

    /// Measures the string at the cursor as its decoded text: its Unicode scalars and its runs of bytes that are
    /// not ASCII whitespace (``ByteLanes``), across the escapes `\" \\ \/ \b \f \n \r \t` (each one scalar).
    mutating func measureString(into measured: inout RecordSkim.Measured, afterSpace: inout Bool) -> Bool {
        guard take(UInt8(ascii: "\"")) else { return false }
        var start = index
        while true {
            // The plain run up to the next quote, backslash or control character.
            index = Self.endOfPlainRun(bytes, from: index)
            guard index < bytes.count, bytes[index] >= 0x20 else { return false }
            if start < index {
                let run = UnsafeBufferPointer(rebasing: bytes[start..<index])
                let (scalars, words, ascii) = ByteLanes.measure(run, afterSpace: &afterSpace)
                guard ascii || (try? UTF8Span(validating: run.span)) != nil else { return false }
                measured.chars += scalars
                measured.words += words
            }
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                return true
            }
            // An escape: the one byte it stands for, measured as the text's own bytes are.
            guard index + 1 < bytes.count, var decoded = Self.shortEscape(bytes[index + 1]) else { return false }
            let (scalars, words, _) = withUnsafeBytes(of: &decoded) { ByteLanes.measure($0.bindMemory(to: UInt8.self), afterSpace: &afterSpace) }
            measured.chars += scalars
            measured.words += words
            index += 2
            start = index
        }
    }

    /// The first quote, backslash or control character from `start` on, or the end: eight bytes a step. In each
    /// step the lowest lane flagged is exact (a borrow only reaches the lanes above a flagged one).
    static func endOfPlainRun(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return start }
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
        var i = start
        while i + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            let flagged = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- ones &* 0x20) & ~word) & high
            if flagged != 0 { return i + flagged.trailingZeroBitCount / 8 }
            i += 8
        }
        while i < bytes.count, base[i] != UInt8(ascii: "\""), base[i] != UInt8(ascii: "\\"), base[i] >= 0x20 { i += 1 }
        return i
    }

    /// A chat's messages, the cursor at `[`: how many, and the characters and words of their `content` strings
    /// (a message that is not an object, or has no string `content`, counts as empty text).
    mutating func messages(depth: Int) -> (turns: Int, measured: RecordSkim.Measured)? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var turns = 0
        var measured = RecordSkim.Measured()
        skipSpace()
        if take(UInt8(ascii: "]")) { return (0, measured) }
        while true {
            skipSpace()
            turns += 1
            if take(UInt8(ascii: "{")) {
                var seenContent = false
                let ok = members { scanner, key in
                    guard Self.equal(key, "content") else { return scanner.skipValue(depth: depth + 2) }
                    guard !seenContent else { return false }
                    seenContent = true
                    guard scanner.peek == UInt8(ascii: "\"") else { return scanner.skipValue(depth: depth + 2) }
                    // Each message's content is a text of its own (RecordMeasures adds them one by one).
                    var afterSpace = true
                    return scanner.measureString(into: &measured, afterSpace: &afterSpace)
                }
                guard ok else { return nil }
            } else {
                guard skipValue(depth: depth + 1) else { return nil }
            }
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            guard take(UInt8(ascii: "]")) else { return nil }
            return (turns, measured)
        }
    }

    /// The `scores` object, the cursor at `{`.
    mutating func scores(into skim: inout RecordSkim, depth: Int) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        var seen = SeenMembers()
        return members { scanner, key in
            guard let number = Self.scoreKeys.firstIndex(where: { Self.equal(key, $0) }) else { return scanner.skipValue(depth: depth + 1) }
            guard seen.insert(number) else { return false }
            guard let lexeme = scanner.number() else { return scanner.skipValue(depth: depth + 1) }
            let value = Double(lexeme)
            switch number {
            case 0: skim.quality = value
            case 1: skim.toxicity = value
            default: skim.lang = value
            }
            return true
        }
    }

    /// A number at the cursor (JSON's grammar), as its lexeme; nil (cursor unmoved) when there is none.
    mutating func number() -> Substring? {
        let start = index
        var i = index
        func digits() -> Bool {
            let first = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i > first
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 else { return nil }
        if bytes[i] == 0x30 { i += 1 } else { _ = digits() }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() else { return nil }
        }
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() else { return nil }
        }
        index = i
        return Substring(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
    }

    /// Skips any value, checking its syntax (strings: escapes and control characters; not their UTF-8, which the
    /// parser repairs rather than refuses).
    mutating func skipValue(depth: Int) -> Bool {
        guard depth <= Self.maxDepth, let byte = peek else { return false }
        switch byte {
        case UInt8(ascii: "\""):
            index += 1
            while index < bytes.count {
                index = Self.endOfPlainRun(bytes, from: index)
                guard index < bytes.count else { return false }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return true
                }
                // An escape other than \u (surrogates need the parser's checks); anything else is a control character.
                guard byte == UInt8(ascii: "\\"), index + 1 < bytes.count, Self.shortEscape(bytes[index + 1]) != nil else { return false }
                index += 2
            }
            return false
        case UInt8(ascii: "{"):
            index += 1
            return members { scanner, _ in scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            index += 1
            skipSpace()
            if take(UInt8(ascii: "]")) { return true }
            while true {
                skipSpace()
                guard skipValue(depth: depth + 1) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "]"))
            }
        case UInt8(ascii: "t"): return word("true")
        case UInt8(ascii: "f"): return word("false")
        case UInt8(ascii: "n"): return word("null")
        default: return number() != nil
        }
    }

    mutating func word(_ name: StaticString) -> Bool {
        let count = name.utf8CodeUnitCount
        guard index + count <= bytes.count, memcmp(bytes.baseAddress! + index, name.utf8Start, count) == 0 else { return false }
        index += count
        return true
    }
}
