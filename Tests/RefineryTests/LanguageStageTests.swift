import Foundation
import RefineryRecords
@testable import RefineryStages
import RefinerySpec
import Testing

@Suite struct LanguageStageTests {
    /// What tools/langid/train.py wrote for the committed model: n-gram buckets and predictions on held-out texts.
    struct Vectors {
        struct Prediction {
            let label: String?
            let bucket: Int?
            let text: String
            let lang: String
            let score: Double
            let posteriors: [String: Double]
        }

        let bits: Int
        let ngrams: [(text: String, buckets: [Int])]
        let predictions: [Prediction]

        static func load() throws -> Vectors {
            let url = repositoryRoot.appendingPathComponent("Tests/RefineryTests/Fixtures/langid-vectors.json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            let ngrams = try #require(object["ngrams"] as? [[String: Any]]).map { entry in
                (text: entry["text"] as? String ?? "", buckets: (entry["buckets"] as? [NSNumber] ?? []).map(\.intValue))
            }
            let predictions = try #require(object["predictions"] as? [[String: Any]]).map { entry in
                Prediction(label: entry["label"] as? String, bucket: (entry["bucket"] as? NSNumber)?.intValue,
                           text: entry["text"] as? String ?? "", lang: entry["lang"] as? String ?? "",
                           score: (entry["score"] as? NSNumber)?.doubleValue ?? -1,
                           posteriors: (entry["posteriors"] as? [String: NSNumber] ?? [:]).mapValues(\.doubleValue))
            }
            return Vectors(bits: (object["bits"] as? NSNumber)?.intValue ?? 0, ngrams: ngrams, predictions: predictions)
        }
    }

    func document(_ text: String, lang: String? = nil) -> Record {
        Record(id: "t/x:1", source: "t", lang: lang, text: text, location: SourceLocation(file: "x", line: 1))
    }

    func stage(_ yaml: String) throws -> LanguageStage {
        let spec = try PipelineSpec.parse(yaml: """
            name: t
            sources: [{name: s, kind: jsonl, glob: x}]
            stages:
              - lang: \(yaml)
            output: {dir: out}
            """, file: "t.yaml", baseDirectory: "/tmp")
        return try LanguageStage(parameters: spec.stages[0].parameters)
    }

    func run(_ stage: LanguageStage, _ record: Record) -> (Record, StageDecision, StageTally) {
        var record = record
        var tally = StageTally()
        let decision = stage.process(&record, tally: &tally)
        return (record, decision, tally)
    }

    static let english = "The committee will publish its final report next week, after the members have read the comments sent by the public."
    static let german = "Der Ausschuss wird seinen Abschlussbericht nächste Woche veröffentlichen, nachdem die Mitglieder die Kommentare gelesen haben."

    @Test("a declared code's primary subtag, lowercased, legacy codes renamed, nothing for a code without one")
    func primarySubtags() {
        let cases: [(String, String)] = [("en", "en"), ("EN", "en"), ("pt-BR", "pt"), ("zh_Hant", "zh"), ("no", "nb"), ("NOB", "nb"),
                                         ("nn", "nn"), ("iw", "he"), ("in-ID", "id"), ("", ""), ("--", ""), ("-x", "x"), ("é", "é")]
        for (code, primary) in cases { #expect(LanguageStage.primarySubtag(code) == primary, "\(code)") }
    }

    @Test("n-gram hashes match train.py's, for strings that touch every folding rule")
    func hashesMatchTrainer() throws {
        let model = try LanguageModel.bundled()
        let vectors = try Vectors.load()
        #expect(vectors.bits == model.bits)
        #expect(vectors.ngrams.count >= 20)
        for (text, buckets) in vectors.ngrams {
            #expect(model.buckets(text) == buckets, "\(text.debugDescription)")
        }
    }

    @Test("the Swift model reproduces train.py's languages, scores and posteriors within 1e-3")
    func predictionsMatchTrainer() throws {
        let model = try LanguageModel.bundled()
        let vectors = try Vectors.load()
        #expect(vectors.predictions.count >= 60)
        for expected in vectors.predictions {
            let guess = model.identify(expected.text)
            #expect(guess.lang == expected.lang, "\(expected.text.prefix(60).debugDescription)")
            #expect(abs(guess.score - expected.score) < 1e-3, "\(expected.text.prefix(60).debugDescription)")
            #expect(guess.posteriors.count == expected.posteriors.count)
            for (lang, p) in guess.posteriors {
                #expect(abs(p - (expected.posteriors[lang] ?? -1)) < 1e-3, "\(lang) on \(expected.text.prefix(60).debugDescription)")
            }
            // Without the posteriors (the stage's way), the very same language and score.
            let bare = model.identify(expected.text, posteriors: false)
            #expect(bare.lang == guess.lang && bare.score == guess.score && bare.posteriors.isEmpty)
        }
    }

    @Test("a held-out text of 150+ characters in each of the 30 languages is tagged with its language")
    func detectsEveryLanguage() throws {
        let vectors = try Vectors.load()
        let lang = try LanguageStage()
        var seen: Set<String> = []
        for case let (label?, text) in vectors.predictions.filter({ $0.bucket == 150 }).map({ ($0.label, $0.text) }) {
            let (record, decision, _) = run(lang, document(text))
            #expect(decision == .keep)
            #expect(record.lang == label, "\(text.prefix(80).debugDescription)")
            #expect((record.scores.first { $0.key == "lang" }?.value ?? 0) >= 0.5)
            seen.insert(label)
        }
        #expect(seen.count == 30)
        #expect(Set(lang.model.languages) == seen)
    }

    @Test("keeps the listed languages and drops the rest as language_not_kept")
    func keepList() throws {
        let lang = try stage("{keep: [en, fr]}")
        #expect(run(lang, document(Self.english)).1 == .keep)
        let (record, decision, _) = run(lang, document(Self.german))
        guard case .drop(let reason, let detail) = decision else {
            Issue.record("German text should be dropped")
            return
        }
        #expect(reason == "language_not_kept")
        #expect(detail.contains("detected de"))
        #expect(record.lang == "de")
        // No letters: und, kept only when listed.
        #expect(run(lang, document("12345 !!! 678")).1 != .keep)
        #expect(run(try stage("{keep: [en, und]}"), document("12345 !!! 678")).1 == .keep)
        // A declared regional tag is kept by its primary subtag.
        #expect(run(try stage("{keep: [pt]}"), document("Obrigado a todos pela ajuda com a tradução do manual.", lang: "pt-BR")).1 == .keep)
    }

    @Test("keep refuses a code no record can carry (not two letters, nor und), at its list item, naming the model's codes",
          arguments: ["{keep: [en, eng]}", "{keep: [en, english]}", "{keep: [en, e1]}", "{keep: [en, zho-Hant]}"])
    func keepUnknownCode(yaml: String) throws {
        let error = try #require(throws: RefineryError.self) { try stage(yaml) }
        #expect(error.message.hasPrefix("stages[0].lang.keep[1]:"), "\(error.message)")
        #expect(error.message.contains("unknown language"), "\(error.message)")
        let model = try LanguageModel.bundled()
        for code in model.languages + ["und"] { #expect(error.message.contains(code), "\(code) missing from \(error.message)") }
    }

    @Test("keep takes two-letter codes in any case, with region subtags or legacy aliases, and und", arguments: [
        ("{keep: [EN, pt-BR, zh_Hant, und]}", ["en", "pt", "zh", "und"]),
        ("{keep: [no, iw, in]}", ["nb", "he", "id"]),
        ("{keep: fr}", ["fr"]),
        ("{keep: [ca, en]}", ["ca", "en"]),  // ca: a language a source may declare, which the model does not detect
    ] as [(String, Set<String>)])
    func keepKnownCodes(yaml: String, codes: Set<String>) throws {
        #expect(try stage(yaml).keep == codes)
    }

    @Test("tags every record with lang and scores.lang, and keeps everything without keep")
    func tagsWithoutKeep() throws {
        let lang = try stage("{}")
        let (record, decision, tally) = run(lang, document(Self.german))
        #expect(decision == .keep)
        #expect(record.lang == "de")
        let score = try #require(record.scores.first { $0.key == "lang" }?.value)
        #expect(score > 0.9 && score <= 1)
        #expect(tally.events.isEmpty)
        // A chat is judged on its turns together.
        var chat = Record(id: "t/c:1", source: "t", messages: [
            Message(role: "user", content: "Bonjour, je n'arrive pas à me connecter à mon compte depuis hier soir."),
            Message(role: "assistant", content: "Désolé pour la gêne occasionnée. Avez-vous essayé de réinitialiser votre mot de passe ?"),
        ], location: SourceLocation(file: "c", line: 1))
        var chatTally = StageTally()
        #expect(lang.process(&chat, tally: &chatTally) == .keep)
        #expect(chat.lang == "fr")
        // A translation pair is judged on its answer, the declared target language: no mismatch.
        var pair = Record(id: "t/p:1", source: "t", lang: "fr", messages: [
            Message(role: "user", content: "Translate to French: The boats came back before dawn, and nobody on the quay said a word."),
            Message(role: "assistant", content: "Les bateaux sont rentrés avant l'aube, et personne sur le quai n'a dit un mot."),
        ], location: SourceLocation(file: "p", line: 1))
        var pairTally = StageTally()
        #expect(lang.process(&pair, tally: &pairTally) == .keep)
        #expect(pair.lang == "fr")
        #expect(pairTally.events["declared_lang_mismatch"] == nil)
    }

    @Test("a declared language that the detection contradicts is flagged, dropped, or overwritten as configured")
    func mismatch() throws {
        // tag (default): the declared language stays, the detected one goes to meta.
        let (tagged, decision, tally) = run(try stage("{}"), document(Self.english, lang: "de"))
        #expect(decision == .keep)
        #expect(tagged.lang == "de")
        #expect(tagged.meta.first { $0.key == "lang_detected" }?.value == .string("en"))
        #expect(tally.events["declared_lang_mismatch"] == 1)

        let (dropped, dropDecision, _) = run(try stage("{on_mismatch: drop}"), document(Self.english, lang: "de"))
        #expect(dropDecision == .drop(reason: "declared_lang_mismatch",
                                      detail: "declared de, detected en (confidence \(LanguageStage.format(dropped.scores[0].value)))"))

        let (overwritten, _, overwriteTally) = run(try stage("{overwrite_declared: true}"), document(Self.english, lang: "de"))
        #expect(overwritten.lang == "en")
        #expect(overwritten.meta.first { $0.key == "lang_declared" }?.value == .string("de"))
        #expect(overwriteTally.events["declared_lang_overwritten"] == 1)

        // Agreement by primary subtag and legacy codes is no mismatch.
        let (agreed, _, agreedTally) = run(try stage("{}"), document(Self.german, lang: "de-AT"))
        #expect(agreed.lang == "de-AT")
        #expect(agreedTally.events.isEmpty)
        let (norwegian, _, norwegianTally) = run(try stage("{}"),
            document("Vi har oppdatert personvernerklæringen vår, og du kan lese endringene på nettsidene våre.", lang: "no"))
        #expect(norwegian.lang == "no")
        #expect(norwegianTally.events["declared_lang_mismatch"] == nil)

        // A language the model does not know cannot be checked.
        let (catalan, _, catalanTally) = run(try stage("{}"), document("Bon dia a tothom, com esteu avui?", lang: "ca"))
        #expect(catalan.lang == "ca")
        #expect(catalanTally.events["declared_lang_unchecked"] == 1)

        // An undetermined detection never contradicts: a short line in a declared subtitle file keeps its language.
        let (short, _, shortTally) = run(try stage("{min_confidence: 0.99}"), document("Ok.", lang: "en"))
        #expect(short.lang == "en")
        #expect(shortTally.events["declared_lang_mismatch"] == nil)
    }

    @Test("a chat's turns, read in place, give the answer of the turns joined by blank lines")
    func chatTurnsInPlace() throws {
        let model = try LanguageModel.bundled()
        let vectors = try Vectors.load()
        let texts = vectors.predictions.map(\.text)
        for start in stride(from: 0, to: texts.count - 3, by: 7) {
            let turns = Array(texts[start..<(start + 3)])
            let joined = model.identify(turns.joined(separator: "\n\n"))
            let parts = model.identify(parts: turns)
            #expect(parts.lang == joined.lang)
            #expect(abs(parts.score - joined.score) < 1e-12)
        }
        // Turns that end and start with letters are still separate words.
        #expect(model.buckets("ab\n\ncd") == {
            var result: [Int] = []
            _ = model.scan(maxBytes: .max, record: { result.append($0) }) { scanner in
                for part in ["ab", "cd"] {
                    var part = part
                    part.withUTF8 { scanner.consume($0) }
                }
            }
            return result
        }())
    }

    @Test("interaction histories have no text and pass untouched, even with keep")
    func interactionsPass() throws {
        let history = Record(id: "t/i:1", source: "t", interactions: Interactions(items: ["a"], rewards: [1], timestamps: [0]),
                             location: SourceLocation(file: "i", line: 1))
        let (record, decision, tally) = run(try stage("{keep: [en]}"), history)
        #expect(decision == .keep)
        #expect(record == history)
        #expect(tally.events.isEmpty)
    }

    @Test("every record in is kept or dropped with a reason, exactly once")
    func accounting() throws {
        let vectors = try Vectors.load()
        let lang = try stage("{keep: [en, de, fr, und], on_mismatch: drop}")
        var kept = 0
        var dropped: [String: Int] = [:]
        for (i, prediction) in vectors.predictions.enumerated() {
            // Every third record declares English, so some are dropped as mismatches.
            switch run(lang, document(prediction.text, lang: i % 3 == 0 ? "en" : nil)).1 {
            case .keep: kept += 1
            case .drop(let reason, _): dropped[reason, default: 0] += 1
            }
        }
        #expect(kept + dropped.values.reduce(0, +) == vectors.predictions.count)
        #expect(Set(dropped.keys) == ["language_not_kept", "declared_lang_mismatch"])
        #expect(kept > 0)
    }

    @Test("below min_confidence the detected language is und")
    func minConfidence() throws {
        let (record, _, tally) = run(try stage("{min_confidence: 1.0}"), document("Hej"))
        #expect(record.lang == "und")
        #expect(tally.events["undetermined"] == 1)
        #expect((record.scores.first { $0.key == "lang" }?.value ?? -1) < 1)
    }

    static let hostile: [(name: String, bytes: [UInt8])] = [
        ("empty", []),
        ("one character repeated 1 MB", [UInt8](repeating: 0x61, count: 1 << 20)),
        ("one CJK character repeated", Array(String(repeating: "字", count: 50_000).utf8)),
        ("five scripts", Array("Hello мир Γειά σου שלום עולם مرحبا 世界 你好 hello".utf8)),
        ("lone surrogates (CESU-8)", [0xED, 0xA0, 0x80, 0x61, 0xED, 0xBF, 0xBF, 0x62]),
        ("stray continuation and cut-off sequences", [0x80, 0xBF, 0x41, 0xC3, 0x28, 0xE2, 0x82, 0xF0, 0x9F]),
        ("zero-width and bidi controls only", Array("\u{200B}\u{200C}\u{200D}\u{200E}\u{200F}\u{202A}\u{202E}\u{2066}\u{2069}\u{FEFF}".utf8)),
        ("controls inside words", Array("zero\u{200B}width\u{200D} and \u{2067}bidi\u{2069} controls in an English sentence".utf8)),
        ("only digits and punctuation", Array("12:34 -- (56) [78] ... !!! ???".utf8)),
        ("emoji", Array("😀😀😀 👍🏽 🎉🎉".utf8)),
        ("NUL bytes", [0, 0, 0, 0x61, 0, 0x62]),
        ("a script no language here uses", Array("ภาษาไทยเป็นภาษาที่สวยงาม".utf8)),
    ]

    @Test("hostile input gets a defined language and score and never crashes", arguments: hostile.map(\.name))
    func hostileInput(name: String) throws {
        let model = try LanguageModel.bundled()
        let bytes = try #require(Self.hostile.first { $0.name == name }?.bytes)
        let guess = bytes.withUnsafeBufferPointer { model.identify($0) }
        #expect(guess.score >= 0 && guess.score <= 1)
        #expect(guess.lang == "und" || model.languages.contains(guess.lang))
        #expect(guess.score.isFinite)
        // The same through the stage, from a String (invalid UTF-8 becomes U+FFFD there).
        let (record, decision, _) = run(try LanguageStage(), document(String(decoding: bytes, as: UTF8.self)))
        #expect(decision == .keep)
        #expect(record.lang != nil)
        switch name {
        case "empty", "zero-width and bidi controls only", "only digits and punctuation", "emoji", "lone surrogates (CESU-8)":
            if name != "lone surrogates (CESU-8)" { #expect(guess == .undetermined) }
        case "one character repeated 1 MB", "one CJK character repeated", "a script no language here uses":
            #expect(guess == .undetermined)
        case "five scripts":
            // The largest script wins, and the score says how much of the text it covers.
            #expect(guess.score < 0.5)
        case "controls inside words":
            #expect(guess.lang == "en")
        default:
            break
        }
    }

    @Test("reads only the first max_bytes bytes")
    func maxBytes() throws {
        let model = try LanguageModel.bundled()
        let text = Self.german + " " + String(repeating: Self.english + " ", count: 20)
        #expect(model.identify(text).lang == "en")
        #expect(model.identify(text, maxBytes: Self.german.utf8.count).lang == "de")
        let lang = try stage("{max_bytes: 100}")
        #expect(run(lang, document(text)).0.lang == "de")
    }

    @Test("rejects bad parameters with the key's location", arguments: [
        "{min_confidence: 1.5}", "{on_mismatch: delete}", "{keep: [english]}", "{max_bytes: 0}", "{keep_languages: [en]}",
    ])
    func badParameters(yaml: String) {
        #expect(throws: RefineryError.self) { try stage(yaml) }
    }

    @Test("a model file that is not a model is an error, not a crash", arguments: [
        [UInt8](), Array("RFLANGID".utf8), Array("RFLANGID".utf8) + [UInt8](repeating: 0, count: 100),
    ])
    func badModel(bytes: [UInt8]) {
        #expect(throws: RefineryError.self) { try LanguageModel(bytes: bytes) }
    }

    @Test("the bundled model is found and covers the 30 languages")
    func bundledModel() throws {
        let model = try LanguageModel.bundled()
        #expect(model.languages.count == 30)
        #expect(Set(model.languages) == Set(["en", "ru", "uk", "es", "pt", "fr", "it", "de", "nl", "sv", "da", "nb", "fi", "pl", "cs",
                                              "sk", "hu", "ro", "bg", "el", "tr", "ar", "he", "fa", "hi", "zh", "ja", "ko", "vi", "id"]))
        #expect(LanguageModel.candidatePaths().contains { $0.hasSuffix("Refinery_RefineryStages.resources/langid.bin") })
    }
}
