import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefinerySpec
import Testing

/// The four text stages together, through the real engine, on input meant to break them: each record must come
/// out with every score defined and in [0, 1], and the run must account for every line.
@Suite struct TextStagesBadInputTests {
    static let fiveScripts = "English words, русские слова, ελληνικές λέξεις, 中文的词语, and हिन्दी शब्द in one line"

    /// JSON lines as written in a file (escapes included), with what the test calls them.
    static let lines: [(name: String, json: String)] = [
        ("empty", #"{"text": ""}"#),
        ("whitespace", #"{"text": " \n\t\n "}"#),
        ("one character, 1 MB", #"{"text": "\#(String(repeating: "a", count: 1 << 20))"}"#),
        ("one symbol, 1 MB", #"{"text": "\#(String(repeating: "!", count: 1 << 20))"}"#),
        ("five scripts", #"{"text": "\#(fiveScripts)"}"#),
        ("lone surrogates", #"{"text": "a lone high \ud800 and a lone low \udc00 surrogate, then \ud83d\ude00 a pair"}"#),
        ("zero-width and bidi", #"{"text": "zero\u200Bwidth\u200Djoin \u202Ereversed\u202C \u2066isolated\u2069 \u200Fmarks\u200E"}"#),
        ("controls only", #"{"text": "\u200B\u200C\u200D\u2060\uFEFF\u202E\u202C"}"#),
        ("chat of bad turns", #"{"messages": [{"role": "user", "content": "\ud800\u200B"}, {"role": "assistant", "content": "\#(fiveScripts)"}]}"#),
    ]

    @Test("every record gets lang, pii_density, quality and toxicity in [0, 1]; nothing crashes or is lost")
    func badInput() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        _ = try folder.write("in/bad.jsonl", Self.lines.map(\.json).joined(separator: "\n") + "\n")
        let spec = try PipelineSpec.parse(yaml: """
            name: bad
            sources: [{name: bad, kind: jsonl, glob: "in/*"}]
            stages:
              - lang: {}
              - pii: {max_density: 1.0}
              - quality: {keep: 0}
              - toxicity: {action: tag}
            output: {dir: out, validation_fraction: 0}
            """, file: folder.path + "/spec.yaml", baseDirectory: folder.path)
        let result = try run(spec)
        #expect(result.manifest.totals.read == Self.lines.count)
        #expect(result.manifest.totals.written == Self.lines.count, "rejects: \(result.manifest.totals.quarantinedByReason)")

        let records = try shardObjects(result.manifest.shards, in: folder.path + "/out")
        #expect(records.count == Self.lines.count)
        for (index, record) in records.enumerated() {
            let name = Self.lines[index].name
            guard case .object(let scores)? = record.first(where: { $0.key == "scores" })?.value else {
                Issue.record("\(name): no scores")
                continue
            }
            for key in ["lang", "pii_density", "quality", "toxicity"] {
                guard case .number(let lexeme)? = scores.first(where: { $0.key == key })?.value, let value = Double(lexeme) else {
                    Issue.record("\(name): no scores.\(key)")
                    continue
                }
                #expect((0...1).contains(value), "\(name): scores.\(key) = \(value)")
            }
            // No words at all: nothing to judge, scored 0 by quality and toxicity.
            if ["empty", "whitespace", "controls only"].contains(name) {
                for key in ["quality", "toxicity"] {
                    guard case .number(let lexeme)? = scores.first(where: { $0.key == key })?.value else { continue }
                    #expect(Double(lexeme) == 0, "\(name): \(key)")
                }
            }
        }
    }
}
