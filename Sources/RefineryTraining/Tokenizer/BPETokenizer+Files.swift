import Foundation
import RefineryRecords

/// Saving and loading in Hugging Face's formats.
extension BPETokenizer {
    /// The text form of a token in `vocab.json` and `merges.txt`: bytes in GPT-2's alphabet; special tokens as
    /// written.
    func text(ofToken id: Int) -> String {
        id >= tokens.count - specialTokens.count ? specialTokens[id - (tokens.count - specialTokens.count)] : ByteLevel.text(tokens[id])
    }

    /// Writes `vocab.json`, `merges.txt`, `tokenizer.json`, `tokenizer_config.json` and `special_tokens_map.json`
    /// into `directory` (created if missing). Keys are sorted, so the same merges give the same bytes.
    public func save(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var vocab: [String: Int] = [:]
        for id in tokens.indices { vocab[text(ofToken: id)] = id }
        let mergeLines = merges.map { "\(text(ofToken: Int($0.0))) \(text(ofToken: Int($0.1)))" }
        let endOfText = specialTokens.first ?? "<|endoftext|>"
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        let tokenizer: [String: Any] = [
            "version": "1.0",
            "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": specialTokens.map { token -> [String: Any] in
                ["id": Int(id(ofSpecial: token)!), "content": token, "single_word": false, "lstrip": false, "rstrip": false,
                 "normalized": false, "special": true]
            },
            "normalizer": NSNull(),
            "pre_tokenizer": byteLevel,
            "post_processor": byteLevel.merging(["trim_offsets": false]) { $1 },
            "decoder": byteLevel,
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocab, "merges": mergeLines] as [String: Any],
        ]
        let config: [String: Any] = [
            "tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024, "add_prefix_space": false,
            "bos_token": endOfText, "eos_token": endOfText, "unk_token": endOfText,
            "additional_special_tokens": Array(specialTokens.dropFirst()),
        ]
        let specialMap: [String: Any] = ["bos_token": endOfText, "eos_token": endOfText, "unk_token": endOfText,
                                         "additional_special_tokens": Array(specialTokens.dropFirst())]
        func write(_ object: Any, _ name: String) throws {
            var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            data.append(0x0A)
            try data.write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent(name)), options: .atomic)
        }
        try write(vocab, "vocab.json")
        try Data(("#version: 0.2\n" + mergeLines.map { $0 + "\n" }.joined()).utf8)
            .write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("merges.txt")), options: .atomic)
        try write(tokenizer, "tokenizer.json")
        try write(config, "tokenizer_config.json")
        try write(specialMap, "special_tokens_map.json")
    }

    /// Reads `vocab.json` and `merges.txt` from `directory`; tokens of `vocab.json` outside GPT-2's byte alphabet
    /// after the merged ones are the special tokens.
    /// - Throws: ``RefineryError`` (code `input`) naming the file and what is wrong.
    public static func load(from directory: String) throws -> BPETokenizer {
        let vocabPath = (directory as NSString).appendingPathComponent("vocab.json")
        let mergesPath = (directory as NSString).appendingPathComponent("merges.txt")
        guard let vocabData = FileManager.default.contents(atPath: vocabPath),
              let vocab = try? JSONSerialization.jsonObject(with: vocabData) as? [String: Int] else {
            throw RefineryError(.input, "missing, or not a JSON object of token → id", at: SourceLocation(file: vocabPath))
        }
        guard let mergesData = FileManager.default.contents(atPath: mergesPath) else {
            throw RefineryError(.input, "missing merges file", at: SourceLocation(file: mergesPath))
        }
        var merges: [(left: [UInt8], right: [UInt8])] = []
        for (number, line) in String(decoding: mergesData, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || (number == 0 && line.hasPrefix("#version")) { continue }
            let parts = line.split(separator: " ")
            guard parts.count == 2, let left = ByteLevel.bytes(String(parts[0])), let right = ByteLevel.bytes(String(parts[1])) else {
                throw RefineryError(.input, "not a merge of two byte-level tokens: \(line.prefix(80))", at: SourceLocation(file: mergesPath, line: number + 1))
            }
            merges.append((left, right))
        }
        let learned = 256 + merges.count
        let specials = vocab.filter { $0.value >= learned }.sorted { $0.value < $1.value }.map(\.key)
        let tokenizer = try BPETokenizer(merges: merges, specialTokens: specials)
        for (token, id) in vocab where id < tokenizer.tokens.count && tokenizer.text(ofToken: id) != token {
            throw RefineryError(.input, "token \(token) has id \(id) here, but the merges give that id to \(tokenizer.text(ofToken: id))",
                                at: SourceLocation(file: vocabPath))
        }
        return tokenizer
    }
}
