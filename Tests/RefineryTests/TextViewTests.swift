import RefineryRecords
import RefineryStages
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
}
