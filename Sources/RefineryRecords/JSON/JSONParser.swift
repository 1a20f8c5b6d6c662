#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a line is not valid JSON, with the byte offset where parsing stopped.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// 0-based byte offset inside the parsed text.
    public let offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

/// A strict RFC 8259 JSON parser over UTF-8 bytes.
///
/// Written by hand because Foundation's `JSONSerialization` and `JSONDecoder` parse our records at
/// 19–29 MB/s on this machine (see README, "Dependencies"), well under the 60 MB/s the engine needs per core,
/// and because they reject invalid UTF-8 outright while the validate stage must be able to repair it.
/// Invalid UTF-8 inside strings (and lone surrogate escapes) is replaced with U+FFFD and counted in
/// ``repairs``, so the caller decides whether to keep or quarantine the record.
public struct JSONParser {
    /// How many invalid UTF-8 sequences or lone surrogates were replaced with U+FFFD.
    public private(set) var repairs = 0
    /// Nesting deeper than this is rejected rather than risking the stack.
    public static let maxDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var scratch: [UInt8] = []

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses one JSON text that fills `bytes` (surrounding whitespace allowed).
    /// - Returns: the value and the number of U+FFFD repairs made in its strings.
    /// - Throws: ``JSONParseError`` naming the first offending byte.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> (value: JSONValue, repairs: Int) {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index != bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the JSON value")
        }
        return (value, parser.repairs)
    }

    /// Parses one JSON text held in an array.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> (value: JSONValue, repairs: Int) {
        let result: Result<(value: JSONValue, repairs: Int), JSONParseError> = bytes.withUnsafeBufferPointer {
            do throws(JSONParseError) { return .success(try parse($0)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private func error(_ message: String) -> JSONParseError {
        JSONParseError(message: message, offset: index)
    }

    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of line" }
        let byte = bytes[index]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of line, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func expectWord(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("invalid literal") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for k in 0..<count where bytes[index + k] != expected[k] {
            throw error("invalid literal")
        }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth)") }
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        // A record's object has a handful of members, a nested one (a chat turn) two or three: room made at once
        // instead of two or three reallocations as they are appended.
        members.reserveCapacity(depth == 0 ? 8 : 4)
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("expected a member name in quotes, found \(describeCurrent())")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw error("expected ':' after member name \"\(key)\", found \(describeCurrent())")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append((key, value))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of line inside an object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            throw error("expected ',' or '}' in an object, found \(describeCurrent())")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth)") }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of line inside an array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            throw error("expected ',' or ']' in an array, found \(describeCurrent())")
        }
    }

    private mutating func parseNumber() throws(JSONParseError) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: digit expected after '.'") }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw error("invalid number: digit expected in exponent") }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
    }

    @inline(__always)
    private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: find the closing quote with memchr, then check the span for escapes and control
        // characters in one branch-free (vectorised) pass; no escapes means the span is the string.
        if let base = bytes.baseAddress, start < bytes.count,
           let found = memchr(base + start, Int32(UInt8(ascii: "\"")), bytes.count - start)
        {
            let end = UnsafeRawPointer(found) - UnsafeRawPointer(base)
            var special: UInt8 = 0
            for k in start..<end {
                let byte = base[k]
                special |= unsafeBitCast(byte < 0x20, to: UInt8.self) | unsafeBitCast(byte == 0x5C, to: UInt8.self)
            }
            if special == 0 {
                index = end + 1
                return makeString(UnsafeBufferPointer(start: base + start, count: end - start))
            }
        }
        // Find where the escapes or control characters begin; the slow path takes it from there.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            index += 1
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
            index += 1
            return makeString(slice)
        }
        // Slow path: copy with escapes resolved, each run of plain bytes at once (appending byte by byte, with a
        // uniqueness check each, was most of the parser's time on text with line breaks).
        scratch.removeAll(keepingCapacity: true)
        // Escapes only shrink (`\n` to one byte, `\uXXXX` to three at most), so the rest of the input bounds the
        // string: reserved at once, the buffer is not grown run by run.
        scratch.reserveCapacity(bytes.count - start)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let run = Self.plainRun(bytes, from: index)
            if run > index {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<run]))
                index = run
                guard index < bytes.count else { break }
            }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                let text = scratch.withUnsafeBufferPointer { makeString($0) }
                return text
            }
            if byte < 0x20 {
                throw error("control character 0x\(String(byte, radix: 16)) inside a string must be escaped")
            }
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scratch.append(0x22)
            case UInt8(ascii: "\\"): scratch.append(0x5C)
            case UInt8(ascii: "/"): scratch.append(0x2F)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    if index + 6 <= bytes.count && bytes[index] == UInt8(ascii: "\\") && bytes[index + 1] == UInt8(ascii: "u") {
                        let save = index
                        index += 2
                        let low = try parseHex4()
                        if low >= 0xDC00 && low < 0xE000 {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = save
                            scalar = 0xFFFD
                            repairs += 1
                        }
                    } else {
                        scalar = 0xFFFD
                        repairs += 1
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    scalar = 0xFFFD
                    repairs += 1
                }
                appendScalar(scalar)
            default:
                index -= 1
                throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
            }
        }
        throw error("unterminated string")
    }

    /// Where the run of bytes from `start` that need no handling in a string ends: at the first quote, backslash or
    /// control character, or the end.
    @inline(__always)
    private static func plainRun(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return start }
        let count = bytes.count
        var end = start
        while end < count {
            let byte = base[end]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            end += 1
        }
        return end
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func appendScalar(_ value: UInt32) {
        let scalar = Unicode.Scalar(value) ?? Unicode.Scalar(0xFFFD)!
        for unit in UTF8.encode(scalar)! { scratch.append(unit) }
    }

    private mutating func makeString(_ slice: UnsafeBufferPointer<UInt8>) -> String {
        // `String(decoding:as:)` is specialised and fast, where `String(validating:as:)` goes through generic metadata
        // lookups on every call. It replaces each invalid sequence by U+FFFD, so its result is the input unless it is
        // of another length or holds a U+FFFD; only then are the repairs counted (none when the input held U+FFFD).
        let text = String(decoding: slice, as: UTF8.self)
        if text.utf8.count != slice.count || Self.holdsReplacementCharacter(text) {
            repairs += Self.countInvalidSequences(slice)
        }
        return text
    }

    /// Whether `text` holds U+FFFD (UTF-8 EF BF BD).
    private static func holdsReplacementCharacter(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard var cursor = bytes.baseAddress else { return false }
            let end = cursor + bytes.count
            while cursor < end, let found = memchr(cursor, 0xEF, end - cursor) {
                let lead = UnsafePointer(found.assumingMemoryBound(to: UInt8.self))
                if end - lead >= 3 && lead[1] == 0xBF && lead[2] == 0xBD { return true }
                cursor = lead + 1
            }
            return false
        }
    }

    /// How many maximal invalid subsequences `bytes` has (each becomes one U+FFFD when decoded).
    public static func countInvalidSequences(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var count = 0
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: break loop
            case .error: count += 1
            }
        }
        return count
    }
}
