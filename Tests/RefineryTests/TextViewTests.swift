import RefineryCodecs
import RefineryRecords
@testable import RefineryStages
import Testing

@Suite struct TextViewTests {
    static func words(_ text: String) -> [String] {
        let view = TextView(text)
        return view.words.map(view.string)
    }

    @Test func wordsKeepInnerApostrophesAndHyphensAndSplitEverythingElse() {
        #expect(Self.words("Don't e-mail me -- now, 'ok'? 3.14 café") == ["Don't", "e-mail", "me", "now", "ok", "3", "14", "café"])
        #expect(Self.words("Привет, мир! Γειά σου") == ["Привет", "мир", "Γειά", "σου"])
        #expect(Self.words("東京に行く") == ["東", "京", "に", "行", "く"])
        #expect(Self.words("") == [])
        #expect(Self.words("e\u{301}te\u{301}") == ["e\u{301}te\u{301}"])
    }

    @Test func linesAndParagraphs() {
        let view = TextView("first line\r\nsecond\n\n  \nthird para\n")
        #expect(view.lines.map(view.string) == ["first line", "second", "", "  ", "third para", ""])
        #expect(view.paragraphs.map(view.string) == ["first line\r\nsecond", "third para"])
        #expect(TextView("one").lines.count == 1)
        #expect(TextView("").paragraphs.isEmpty)
    }

    @Test func aChatIsItsTurnsAsParagraphsAndTheViewIsBuiltOnce() {
        let record = Record(id: "c", source: "s", messages: [Message(role: "user", content: "Hi there"),
                                                            Message(role: "assistant", content: "Hello!")],
                            location: SourceLocation(file: "f"))
        var view = RecordView()
        let first = view.text(of: record)
        #expect(first.paragraphs.map(first.string) == ["Hi there", "Hello!"])
        var changed = record
        changed.messages = [Message(role: "user", content: "Other")]
        #expect(view.text(of: changed).words.count == 3, "cached until invalidated")
        view.invalidate()
        #expect(view.text(of: changed).words.count == 1)
    }

    /// The splitting rules written the slow and obvious way, one scalar at a time with `Unicode.Scalar.Properties`
    /// (as ``TextView`` did before its fast paths): the reference the fast paths must agree with.
    static func reference(_ text: String) -> (words: [Range<Int>], lines: [Range<Int>], paragraphs: [Range<Int>], scalars: Int) {
        let scalars = Array(text.unicodeScalars)
        var offsets = [0]
        for scalar in scalars { offsets.append(offsets.last! + String(scalar).utf8.count) }
        let bytes = Array(text.utf8)
        var words: [Range<Int>] = []
        var lines: [Range<Int>] = []
        var paragraphs: [Range<Int>] = []
        var wordStart: Int?
        var lineStart = 0
        var paragraphStart: Int?
        var lastContentEnd = 0
        var lineHasContent = false
        func closeLine(_ end: Int) {
            let stop = end > lineStart && bytes[end - 1] == 0x0D ? end - 1 : end
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
        for (index, scalar) in scalars.enumerated() {
            let at = offsets[index], end = offsets[index + 1]
            if scalar == "\n" {
                if let start = wordStart { words.append(start..<at); wordStart = nil }
                closeLine(at)
                lineStart = end
                continue
            }
            let kind = ScalarClassTable.kind(of: scalar)
            if scalar.isASCII ? kind != .space : !scalar.properties.isWhitespace { lineHasContent = true }
            switch kind {
            case .word:
                if wordStart == nil { wordStart = at }
            case .joiner:
                let inside = wordStart != nil && index + 1 < scalars.count && ScalarClassTable.kind(of: scalars[index + 1]) == .word
                if !inside, let start = wordStart { words.append(start..<at); wordStart = nil }
            case .ideograph:
                if let start = wordStart { words.append(start..<at) }
                words.append(at..<end)
                wordStart = nil
            case .space, .other:
                if let start = wordStart { words.append(start..<at); wordStart = nil }
            }
        }
        if let start = wordStart { words.append(start..<bytes.count) }
        if lineStart < bytes.count || bytes.isEmpty || bytes.last == 0x0A { closeLine(bytes.count) }
        if let start = paragraphStart { paragraphs.append(start..<lastContentEnd) }
        return (words, lines, paragraphs, scalars.count)
    }

    /// Pieces of text in many scripts and every kind of separator, so that random strings of them put each kind of
    /// scalar at every offset of the eight-byte steps.
    static let pieces = ["a", "Zebra", "don't", "e-mail", "x1", "2024", "café", "naïve", "e\u{301}", "Straße", "привет", "мир",
                         "Γειά", "שלום", "مرحبا", "नमस्ते", "東京", "に", "カタカナ", "한국어", "สวัสดี", "𠀋", "😀", "👨‍👩‍👧", "𝐀",
                         "Ⅻ", "½", " ", "  ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u{A0}", "\u{85}", "\u{2028}", "\u{3000}",
                         "\u{200B}", "\u{200D}", "\u{202E}", "\u{2066}", "\u{FEFF}", "'", "-", "’", "‐", "--", "'-'", ".", "...",
                         "…", ",", "!", "?", "#", "{", "(", "\"", "\u{0}", "\u{1F}", "\u{FFFD}", "Ã©", "\u{301}"]

    @Test("words, lines and paragraphs agree with a scalar-by-scalar reference on random mixed-script text")
    func fastPathsAgreeWithTheReference() {
        var generator = SplitMix64(seed: 0x7E47)
        for round in 0..<400 {
            let count = Int.random(in: 0...(round < 300 ? 40 : 400), using: &generator)
            let text = (0..<count).map { _ in Self.pieces.randomElement(using: &generator)! }.joined()
            let view = TextView(text)
            let expected = Self.reference(text)
            #expect(view.words == expected.words, "words of \(text.debugDescription)")
            #expect(view.lines == expected.lines, "lines of \(text.debugDescription)")
            #expect(view.paragraphs == expected.paragraphs, "paragraphs of \(text.debugDescription)")
            #expect(view.scalarCount == expected.scalars, "scalars of \(text.debugDescription)")
        }
    }

    @Test("the scalar class table says what Unicode.Scalar.Properties say, for every scalar below U+10000")
    func scalarClassTableMatchesTheProperties() {
        let table = ScalarClassTable.shared
        var mismatches: [UInt32] = []
        for value in 0..<UInt32(0x10000) {
            guard let scalar = Unicode.Scalar(value) else { continue }
            if table.kind(of: value) != ScalarClassTable.kind(of: scalar) || table.isAlphabetic(value) != scalar.properties.isAlphabetic {
                mismatches.append(value)
            }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5).map { String($0, radix: 16) })")
        #expect(table.kind(of: 0x1F600) == .other && table.kind(of: 0x2000B) == .ideograph && table.kind(of: 0x1D400) == .word)
        #expect(table.isAlphabetic(0x1D400) && !table.isAlphabetic(0x1F600))
    }
}
