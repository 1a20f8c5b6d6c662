import Foundation
import RefineryRecords
import RefineryTraining
import Testing

/// Byte-level BPE: GPT-2's pre-tokenisation, merge learning, encoding, and the Hugging Face files.
/// (`tools/tokenizer/check_hf.py` compares the encodings with Hugging Face `tokenizers` on real text.)
@Suite struct TokenizerTests {
    @Test("pre-tokenisation cuts as GPT-2's pattern does", arguments: [
        ("Hello world", ["Hello", " world"]),
        ("it's we're they've I'll he'd IT'S", ["it", "'s", " we", "'re", " they", "'ve", " I", "'ll", " he", "'d", " IT", "'", "S"]),
        ("   a", ["  ", " a"]),
        ("a  \n", ["a", "  \n"]),
        ("x\ty", ["x", "\t", "y"]),
        ("3.14 and 2024", ["3", ".", "14", " and", " 2024"]),
        ("Hi!!! ok?", ["Hi", "!!!", " ok", "?"]),
        ("e\u{301}té", ["e", "\u{301}", "té"]),
        ("中文，日本語", ["中文", "，", "日本語"]),
        ("a\u{00A0}b", ["a", "\u{00A0}", "b"]),
    ])
    func preTokenizer(text: String, pieces: [String]) {
        #expect(PreTokenizer.split(text).map(String.init) == pieces)
    }

    @Test("pieces always cover the text exactly")
    func coverage() {
        let text = "Ünïcode  text\t\twith 😀 emoji, ١٢٣ digits,\r\n  and 'quotes' — done.  "
        #expect(PreTokenizer.split(text).joined() == text)
    }

    @Test("merges: the most frequent pair first, ties to the merged bytes that sort first")
    func training() throws {
        var trainer = BPETrainer()
        for _ in 0..<3 { trainer.add("aaab") }
        let merges = trainer.train(vocabularySize: 300)
        #expect(merges.map { String(decoding: $0.left + [0x20] + $0.right, as: UTF8.self) } == ["a a", "aa a", "aaa b"])
    }

    static func trained() throws -> BPETokenizer {
        var trainer = BPETrainer()
        let corpus = ["The boats came back before dawn.", "Nobody on the quay said a word.", "Then the old keeper lit the lamp.",
                      "Les bateaux sont rentrés avant l'aube.", "Personne sur le quai n'a dit un mot.", "港口的船在黎明前回来了。"]
        for _ in 0..<4 { for line in corpus { trainer.add(line) } }
        return try BPETokenizer(merges: trainer.train(vocabularySize: 400))
    }

    @Test("encode then decode gives the text back; special tokens stay whole")
    func roundTrip() throws {
        let tokenizer = try Self.trained()
        for text in ["The boats came back.", "Quai du port, 6 h 15 !", "港口的船", "emoji 😀 and \u{0} nul", ""] {
            #expect(tokenizer.decode(tokenizer.encode(text)) == text)
        }
        let ids = tokenizer.encode("<|user|>Then the<|assistant|>")
        #expect(ids.first == tokenizer.id(ofSpecial: "<|user|>") && ids.last == tokenizer.id(ofSpecial: "<|assistant|>"))
        // Matched on bytes: a combining mark after it does not hide a special token; an unknown `<|…|>` is text.
        let marked = tokenizer.encode("<|end|>\u{301}x <|nope|>")
        #expect(marked.first == tokenizer.id(ofSpecial: "<|end|>"))
        #expect(tokenizer.decode(marked) == "<|end|>\u{301}x <|nope|>")
        #expect(!marked.dropFirst().contains { tokenizer.specialTokens.map(tokenizer.id(ofSpecial:)).contains($0) })
        #expect(tokenizer.encode(" the the").count == 2) // " the" was learned
    }

    @Test("saved files load back to the same tokenizer, byte-identical when saved twice")
    func files() throws {
        let folder = try TemporaryFolder()
        let tokenizer = try Self.trained()
        try tokenizer.save(to: folder.path + "/a")
        try tokenizer.save(to: folder.path + "/b")
        for name in ["vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
            #expect(FileManager.default.contents(atPath: folder.path + "/a/" + name) == FileManager.default.contents(atPath: folder.path + "/b/" + name))
        }
        let loaded = try BPETokenizer.load(from: folder.path + "/a")
        #expect(loaded.vocabularySize == tokenizer.vocabularySize && loaded.specialTokens == tokenizer.specialTokens)
        let text = "Then the old keeper lit the lamp <|end|>"
        #expect(loaded.encode(text) == tokenizer.encode(text))

        _ = try folder.write("a/merges.txt", "#version: 0.2\nT h\nnot-a-merge\n")
        #expect {
            try BPETokenizer.load(from: folder.path + "/a")
        } throws: { error in
            guard let error = error as? RefineryError else { return false }
            return error.location?.line == 3 && error.message.contains("not a merge")
        }
    }

    @Test("the texts of a dataset are read after its checksums are verified")
    func datasetTexts() throws {
        let lines = [GlobalStagesTests.line("The boats came back before dawn."), GlobalStagesTests.line("Nobody on the quay said a word.")]
        let (_, _, manifest, path) = try GlobalStagesTests.run(files: [("a.jsonl", lines)], stages: "  - validate: {}",
                                                               output: "validation_fraction: 0")
        var texts: [String] = []
        try DatasetTexts(directory: path + "/out").forEachText { texts.append($0) }
        #expect(texts == ["The boats came back before dawn.", "Nobody on the quay said a word."])

        let shard = path + "/out/" + manifest.shards[0].file
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: shard)))
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: shard))
        #expect(throws: RefineryError.self) { try DatasetTexts(directory: path + "/out").forEachText { _ in } }
    }
}
