import ArgumentParser
import Foundation
import RefineryRecords
import RefineryTraining

/// `refinery tokenizer train DATASET --vocab N --out DIR`: learn a byte-level BPE tokenizer from a dataset's shards.
struct Tokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Byte-level BPE tokenizers in GPT-2's format.",
        subcommands: [Train.self, Encode.self])

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Learn BPE merges from a dataset's train shards; write vocab.json, merges.txt and tokenizer.json.")

        @Argument(help: "A dataset folder (holding manifest.json).")
        var dataset: String

        @Option(name: .long, help: "Vocabulary size, special tokens included (at least 256 + the special tokens).")
        var vocab: Int = 4096

        @Option(name: .long, help: "Folder to write the tokenizer files into (created if missing).")
        var out: String

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            let minimum = 256 + BPETokenizer.defaultSpecialTokens.count
            guard vocab >= minimum else { throw ValidationError("--vocab must be at least \(minimum) (256 bytes + special tokens), got \(vocab)") }
        }

        func run() throws {
            _ = global.makeLogger()
            do {
                let (tokenizer, trainer, bytes) = try BPETokenizer.learn(fromDataset: dataset, vocabularySize: vocab)
                let texts = try DatasetTexts(directory: dataset)
                try tokenizer.save(to: out)
                // Bytes per token on the validation split (the train split when there is none): how much it compresses.
                var heldOut = (bytes: 0, tokens: 0)
                for split in ["validation", "train"] where heldOut.bytes == 0 {
                    try texts.forEachText(split: split) { text in
                        heldOut.bytes += text.utf8.count
                        heldOut.tokens += tokenizer.encode(text).count
                    }
                }
                let ratio = heldOut.tokens == 0 ? 0 : Double(heldOut.bytes) / Double(heldOut.tokens)
                printError("tokenizer: \(tokenizer.vocabularySize) tokens (\(tokenizer.merges.count) merges, \(tokenizer.specialTokens.count) special) "
                    + "from \(bytes) bytes in \(trainer.pieces.count) distinct pieces; "
                    + String(format: "%.2f bytes a token on held-out text", ratio))
                if tokenizer.vocabularySize < vocab {
                    printError("note: the corpus ran out of pairs seen twice before \(vocab) tokens")
                }
                printError("wrote \(out)/vocab.json, merges.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json")
            } catch let error as RefineryError {
                printError("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the token ids of texts: one JSON string per line on stdin, one JSON array per line on stdout.")

        @Argument(help: "A tokenizer folder (vocab.json and merges.txt).")
        var tokenizer: String

        @Option(name: .long, help: "Encode this text instead of reading stdin.")
        var text: String?

        @OptionGroup var global: GlobalOptions

        func run() throws {
            _ = global.makeLogger()
            let bpe: BPETokenizer
            do { bpe = try BPETokenizer.load(from: tokenizer) } catch let error as RefineryError {
                printError("error: \(error)")
                throw ExitCode(1)
            }
            func emit(_ ids: [Int32]) { print("[" + ids.map(String.init).joined(separator: ",") + "]") }
            if let text {
                emit(bpe.encode(text))
                return
            }
            var number = 0
            while let line = readLine(strippingNewline: true) {
                number += 1
                guard let data = line.data(using: .utf8),
                      let text = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? String else {
                    printError("error: stdin line \(number) is not a JSON string")
                    throw ExitCode(1)
                }
                emit(bpe.encode(text))
            }
        }
    }
}
