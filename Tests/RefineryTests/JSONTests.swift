import Foundation
import RefineryCodecs
import RefineryRecords
import Testing

@Suite struct JSONTests {
    static func parse(_ text: String) throws(JSONParseError) -> (value: JSONValue, repairs: Int) {
        try JSONParser.parse(Array(text.utf8))
    }

    static func write(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.value(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// How many U+FFFD scalars a string holds.
    static func replacementCount(_ text: String) -> Int {
        text.unicodeScalars.filter { $0 == "\u{FFFD}" }.count
    }

    // MARK: Parser

    @Test("parses every kind of value", arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", .number("0")),
        ("-0", .number("-0")),
        ("42", .number("42")),
        ("-12.50", .number("-12.50")),
        ("1e10", .number("1e10")),
        ("2.5E-3", .number("2.5E-3")),
        ("7e+2", .number("7e+2")),
        ("\"\"", .string("")),
        ("\"héllo 🌍\"", .string("héllo 🌍")),
        ("[]", .array([])),
        ("{}", .object([])),
        ("[1,\"a\",null,[true]]", .array([.number("1"), .string("a"), .null, .array([.bool(true)])])),
        (" \t\r\n{ \"b\" : 1 , \"a\" : { \"c\" : [ ] } } \n", .object([("b", .number("1")), ("a", .object([("c", .array([]))]))])),
        ("{\"k\":1,\"k\":2}", .object([("k", .number("1")), ("k", .number("2"))])),
    ])
    func valueKinds(text: String, expected: JSONValue) throws {
        let (value, repairs) = try Self.parse(text)
        #expect(value == expected)
        #expect(repairs == 0)
    }

    @Test("object members keep their order and are found by key")
    func memberOrder() throws {
        let value = try Self.parse(#"{"z":1,"a":"x","m":null}"#).value
        guard case .object(let members) = value else {
            Issue.record("expected an object, got \(value)")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "m"])
        #expect(value["a"]?.stringValue == "x")
        #expect(value["z"]?.doubleValue == 1)
        #expect(value["missing"] == nil)
        #expect(value["m"]?.typeName == "null")
    }

    @Test("resolves every escape", arguments: [
        (#""a\"b\\c\/d""#, "a\"b\\c/d"),
        (#""\b\f\n\r\t""#, "\u{08}\u{0C}\n\r\t"),
        (#""\u0041\u00e9\u20AC\u0000""#, "Aé€\u{0}"),
        (#""x\ud83d\ude00y""#, "x😀y"),
        (#""\uD834\uDD1E""#, "𝄞"),
        (#""plain then \n escape""#, "plain then \n escape"),
    ])
    func escapes(text: String, expected: String) throws {
        let (value, repairs) = try Self.parse(text)
        #expect(value == .string(expected))
        #expect(repairs == 0)
    }

    @Test("long strings with escapes between runs of plain text of every length read as Foundation writes them", arguments: 0..<4)
    func escapedRuns(seed: Int) throws {
        var state = UInt64(seed + 1) &* 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let pieces = ["\n", "\"", "\\", "/", "\t", "é", "€", "😀", "\u{1}", "a", "word ", "Привет ", "\r\n"]
        for _ in 0..<200 {
            var text = ""
            for _ in 0..<next(40) { text += String(repeating: pieces[next(pieces.count)], count: 1 + next(20)) }
            let json = try JSONSerialization.data(withJSONObject: [text], options: [])
            let (value, repairs) = try JSONParser.parse([UInt8](json))
            #expect(value == .array([.string(text)]), "\(text.debugDescription)")
            #expect(repairs == 0)
        }
    }

    @Test("lone surrogate escapes become U+FFFD and are counted as repairs", arguments: [
        (#""\ud83d""#, "\u{FFFD}", 1),
        (#""\ude00x""#, "\u{FFFD}x", 1),
        (#""\ud83dabc""#, "\u{FFFD}abc", 1),
        (#""\ud83d\u0041""#, "\u{FFFD}A", 1),
        (#""\ud83d\ud83d\ude00""#, "\u{FFFD}😀", 1),
        (#""\udc00\ud800""#, "\u{FFFD}\u{FFFD}", 2),
    ])
    func loneSurrogates(text: String, expected: String, repairs: Int) throws {
        let parsed = try Self.parse(text)
        #expect(parsed.value == .string(expected))
        #expect(parsed.repairs == repairs)
    }

    @Test("invalid UTF-8 inside strings is replaced with U+FFFD and counted", arguments: [
        ([0xFF], 1),
        ([0xC3], 1),
        ([0xC0, 0xAF], 2),
        ([0xED, 0xA0, 0x80], 3),
        ([0xF0, 0x9F, 0x98], 1),
        ([0x80, 0x80], 2),
    ] as [([UInt8], Int)])
    func invalidUTF8(bad: [UInt8], repairs: Int) throws {
        // Once on the fast path (no escapes) and once on the slow path (an escape before the bad bytes).
        for prefix in [Array("a".utf8), Array(#"\n"#.utf8)] {
            let bytes = [UInt8(ascii: "\"")] + prefix + bad + Array("b\"".utf8)
            let parsed = try JSONParser.parse(bytes)
            let text = try #require(parsed.value.stringValue)
            #expect(parsed.repairs == repairs)
            #expect(Self.replacementCount(text) == repairs)
            #expect(text.hasSuffix("b"))
        }
    }

    @Test("a U+FFFD already in the input is kept and is no repair, beside ASCII, other scripts and an invalid byte")
    func replacementCharacterInInput() throws {
        for (text, repairs) in [("\u{FFFD}", 0), ("ab\u{FFFD}c\u{FF01}", 0), ("日本\u{FFFD}", 0), ("\u{EFFF}\u{FFFD}", 0)] {
            for prefix in ["a", #"\n"#] {
                let parsed = try JSONParser.parse(Array("\"\(prefix)\(text)\"".utf8))
                #expect(parsed.repairs == repairs, "\(text)")
                #expect(parsed.value.stringValue?.hasSuffix(text) == true)
            }
        }
        let bytes = Array("\"\u{FFFD}x".utf8) + [0xFF] + Array("\"".utf8)
        #expect(try JSONParser.parse(bytes).repairs == 1)
    }

    @Test("repairs add up across keys and values of one document")
    func repairsAcrossDocument() throws {
        let bytes = Array(#"{"k"#.utf8) + [0xFF] + Array(#"":["x"#.utf8) + [0xFE] + Array(#"",""#.utf8) + [0xC3]
            + Array(#"\u0041"]}"#.utf8)
        let parsed = try JSONParser.parse(bytes)
        #expect(parsed.repairs == 3)
        #expect(parsed.value == .object([("k\u{FFFD}", .array([.string("x\u{FFFD}"), .string("\u{FFFD}A")]))]))
    }

    @Test("counts maximal invalid subsequences like Swift's decoder")
    func countInvalidSequences() {
        let bytes: [UInt8] = Array("ok".utf8) + [0xE2, 0x82] + Array("€".utf8) + [0xFF]
        let count = bytes.withUnsafeBufferPointer { JSONParser.countInvalidSequences($0) }
        #expect(count == 2)
        #expect(Self.replacementCount(String(decoding: bytes, as: UTF8.self)) == 2)
    }

    @Test("malformed input throws JSONParseError", arguments: [
        "",
        "   ",
        "[1,2,]",
        "{\"a\":1,}",
        "[,1]",
        "{,}",
        "\"abc",
        "\"abc\\",
        "[\"abc]",
        "01",
        "-01",
        "1.",
        "1.e5",
        ".5",
        "-",
        "-a",
        "+1",
        "1e",
        "1e+",
        "0x10",
        "NaN",
        "Infinity",
        "\"a\u{01}b\"",
        "\"tab\there\"",
        "\"line\nbreak\"",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u12G4\"",
        "\"\\ud83d\\uZZZZ\"",
        "{\"a\" 1}",
        "{a:1}",
        "{'a':1}",
        "[1 2]",
        "{\"a\":1 \"b\":2}",
        "{\"a\":}",
        "[",
        "{",
        "]",
        "tru",
        "nul",
        "falsey",
        "{} x",
        "1 2",
        "[]]",
        "\"a\"\"b\"",
        String(repeating: "[", count: JSONParser.maxDepth + 1) + String(repeating: "]", count: JSONParser.maxDepth + 1),
        String(repeating: "{\"a\":", count: JSONParser.maxDepth + 1) + "1" + String(repeating: "}", count: JSONParser.maxDepth + 1),
    ])
    func malformed(text: String) {
        #expect(throws: JSONParseError.self) { try Self.parse(text) }
    }

    @Test("a parse error names the offset where parsing stopped", arguments: [
        ("[1,2,]", 5),
        ("01", 1),
        ("{} x", 3),
        ("1.", 2),
        ("\"abc", 4),
        ("{\"a\" 1}", 5),
        ("\"\\x\"", 2),
    ])
    func errorOffset(text: String, offset: Int) throws {
        let error = try #require(#expect(throws: JSONParseError.self) { try Self.parse(text) })
        #expect(error.offset == offset)
        #expect(error.description.hasSuffix("at byte \(offset)"))
    }

    @Test("nesting up to maxDepth parses")
    func maxDepthParses() throws {
        let depth = JSONParser.maxDepth
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var value = try Self.parse(arrays).value
        var levels = 0
        while case .array(let inner) = value {
            levels += 1
            guard let first = inner.first else { break }
            value = first
        }
        #expect(levels == depth)
        let objects = String(repeating: "{\"a\":", count: depth) + "0" + String(repeating: "}", count: depth)
        #expect(throws: Never.self) { try Self.parse(objects) }
    }

    // MARK: Writer

    @Test("writes strings with the escapes RFC 8259 requires", arguments: [
        ("plain", #""plain""#),
        ("quote\"", #""quote\"""#),
        ("back\\slash", #""back\\slash""#),
        ("slash/", #""slash/""#),
        ("\n\r\t\u{08}\u{0C}", #""\n\r\t\b\f""#),
        ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
        ("\u{7F}é€😀\u{2028}", "\"\u{7F}é€😀\u{2028}\""),
        ("", #""""#),
    ])
    func writerEscapes(value: String, expected: String) throws {
        var writer = JSONWriter()
        writer.string(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
        #expect(try JSONParser.parse(writer.bytes).value == .string(value))
    }

    @Test("writes doubles in the shortest form that reads back", arguments: [
        (1.0, "1"),
        (-3.0, "-3"),
        (0.0, "0"),
        (-0.0, "0"),
        (0.5, "0.5"),
        (0.1, "0.1"),
        (-2.75, "-2.75"),
        (123_456_789_012_345.0, "123456789012345"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e+16"),
        (1e20, "1e+20"),
        (1e-7, "1e-07"),
        (Double.leastNonzeroMagnitude, "5e-324"),
        (Double.nan, "null"),
        (Double.infinity, "null"),
        (-Double.infinity, "null"),
    ])
    func writerDoubles(value: Double, expected: String) throws {
        var writer = JSONWriter()
        writer.number(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
        let parsed = try JSONParser.parse(writer.bytes).value
        if value.isFinite {
            #expect(parsed.doubleValue == value)
        } else {
            #expect(parsed == .null)
        }
    }

    @Test("writes floats with a fraction even when whole, so Arrow infers a float column", arguments: [
        (1.0, "1.0"),
        (-3.0, "-3.0"),
        (0.0, "0.0"),
        (-0.0, "0.0"),
        (0.5, "0.5"),
        (123_456_789_012_345.0, "123456789012345.0"),
        (1e16, "1e+16"),
        (Double.nan, "null"),
    ])
    func writerFloats(value: Double, expected: String) throws {
        var writer = JSONWriter()
        writer.float(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
        if value.isFinite { #expect(try JSONParser.parse(writer.bytes).value.doubleValue == value) }
    }

    @Test("writes integers exactly", arguments: [0, 7, -7, Int.max, Int.min])
    func writerIntegers(value: Int) {
        var writer = JSONWriter()
        writer.number(value)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == String(value))
    }

    @Test("compact JSON reads and writes back byte for byte", arguments: [
        #"{"b":1,"a":[true,false,null,"x\n"],"c":{"d":-1.5e10,"e":0.000}}"#,
        #"[]"#,
        #"{}"#,
        #"[[],{},"",0,-0,1E5]"#,
        #"{"":"empty key","dup":1,"dup":2}"#,
        #"{"text":"é😀\u0001\"\\"}"#,
    ])
    func writeParsedText(text: String) throws {
        #expect(Self.write(try Self.parse(text).value) == text)
    }

    @Test("parse(write(v)) == v for fixed-seed random values", arguments: 0..<8)
    func randomRoundTrip(seed: Int) throws {
        var random = RandomJSON(state: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        for _ in 0..<50 {
            let value = random.value(depth: 0)
            let written = Self.write(value)
            let parsed = try Self.parse(written)
            #expect(parsed.value == value, "wrote \(written)")
            #expect(parsed.repairs == 0)
        }
    }

    @Test("reset empties the buffer")
    func writerReset() {
        var writer = JSONWriter(reservingCapacity: 64)
        writer.value(.array([.null]))
        writer.reset()
        writer.key("k")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #""k":"#)
    }

    /// Random JSON values from a fixed seed (SplitMix64).
    struct RandomJSON {
        var generator: SplitMix64

        init(state: UInt64) { generator = SplitMix64(seed: state) }

        mutating func next(_ bound: Int) -> Int { Int(generator.next() % UInt64(bound)) }

        mutating func string() -> String {
            let pool: [Unicode.Scalar] = ["a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é",
                                          "€", "\u{2028}", "😀", "\u{FFFD}", "\u{10FFFF}"]
            var scalars = String.UnicodeScalarView()
            for _ in 0..<next(8) { scalars.append(pool[next(pool.count)]) }
            return String(scalars)
        }

        mutating func number() -> String {
            let forms = ["0", "-0", "12", "-7", "3.25", "1e5", "-2.5E-3", "6.02e+23", "123456789012345678901234567890"]
            return forms[next(forms.count)]
        }

        mutating func value(depth: Int) -> JSONValue {
            switch next(depth < 4 ? 7 : 5) {
            case 0: return .null
            case 1: return .bool(next(2) == 0)
            case 2: return .number(number())
            case 3, 4: return .string(string())
            case 5: return .array((0..<next(4)).map { _ in value(depth: depth + 1) })
            default: return .object((0..<next(4)).map { _ in (string(), value(depth: depth + 1)) })
            }
        }
    }

    // MARK: Record

    static let location = SourceLocation(file: "in/a.jsonl", line: 3)

    @Test("writes a document's fields in DESIGN.md's order whatever order they were set in")
    func recordFieldOrder() throws {
        var record = Record(id: "s/a.jsonl:3", source: "s", location: Self.location)
        record.meta = [("origin", .string("web")), ("n", .number("2"))]
        record.pii = [("email", 2), ("phone", 0)]
        record.setScore("quality", 0.25)
        record.setScore("toxicity", 1)
        record.setScore("quality", 0.75)
        record.reward = 0.5
        record.text = "hello\n"
        record.lang = "en"
        record.category = "web"
        let expected = #"{"id":"s/a.jsonl:3","source":"s","category":"web","lang":"en","text":"hello\n","messages":null,"reward":0.5,"items":null,"rewards":null,"timestamps":null,"#
            + #""scores":{"quality":0.75,"toxicity":1.0},"pii":{"email":2,"phone":0},"meta":"{\"origin\":\"web\",\"n\":2}"}"#
        #expect(record.jsonString == expected)
        _ = try JSONParser.parse(Array(record.jsonString.utf8))
    }

    @Test("writes a chat's messages as role and content, and null for absent fields")
    func recordChat() {
        let record = Record(id: "c/x:1", source: "c", messages: [Message(role: "user", content: "hi \"there\""),
                                                                 Message(role: "assistant", content: "")],
                            reward: 1, location: Self.location)
        #expect(record.kind == .chat)
        #expect(record.jsonString
            == #"{"id":"c/x:1","source":"c","category":null,"lang":null,"text":null,"messages":[{"role":"user","content":"hi \"there\""},{"role":"assistant","content":""}],"reward":1.0,"items":null,"rewards":null,"timestamps":null,"scores":null,"pii":null,"meta":null}"#)
    }

    @Test("a record with only id and source still writes every schema key")
    func recordMinimal() {
        let record = Record(id: "d/y:9", source: "d", location: Self.location)
        #expect(record.kind == .document)
        #expect(record.jsonString == #"{"id":"d/y:9","source":"d","category":null,"lang":null,"text":null,"messages":null,"reward":null,"items":null,"rewards":null,"timestamps":null,"scores":null,"pii":null,"meta":null}"#)
    }

    @Test("writeJSON appends to what the writer already holds")
    func recordAppends() {
        var writer = JSONWriter()
        writer.byte(UInt8(ascii: "["))
        Record(id: "a", source: "s", location: Self.location).writeJSON(to: &writer)
        writer.byte(UInt8(ascii: ","))
        Record(id: "b", source: "s", location: Self.location).writeJSON(to: &writer)
        writer.byte(UInt8(ascii: "]"))
        let empty = #""category":null,"lang":null,"text":null,"messages":null,"reward":null,"items":null,"rewards":null,"timestamps":null,"scores":null,"pii":null,"meta":null"#
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"[{"id":"a","source":"s","# + empty + #"},{"id":"b","source":"s","# + empty + "}]")
    }
}
