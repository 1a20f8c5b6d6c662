import RefineryCodecs
import Foundation
import RefineryRecords
@testable import RefineryStages
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

    @Test("short subtitle lines with an ellipsis, Korean dialogue and French dialogue score high; long ellipsis spam does not")
    func shortLinesKoreanAndFrenchDialogueScoreHigh() throws {
        // Lines of the real subtitles tools/eval/quality_eval.py reads (pysrt's French film, a Netflix episode).
        #expect(try Self.run("Mario...", lang: "es").score >= 0.95)
        #expect(try Self.run("Merci... mon frère.", lang: "fr").score >= 0.95)
        #expect(try Self.run("Diez años no son suficientes\npara olvidarte...\nAlba.", lang: "es").score >= 0.95)
        #expect(try Self.run("Je vais te régler ton compte!\nJ'ai rien vu venir!", lang: "fr").score >= 0.95)
        // Eleven Korean words of two to four syllables: Gopher's 3-10 characters is for alphabetic words.
        #expect(try Self.run("어디 가세요? 집에 가요. 내일 봐요. 잘 자요, 그리고 조심해서 가세요.", lang: "ko").score >= 0.95)
        let spam = (0..<12).map { "Read more... about offer \($0)..." }.joined(separator: "\n")
        guard case .drop(let reason, _) = try Self.run(spam).decision else { Issue.record("ellipsis spam kept"); return }
        #expect(["low_quality_symbols", "low_quality_ellipsis_lines"].contains(reason))
    }

    @Test("a subtitle window of dialogue lines, each after a dash, is dialogue; a menu of dashed items is still bullets")
    func dialogueDashesAreNotBullets() throws {
        // As the subtitle readers write a change of speaker: the dash stays on each line.
        #expect(try Self.run("- Where are you going?\n- Home. It is late.\n- I'll drive you.\n- Thanks!").score >= 0.95)
        #expect(try Self.run("- Où vas-tu ?\n- À la maison.\n- Je t'accompagne.", lang: "fr").score >= 0.95)
        // Four lines: under the five the terminal-punctuation rule needs, so bullets decide.
        let menu = "- Home\n- About us\n- Products and services\n- Contact the team"
        guard case .drop(let reason, _) = try Self.run(menu).decision else { Issue.record("a menu of dashed items kept"); return }
        #expect(reason == "low_quality_bullets")
        let stars = "* Where are you going?\n* Home. It is late.\n* I'll drive you.\n* Thanks!"
        guard case .drop(let starReason, _) = try Self.run(stars).decision else { Issue.record("star bullets kept"); return }
        #expect(starReason == "low_quality_bullets")
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

    // MARK: The fast signals against straightforward references

    /// Words as the quality rules compare them: ASCII capitals folded, nothing else.
    static func folded(_ view: TextView, _ range: Range<Int>) -> String {
        String(decoding: view.bytes[range].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Gopher's n-gram rules the obvious way: every n-gram at every position in a dictionary.
    static func referenceNgrams(_ view: TextView) -> (top: [Double], duplicate: [Double]) {
        let words = view.words.map { folded(view, $0) }
        let characters = view.words.map { view.string($0).unicodeScalars.count }
        let total = Double(max(1, characters.reduce(0, +)))
        func counts(_ n: Int) -> [[String]: Int] {
            var counts: [[String]: Int] = [:]
            for start in 0...(words.count - n) { counts[Array(words[start..<(start + n)]), default: 0] += 1 }
            return counts
        }
        let top = (2...4).map { n -> Double in
            let counts = counts(n)
            let most = counts.values.max() ?? 0
            guard most > 1 else { return 0 }
            let longest = counts.filter { $0.value == most }.keys.map { gram in
                gram.reduce(0) { $0 + $1.unicodeScalars.count }
            }.max() ?? 0
            return min(1, Double(most * longest) / total)
        }
        let duplicate = (5...10).map { n -> Double in
            let counts = counts(n)
            var covered = Set<Int>()
            for start in 0...(words.count - n) where counts[Array(words[start..<(start + n)])]! > 1 {
                covered.formUnion(start..<(start + n))
            }
            return Double(covered.reduce(0) { $0 + characters[$1] }) / total
        }
        return (top, duplicate)
    }

    @Test("a measurement in a drop's detail never reads as the limit it broke", arguments: [
        (2.997, "2.997"), (2.99996, "2.99996"), (3.0, "3.0"), (10.004, "10.004"), (4.567, "4.57"), (2.5, "2.5"),
    ])
    func detailDecimals(value: Double, shown: String) {
        #expect(QualityComponent.decimals(value, apart: [3, 10]) == shown)
    }

    @Test("the chained n-gram passes give what counting every n-gram at every position gives")
    func ngramRulesAgreeWithTheReference() throws {
        var generator = SplitMix64(seed: 0x6A11)
        let vocabulary = ["the", "The", "cat", "sat", "on", "mat", "and", "a", "dog", "ran", "far", "away", "ТЕКСТ", "текст",
                          "東", "京", "don't", "e-mail", "x", "42"]
        for round in 0..<60 {
            // Small vocabularies repeat a lot; some texts repeat whole sentences, like the garbage the rules catch.
            let size = Int.random(in: 2...vocabulary.count, using: &generator)
            var words = (0..<Int.random(in: 50...400, using: &generator)).map { _ in vocabulary[Int.random(in: 0..<size, using: &generator)] }
            if round % 3 == 0 { words += Array(words.prefix(Int.random(in: 5...40, using: &generator))) }
            let view = TextView(words.joined(separator: round % 2 == 0 ? " " : ", "))
            let signals = QualitySignals(view, lang: "en")
            let (top, duplicate) = Self.referenceNgrams(view)
            let got = try #require(signals.topNgram)
            let gotDuplicate = try #require(signals.duplicateNgrams)
            for (a, b) in zip(got + gotDuplicate, top + duplicate) { #expect(abs(a - b) < 1e-9, "round \(round): \(got + gotDuplicate) vs \(top + duplicate)") }
        }
    }

    /// The index of the first boilerplate phrase on a line, scanning byte by byte (as the stage did before it
    /// probed every seventh byte).
    static func referenceBoilerplate(_ line: [UInt8]) -> Int? {
        let phrases = BoilerplatePhrases.phrases.map { Array($0.utf8) }
        for position in line.indices {
            for (index, phrase) in phrases.enumerated() where position + phrase.count <= line.count {
                if zip(phrase, line[position...]).allSatisfy({ $0 == $1 || ($1 | 0x20 == $0 && $0 >= 0x61) }) { return index }
            }
        }
        return nil
    }

    @Test("boilerplate, symbols and letters agree with byte-by-byte references at every offset")
    func lineAndCharacterSignalsAgreeWithReferences() {
        var generator = SplitMix64(seed: 0xB011)
        let pieces = ["lorem ipsum", "Lorem Ipsum", "TERMS OF USE", "privacy policy", "cookie  policy", "Uses Cookies",
                      "use of cookies", "all rights reserved", "JavaScript", "enable cookies", "click here", "click",
                      "here", " of ", "x", "éé", "é", "word", " ", ".", "..", "...", "#", "…", "Ã©", "\u{FFFD}", "Ж", "東", "1"]
        for _ in 0..<400 {
            let text = (0..<Int.random(in: 1...30, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let view = TextView(text)
            let signals = QualitySignals(view, lang: "en")
            // Boilerplate: the first phrase of the (single, untrimmed-by-phrase) line.
            let trimmed = Array(text.utf8).drop { $0 == 0x20 }.reversed().drop { $0 == 0x20 }.reversed()
            let phrase = trimmed.isEmpty ? nil : Self.referenceBoilerplate(Array(trimmed))
            #expect(signals.boilerplateLines == (phrase == nil ? 0 : 1), "\(text.debugDescription)")
            #expect(signals.loremIpsum == (phrase == BoilerplatePhrases.loremIpsum), "\(text.debugDescription)")
            // Symbols: '#', '…', and one ellipsis per three dots in a row.
            var symbols = text.filter { $0 == "#" || $0 == "…" }.count
            for run in text.split(whereSeparator: { $0 != "." }) { symbols += run.count / 3 }
            let words = view.words.count
            #expect(signals.symbolRatio == (words == 0 ? (symbols > 0 ? 1 : 0) : Double(symbols) / Double(words)), "\(text.debugDescription)")
            // Letters among non-space characters (ASCII control characters and space are space).
            let nonSpace = text.unicodeScalars.filter { !$0.isASCII || $0.value > 0x20 }
            let letters = nonSpace.filter { $0.properties.isAlphabetic }
            #expect(signals.letterFraction == (nonSpace.isEmpty ? 1 : Double(letters.count) / Double(nonSpace.count)), "\(text.debugDescription)")
        }
    }

    @Test("one character a million times, in three scripts, and one short word repeated, get defined scores")
    func longRepetitionsScoreWithoutTrouble() throws {
        for text in [String(repeating: "é", count: 1 << 19), String(repeating: "東", count: 1 << 16),
                     String(repeating: "ab ", count: 100_000), String(repeating: "\u{200B}", count: 1 << 18)] {
            let (_, score) = try Self.run(text)
            #expect((0...1).contains(score))
        }
    }
}
