import Foundation
import RefineryRecords
@testable import RefineryStages
import RefinerySpec
import Testing

@Suite struct ToxicityStageTests {
    /// A small lexicon, so matching is tested apart from the shipped lists.
    static let lexicon = ToxicityLexicon(lists: [
        "en": ["fuck", "shit", "ass", "cunt", "cock", "idiot", "blow job", "son of a bitch"],
        "ru": ["хуй", "блядь", "сука"],
        "tr": ["am"],
        "zh": ["他妈的", "傻逼"],
    ])

    /// The listed terms found in `text`, as written.
    func matches(_ text: String, language: String? = nil) -> [String] {
        let scorer = ToxicityScorer(lexicon: Self.lexicon, classifier: ToxicityClassifier(bits: 12))
        let analysis = scorer.analyse([text], language: language)
        let utf8 = Array(text.utf8)
        return analysis.matches.map { String(decoding: utf8[$0.bytes], as: UTF8.self) }
    }

    @Test("a language code's primary subtag, lowercased, Norwegian as Bokmål: bare codes as they are, tagged ones cut")
    func primarySubtags() {
        let cases: [(String, String)] = [("en", "en"), ("EN", "en"), ("en-US", "en"), ("pt_BR", "pt"), ("zh-Hant-TW", "zh"),
                                         ("no", "nb"), ("nn", "nb"), ("NO", "nb"), ("nn-NO", "nb"), ("nb", "nb"), ("yue", "yue"),
                                         ("", ""), ("-x", "x"), ("--", "--"), ("é", "é"), ("É", "é")]
        for (code, primary) in cases { #expect(ToxicityStage.primarySubtag(code) == primary, "\(code)") }
    }

    @Test("word-list lines are trimmed as Foundation's whitespaces trim them: every shipped line, and blanks of every kind")
    func trimming() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/RefineryStages/Toxicity/Resources/toxicity/lexicon").path
        var lines: [Substring] = ["", " ", "\t", " a ", "\u{00A0}term\u{3000}", "\u{2003}two words\t", "x\u{200B}", "\u{FEFF}y", " é\u{301} "]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".txt") {
            lines += try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(whereSeparator: \.isNewline)
        }
        #expect(lines.count > 20_000)
        // Every scalar of the first blocks, and the BOM, around a letter.
        for value in Array(0x0...0x3100) + [0xFEFF] {
            guard let scalar = Unicode.Scalar(value), !Character(scalar).isNewline else { continue }
            lines.append(Substring("\(scalar)a\(scalar)"))
        }
        for line in lines {
            #expect(ToxicityLexicon.trimmed(line) == line.trimmingCharacters(in: .whitespaces), "\(line.unicodeScalars.map(\.value))")
        }
    }

    @Test("reads obfuscated words as the words they hide", arguments: [
        ("FUCK this", "FUCK"),
        ("what the fück", "fück"),
        ("sh1t happens", "sh1t"),
        ("you @ss", "@ss"),
        ("$hit", "$hit"),
        ("a55", "a55"),
        ("f*ck that", "f*ck"),
        ("f**k that", "f**k"),
        ("sh#t", "sh#t"),
        ("fuuuuuck", "fuuuuuck"),
        ("assssss", "assssss"),
        ("f.u.c.k off", "f.u.c.k"),
        ("f-u-c-k off", "f-u-c-k"),
        ("f u c k off", "f u c k"),
        ("fu\u{200B}ck", "fu\u{200B}ck"),
        ("ｆｕｃｋ", "ｆｕｃｋ"),
        ("fuсk with a Cyrillic с", "fuсk"),
        ("блядь", "блядь"),
        ("cука, with a Latin c", "cука"),
        ("shits and fucking", "shits"),
        ("a blow job", "blow job"),
        ("you son of a bitch", "son of a bitch"),
        ("你他妈的说什么", "你他妈的说什么"),
    ])
    func obfuscation(text: String, expected: String) {
        #expect(matches(text).first == expected, "\(text)")
    }

    @Test("a masked token matches a term of its length and first letter with one, or up to eight letters two, of the term's later letters masked", arguments: [
        ("f*ck", true), ("f**k", true), ("f#ck", true), ("i*i*t", true), ("a*s", true), ("m*therfucker", true),
        ("motherf*cker", true), ("m*therf*cker", false), ("f***k", false), ("f*ke", false), ("f*ckk", false),
        ("i***t", false), ("d*ck", false),
    ])
    func maskedTerms(token: String, matches: Bool) {
        let lexicon = ToxicityLexicon(lists: ["en": ["fuck", "idiot", "ass", "motherfucker"], "de": ["dick"]])
        let scorer = ToxicityScorer(lexicon: lexicon, classifier: ToxicityClassifier(bits: 12))
        #expect(scorer.analyse(["you \(token) there"], language: "en").matches.isEmpty != matches, "\(token)")
    }

    @Test("keeps word boundaries: clean words that contain a listed one stay clean", arguments: [
        "Scunthorpe United won", "an assessment of the class", "a cocktail in Essex", "Shitake? No, shiitake.",
        "I am here", "the idiom", "passion and compassion", "2 + 2 = 4!", "", "   ", "h3llo w0rld", "1337 3.14",
    ])
    func boundaries(text: String) {
        #expect(matches(text).isEmpty, "\(text)")
    }

    @Test("uses the record's language and English; every list when the language is unknown")
    func languages() {
        // Turkish `am` is not an English word to flag.
        #expect(matches("I am here", language: "en").isEmpty)
        #expect(matches("I am here", language: "tr") == ["am"])
        #expect(matches("хуй", language: "de").isEmpty)
        #expect(matches("хуй", language: "ru") == ["хуй"])
        #expect(matches("xуй, with a Latin x", language: "ru") == ["xуй"])
        #expect(matches("fuck", language: "ru") == ["fuck"])
        // Unknown language: English, and the other lists' terms of four letters or more.
        #expect(matches("блядь", language: nil) == ["блядь"])
        #expect(matches("хуй", language: nil).isEmpty)
    }

    func document(_ text: String?, lang: String? = nil, category: String? = nil) -> Record {
        var record = Record(id: "t/x:1", source: "t", text: text, location: SourceLocation(file: "x", line: 1))
        record.lang = lang
        record.category = category
        return record
    }

    func stage(_ yaml: String) throws -> ToxicityStage {
        let spec = try PipelineSpec.parse(yaml: """
            name: t
            sources: [{name: s, kind: jsonl, glob: x}]
            stages:
              - toxicity: \(yaml)
            output: {dir: out}
            """, file: "t.yaml", baseDirectory: "/tmp")
        return try ToxicityStage(parameters: spec.stages[0].parameters)
    }

    @Test("the shipped model scores abuse high and ordinary text low")
    func shippedModel() throws {
        let stage = try ToxicityStage()
        func score(_ text: String, lang: String? = "en") -> Double {
            var record = document(text, lang: lang)
            var tally = StageTally()
            _ = stage.process(&record, tally: &tally)
            return record.scores.first { $0.key == "toxicity" }?.value ?? -1
        }
        #expect(score("You are a f*cking idiot and a piece of sh1t.") >= 0.8)
        #expect(score("Shut up, you stupid moron.") >= 0.5)
        #expect(score("Thanks, the refund arrived this morning. Have a nice day!") < 0.2)
        #expect(score("We shipped the assessment for Scunthorpe and Essex.") < 0.2)
        // Other languages: the lexicon-only model, higher with more listed terms.
        #expect(score("Ты хуй, блядь, сука!", lang: "ru") > score("Ты хороший человек.", lang: "ru"))
    }

    @Test("drops at the threshold with reason toxic, or tags and keeps")
    func decisions() throws {
        let text = "You are a f*cking idiot and a piece of sh1t, fuck you."
        var record = document(text, lang: "en")
        var tally = StageTally()
        let decision = try stage("{}").process(&record, tally: &tally)
        guard case .drop(let reason, let detail) = decision else {
            Issue.record("expected a drop, got \(decision)")
            return
        }
        #expect(reason == "toxic")
        #expect(detail.contains("listed terms: f*"), "\(detail)")
        #expect(!detail.contains("fuck") && !detail.contains("sh1t"), "the detail masks what it reports")

        record = document(text, lang: "en")
        #expect(try stage("{action: tag}").process(&record, tally: &tally) == .keep)
        #expect(tally.events["toxic_tagged"] == 1)
        #expect((record.scores.first { $0.key == "toxicity" }?.value ?? 0) >= 0.5)

        record = document(text, lang: "en", category: "subtitles")
        #expect(try stage("{categories: {subtitles: {threshold: 1.0}}}").process(&record, tally: &tally) == .keep)
    }

    @Test("judges a chat's assistant turns by default, or the roles listed")
    func roles() throws {
        var chat = Record(id: "t/x:1", source: "t", messages: [
            Message(role: "user", content: "Your app is shit, you fucking idiots, fix it!"),
            Message(role: "assistant", content: "I'm sorry about the trouble. I have reset your account; please try again."),
        ], location: SourceLocation(file: "x", line: 1))
        chat.lang = "en"
        var tally = StageTally()
        var copy = chat
        #expect(try stage("{}").process(&copy, tally: &tally) == .keep)
        copy = chat
        if case .keep = try stage("{roles: [user, assistant]}").process(&copy, tally: &tally) {
            Issue.record("the user's abuse should count when user turns are judged")
        }
    }

    @Test("bad input gets a defined score and no crash", arguments: [
        "", " \n\t ", String(repeating: "a", count: 1 << 20), String(repeating: "*", count: 100_000),
        "English, русский, ελληνικά, 中文字, עברית and हिन्दी together",
        "\u{FFFD}\u{FFFD} lone surrogates decoded as replacement characters \u{FFFD}",
        "zero\u{200B}width\u{200D}joiners and \u{202E}bidi\u{202C} controls \u{2066}isolate\u{2069}",
        String(repeating: "f.", count: 50_000),
    ])
    func badInput(text: String) throws {
        var record = document(text)
        var tally = StageTally()
        _ = try ToxicityStage().process(&record, tally: &tally)
        let score = record.scores.first { $0.key == "toxicity" }?.value
        #expect(score != nil && (0...1).contains(score!))
        if text.allSatisfy({ $0.isWhitespace }) { #expect(score == 0) }
    }

    @Test("rejects bad parameters with a message", arguments: [
        ("{threshold: 2}", "threshold must be in [0, 1]"),
        ("{action: delete}", "unknown action 'delete'; use drop or tag"),
        ("{roles: []}", "roles is empty"),
        ("{treshold: 0.5}", "treshold"),
    ])
    func badParameters(yaml: String, message: String) {
        #expect { try stage(yaml) } throws: { "\($0)".contains(message) }
    }

    @Test("interaction histories pass untouched")
    func interactions() throws {
        var record = Record(id: "t/x:1", source: "t", location: SourceLocation(file: "x", line: 1))
        record.interactions = Interactions(items: ["a"], rewards: [1], timestamps: [1])
        var tally = StageTally()
        #expect(try ToxicityStage().process(&record, tally: &tally) == .keep)
        #expect(record.scores.isEmpty)
    }

    @Test("the model file round-trips and a damaged one is refused")
    func modelFile() throws {
        var model = ToxicityClassifier(bits: 12)
        model.bias = -1.25
        model.weights[7] = 0.5
        let copy = try ToxicityClassifier(bytes: model.serialized(), origin: "m.bin")
        #expect(copy.bias == -1.25 && copy.weights[7] == 0.5 && copy.bits == 12)
        var damaged = model.serialized()
        damaged.removeLast()
        #expect { try ToxicityClassifier(bytes: damaged, origin: "m.bin") } throws: { "\($0)".contains("tools/toxicity/train.sh") }
    }
}
