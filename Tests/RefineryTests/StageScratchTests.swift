import RefineryCodecs
@testable import RefineryStages
import Testing

@Suite struct StageScratchTests {
    struct Counter: StageBuffers {
        var uses = 0
    }

    struct Other: StageBuffers {
        var uses = 0
    }

    @Test("a worker's scratch keeps each type of buffers from call to call, apart from the other types")
    func buffersPersistByType() {
        let scratch = StageScratch()
        for _ in 0..<3 { scratch.withBuffers(Counter.self) { $0.uses += 1 } }
        scratch.withBuffers(Other.self) { $0.uses += 10 }
        #expect(scratch.withBuffers(Counter.self) { $0.uses } == 3)
        #expect(scratch.withBuffers(Other.self) { $0.uses } == 10)
        #expect(StageScratch().withBuffers(Counter.self) { $0.uses } == 0)
    }

    /// Texts of every size in turn: long ones with repeated n-grams, lines and paragraphs, then short ones, so that
    /// what a long text leaves in the buffers is there when a shorter one is measured.
    static func texts() -> [String] {
        var generator = SplitMix64(seed: 0x5C7A)
        let vocabulary = ["the", "cat", "sat", "on", "a", "mat", "Ünïcode", "東京", "don't", "42", "lorem", "ipsum", "f*ck", "sh1t"]
        return (0..<80).map { round in
            let count = [3, 400, 12, 60, 1, 250][round % 6]
            let words = (0..<count).map { _ in vocabulary[Int.random(in: 0..<vocabulary.count, using: &generator)] }
            let breaks = round % 4 == 0 ? "\n\n" : round % 4 == 1 ? "\n" : " "
            return stride(from: 0, to: words.count, by: 7).map { words[$0..<min($0 + 7, words.count)].joined(separator: " ") }
                .joined(separator: breaks)
        }
    }

    @Test("quality signals measured with one worker's buffers, text after text, are those of fresh buffers")
    func qualityBuffersLeaveNothingBehind() {
        var buffers = QualityBuffers()
        for text in Self.texts() {
            let view = TextView(text)
            let reused = QualitySignals(view, lang: "en", buffers: &buffers)
            let fresh = QualitySignals(view, lang: "en")
            #expect(String(describing: reused) == String(describing: fresh), "\(text.prefix(60).debugDescription)")
        }
    }

    @Test("toxicity scores and matches found with one worker's buffers, text after text, are those of fresh buffers")
    func toxicityBuffersLeaveNothingBehind() throws {
        let scorer = try ToxicityScorer.bundled()
        var buffers = ToxicityBuffers()
        for (index, text) in Self.texts().enumerated() {
            let texts = index % 3 == 0 ? [text, "you idiot", text] : [text]
            let reused = scorer.analyse(texts, language: "en", buffers: &buffers)
            let fresh = scorer.analyse(texts, language: "en")
            #expect(reused.score == fresh.score)
            #expect(reused.matches.map { "\($0.text):\($0.bytes)" } == fresh.matches.map { "\($0.text):\($0.bytes)" })
        }
    }
}
