import RefineryCodecs
import Foundation
import RefineryRecords
@testable import RefineryStages
import RefinerySpec
import Testing

@Suite struct ValidateStageTests {
    func document(_ text: String?, repairs: Int = 0) -> Record {
        Record(id: "t/x:1", source: "t", text: text, location: SourceLocation(file: "x", line: 1), utf8Repairs: repairs)
    }

    func chat(_ turns: [(String, String)]) -> Record {
        Record(id: "t/x:1", source: "t", messages: turns.map { Message(role: $0.0, content: $0.1) },
               location: SourceLocation(file: "x", line: 1))
    }

    func stage(_ yaml: String) throws -> ValidateStage {
        let spec = try PipelineSpec.parse(yaml: """
            name: t
            sources: [{name: s, kind: jsonl, glob: x}]
            stages:
              - validate: \(yaml)
            output: {dir: out}
            """, file: "t.yaml", baseDirectory: "/tmp")
        return try ValidateStage(parameters: spec.stages[0].parameters)
    }

    @Test("drops each kind of bad record with its named reason", arguments: [
        (nil as String?, "missing_text"),
        ("   \n\t  ", "empty"),
        ("short", "too_short"),
        (String(repeating: "word ", count: 30_000), "too_long"),
        ("abcdefghijklmnopqrstuvwxyz0123456789", "too_few_words"),
    ])
    func dropsDocuments(text: String?, reason: String) throws {
        let validate = try stage("{min_chars: 10, max_chars: 100000, min_words: 2}")
        var record = document(text)
        var tally = StageTally()
        guard case .drop(let got, _) = validate.process(&record, tally: &tally) else {
            Issue.record("expected a drop for \(reason)")
            return
        }
        #expect(got == reason)
    }

    @Test("quarantines invalid UTF-8 unless repair is on, and counts repairs")
    func utf8Repair() throws {
        var record = document("caf\u{FFFD} au lait, s'il vous plaît", repairs: 1)
        var tally = StageTally()
        #expect(try stage("{}").process(&record, tally: &tally) == .drop(reason: "invalid_utf8", detail: "1 invalid UTF-8 sequence(s); set repair: true to keep them as U+FFFD"))
        #expect(try stage("{repair: true}").process(&record, tally: &tally) == .keep)
        #expect(tally.events["utf8_repaired"] == 1)
    }

    @Test("cleans control characters and whitespace, and applies NFC")
    func cleaning() throws {
        var record = document("\u{FEFF}  Hello\u{0007}   wide\t\tworld \r\n\r\n\r\n\r\nCafe\u{0301} au lait  ")
        var tally = StageTally()
        #expect(ValidateStage().process(&record, tally: &tally) == .keep)
        #expect(record.text == "Hello wide world\n\nCafé au lait")
        #expect(record.text?.unicodeScalars.count == 30)
        #expect(tally.events["control_removed"] == 1)
        #expect(tally.events["whitespace_cleaned"] == 1)
        #expect(tally.events["nfc_normalized"] == 1)
    }

    @Test("NFC: texts in NFC-stable scripts pass untouched, decomposed ones are composed", arguments: [
        ("Привет, как дела? 你好，世界。안녕하세요 – “quotes” €5", "Привет, как дела? 你好，世界。안녕하세요 – “quotes” €5"),
        ("Ἀθῆναι is Athens", "Ἀθῆναι is Athens"),
        ("\u{0391}\u{0301}θήνα and Й vs И\u{0306}", "\u{0386}θήνα and Й vs Й"),
        ("\u{304B}\u{3099} and \u{1100}\u{1161}", "\u{304C} and \u{AC00}"),
        ("Tie\u{0302}\u{0301}ng Vie\u{0323}\u{0302}t", "Tiếng Việt"),
        ("\u{0958} and \u{212B}", "\u{0915}\u{093C} and \u{00C5}"),
        ("שָׁלוֹם and مَرْحَبًا and ไทย ที่นี่", "שָׁלוֹם and مَرْحَبًا and ไทย ที่นี่"),
    ])
    func nfc(input: String, expected: String) {
        var record = document(input)
        var tally = StageTally()
        #expect(ValidateStage().process(&record, tally: &tally) == .keep)
        #expect(Array(record.text!.utf8) == Array(expected.precomposedStringWithCanonicalMapping.utf8))
    }

    @Test("the NFC quick check passes NFC text of many scripts without Foundation, and never passes text that is not NFC")
    func nfcQuickCheck() {
        let nfc = ["Ελληνικά κείμενα με τόνους", "مرحبا بالعالم، هذا نص عربي مَرْحَبًا", "नमस्ते दुनिया, यह हिंदी पाठ है", "שלום עולם שָׁלוֹם",
                   "ภาษาไทย ที่นี่", "Tiếng Việt có dấu", "ＦＵＬＬＷＩＤＴＨ　テキスト", "Le café, Grüße, Привет", "中文文本，日本語のテキスト。"]
        for text in nfc {
            var copy = text
            #expect(TextCleaner.isKnownNFC(&copy), "\(text)")
        }
        // Decomposed, composition-excluded, singleton, misordered marks: each "maybe not", and Foundation changes each.
        let not = ["e\u{0301}cole", "\u{0958}", "\u{212B}", "a\u{0302}\u{0323}",
                   "\u{1100}\u{1161}", "\u{0915}\u{093C}\u{0301}\u{0301}a\u{0301}\u{0327}"]
        for text in not {
            var copy = text
            #expect(!TextCleaner.isKnownNFC(&copy), "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(!text.precomposedStringWithCanonicalMapping.hasSameUTF8(as: text))
        }
    }

    @Test("every scalar the fast NFC check passes is a starter that NFC leaves alone and that nothing composes onto")
    func nfcQuickCheckRanges() {
        // Scalars that follow another in a canonical decomposition: a text may compose onto them, so NFC_QC=Maybe.
        var following = Set<UInt32>()
        var passed: [Unicode.Scalar] = []
        for value in UInt32(0x80)..<0x30000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = String(Character(scalar))
            for later in text.decomposedStringWithCanonicalMapping.unicodeScalars.dropFirst() { following.insert(later.value) }
            if text.utf8.withContiguousStorageIfAvailable({ NFCQuickCheck.isCertainlyNFC($0) }) == true { passed.append(scalar) }
        }
        #expect(passed.count > 30_000)
        for scalar in passed {
            let text = String(Character(scalar))
            #expect(scalar.properties.canonicalCombiningClass == .notReordered, "U+\(String(scalar.value, radix: 16))")
            #expect(text.precomposedStringWithCanonicalMapping.hasSameUTF8(as: text), "U+\(String(scalar.value, radix: 16))")
            #expect(!following.contains(scalar.value), "U+\(String(scalar.value, radix: 16))")
        }
    }

    @Test("hasSameUTF8 compares bytes: NFC and NFD spellings differ though == calls them equal; bridged strings too")
    func byteEquality() {
        let composed = "Caf\u{E9}", decomposed = "Cafe\u{0301}"
        #expect(composed == decomposed)
        #expect(!composed.hasSameUTF8(as: decomposed))
        #expect(composed.hasSameUTF8(as: String(decoding: Array(composed.utf8), as: UTF8.self)))
        #expect("".hasSameUTF8(as: ""))
        #expect(!"abc".hasSameUTF8(as: "abd") && !"abc".hasSameUTF8(as: "ab"))
        let bridged = NSString(string: "na\u{EF}ve") as String
        #expect(bridged.hasSameUTF8(as: "na\u{EF}ve"))
        #expect(!bridged.hasSameUTF8(as: "nai\u{0308}ve"))
    }

    @Test("leaves clean text byte for byte alone")
    func cleanTextUntouched() {
        let text = "Line one.\n\nLine two, ünïcödé already NFC."
        var record = document(text)
        var tally = StageTally()
        #expect(ValidateStage().process(&record, tally: &tally) == .keep)
        #expect(record.text == text)
        #expect(tally.events.isEmpty)
    }

    @Test("chats need an assistant turn and no empty turn; rejects keep the original content")
    func chats() {
        var tally = StageTally()
        var noAssistant = chat([("user", "Hello there, anyone?")])
        #expect(ValidateStage().process(&noAssistant, tally: &tally) == .drop(reason: "chat_without_assistant", detail: "no assistant turn among 1 message(s)"))
        var emptyTurn = chat([("user", "Hello there"), ("assistant", " \t ")])
        guard case .drop("empty_turn", _) = ValidateStage().process(&emptyTurn, tally: &tally) else {
            Issue.record("expected empty_turn")
            return
        }
        #expect(emptyTurn.messages?[1].content == " \t ")
        var good = chat([("user", "Hello  there"), ("assistant", "Hi!")])
        #expect(ValidateStage().process(&good, tally: &tally) == .keep)
        #expect(good.messages?[0].content == "Hello there")
    }

    @Test("rejects contradictory bounds in the spec with the key's line")
    func badBounds() throws {
        #expect(throws: RefineryError.self) { try stage("{min_chars: 10, max_chars: 5}") }
        let onlyMax = try #require(throws: RefineryError.self) { try stage("{max_chars: 0}") }
        #expect(onlyMax.message.contains("min_chars (1) is above max_chars (0)"))
        #expect(onlyMax.message.hasPrefix("stages[0].validate.max_chars:"), "\(onlyMax.message)")
        #expect(throws: RefineryError.self) { try stage("{min_chars: many}") }
        #expect(throws: RefineryError.self) { try stage("{min_char: 10}") }
        let negative = try #require(throws: RefineryError.self) { try stage("{min_words: -3}") }
        #expect(negative.message.contains("min_words must be at least 0, found -3"), "\(negative.message)")
        #expect(negative.message.hasPrefix("stages[0].validate.min_words:"), "\(negative.message)")
    }

    /// The cleaning rules written the slow, obvious way, to check the one-pass cleaner against.
    static func referenceClean(_ text: String) -> String {
        var scalars: [Unicode.Scalar] = []
        var iterator = text.unicodeScalars.makeIterator()
        var pendingCR = false
        while let scalar = iterator.next() {
            if pendingCR {
                pendingCR = false
                if scalar == "\n" { continue }
            }
            switch scalar.value {
            case 0x0D: scalars.append("\n"); pendingCR = true
            case 0x09, 0x0A: scalars.append(scalar)
            case 0..<0x20, 0x7F, 0x80...0x9F, 0xFEFF: continue
            default: scalars.append(scalar)
            }
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        let lines = String(view).split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
        }
        var out: [String] = []
        var blank = 0
        for line in lines {
            if line.isEmpty {
                blank += 1
                continue
            }
            if !out.isEmpty { out.append(blank > 0 ? "\n\n" : "\n") }
            out.append(line)
            blank = 0
        }
        return out.joined().precomposedStringWithCanonicalMapping
    }

    @Test("the one-pass cleaner agrees with a slow reference on 20 000 random tricky texts")
    func cleanerMatchesReference() {
        let alphabet: [String] = [" ", " ", "\n", "\n", "\t", "\r", "\r\n", "a", "b", "é", "e\u{301}", "\u{7}", "\u{7F}",
                                  "\u{85}", "\u{FEFF}", "я", "字", "\u{A0}", "x", "yz"]
        var rng = SplitMix64(seed: 42)
        let validate = ValidateStage()
        for _ in 0..<20_000 {
            let length = Int(rng.next() % 12)
            let text = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }.joined()
            let expected = Self.referenceClean(text)
            var record = document(text)
            var tally = StageTally()
            let decision = validate.process(&record, tally: &tally)
            let cleaned = TextCleaner().clean(text)
            #expect(cleaned.characters == expected.unicodeScalars.count, "input \(Array(text.unicodeScalars))")
            #expect(cleaned.words == expected.split(whereSeparator: { " \n\t\r".contains($0) }).count, "input \(Array(text.unicodeScalars))")
            if expected.isEmpty {
                #expect(decision == .drop(reason: "empty", detail: "text is empty or whitespace only"), "input \(Array(text.unicodeScalars))")
            } else {
                #expect(decision == .keep)
                #expect(Array(record.text!.utf8) == Array(expected.utf8), "input \(Array(text.unicodeScalars))")
            }
        }
    }
}
