import Foundation
import RefineryRecords
import RefineryStages
import RefinerySpec
import Testing

@Suite struct QualityStageTests {
    static func stage(_ flow: String = "{}") throws -> QualityStage {
        let spec = try PipelineSpec.parse(yaml: """
            name: t
            sources: [{name: s, kind: jsonl, glob: g}]
            stages:
              - quality: \(flow)
            output: {dir: o}
            """, file: "t.yaml", baseDirectory: "/tmp")
        return try #require(try StageRegistry.build(spec.stages).first as? QualityStage)
    }

    static func run(_ text: String, lang: String? = "en", category: String? = nil, stage: QualityStage? = nil)
        throws -> (decision: StageDecision, score: Double)
    {
        var record = Record(id: "r", source: "s", category: category, lang: lang, text: text, location: SourceLocation(file: "f"))
        var tally = StageTally()
        let decision = try (stage ?? Self.stage()).process(&record, tally: &tally)
        return (decision, record.scores.first { $0.key == "quality" }!.value)
    }

    static let prose = """
        The lighthouse stood at the end of the long pier, and every evening the keeper climbed its narrow stairs to \
        light the lamp. In winter the wind came off the sea so hard that the windows rattled in their frames, but \
        the light never failed. Ships passing in the night could see it from miles away, and the fishermen said \
        that as long as it burned they would always find their way home. When the old keeper grew too weak for the \
        stairs, his daughter took over the work, and she kept the lamp burning for another forty years.
        """

    @Test func cleanProseSubtitlesAndChatTurnsScoreHigh() throws {
        #expect(try Self.run(Self.prose).score >= 0.95)
        #expect(try Self.run("Where are you going?\nHome. It is late.\nSee you tomorrow.").score >= 0.95)
        #expect(try Self.run("Thanks, that fixed it!").score >= 0.95)
        #expect(try Self.run("Où vas-tu ? À la maison, il est tard.", lang: "fr").score >= 0.95)
        #expect(try Self.run("東京に行きます。明日また会いましょう。", lang: "ja").score >= 0.95)
    }

    @Test func eachKindOfGarbageIsDroppedByItsComponent() throws {
        let cases: [(String, String)] = [
            (String(repeating: "Click here to subscribe to our newsletter!\n", count: 12), "low_quality_duplicate_lines"),
            ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.", "low_quality_boilerplate"),
            ("The cafÃ© was closed. Itâ€™s a pity, we wanted to try their crÃ¨me brÃ»lÃ©e and their Ã©clairs.", "low_quality_mojibake"),
            ("%^&*()_+ |:<>? ~~~ @@@ $$$ %%% ^^^ &&& *** ((( ))) !!! ;;; ,,, /// 12 34 5", "low_quality_letters"),
            (String(repeating: "a", count: 1_000_000), "low_quality_long_words"),
        ]
        for (text, reason) in cases {
            let (decision, score) = try Self.run(text)
            guard case .drop(let got, let detail) = decision else {
                Issue.record("kept (\(score)): \(text.prefix(60))")
                continue
            }
            #expect(got == reason, "\(detail)")
            #expect(score < 0.85)
        }
        // Keyword spam: no stop words in a long run of words.
        let spam = (0..<40).map { ["cheap", "watches", "replica", "luxury", "discount", "sale", "buy", "online"][$0 % 8] }.joined(separator: " ")
        guard case .drop(let reason, _) = try Self.run(spam).decision else { Issue.record("spam kept"); return }
        #expect(["low_quality_stop_words", "low_quality_top_ngram", "low_quality_duplicate_ngrams"].contains(reason))
    }

    @Test func thresholdsAndComponentsComeFromTheSpecPerCategory() throws {
        let stage = try Self.stage("{keep: 0.5, categories: {strict: {keep: 0.99, disable: [mojibake]}}}")
        let text = String(repeating: "Same line again and again.\n", count: 2) + "And a different one.\nThen a third.\nA fourth line here.\nAnd the last."
        let lenient = try Self.run(text, stage: stage)
        #expect(lenient.decision == .keep)
        let strict = try Self.run(text, category: "strict", stage: stage)
        #expect(strict.decision != .keep)
        #expect(strict.score == lenient.score)
        #expect(throws: RefineryError.self) { try Self.stage("{disable: [nonsense]}") }
        #expect(throws: RefineryError.self) { try Self.stage("{keep: 2}") }
    }

    @Test func badInputGetsADefinedScoreNeverACrash() throws {
        #expect(try Self.run("").score == 0)
        for text in ["", " \n\t ", String(repeating: "x", count: 1 << 20), "English Русский Ελληνικά עברית 中文 mixed",
                     "zero\u{200B}width\u{200D}and\u{202E}bidi\u{202C} controls", "lone \u{FFFD} surrogate \u{FFFD} escaped"] {
            let (_, score) = try Self.run(text)
            #expect((0...1).contains(score))
        }
        var history = Record(id: "u", source: "s", interactions: Interactions(items: ["a"], rewards: [1], timestamps: [1]),
                             location: SourceLocation(file: "f"))
        var tally = StageTally()
        #expect(try Self.stage().process(&history, tally: &tally) == .keep)
        #expect(history.scores.isEmpty)
    }
}
