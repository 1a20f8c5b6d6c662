import Foundation
import RefineryRecords

/// Writes a checkpoint as a Hugging Face GPT-2 folder: `model.safetensors` (GPT-2's names, `{"format": "pt"}`),
/// `config.json` (a `GPT2Config`) and the tokenizer's files, so `GPT2LMHeadModel.from_pretrained` and
/// `AutoTokenizer.from_pretrained` load it.
public enum HuggingFaceExport {
    /// Exports `checkpoint` into `directory` (created if missing).
    /// - Returns: the files written.
    /// - Throws: ``RefineryError`` (code `output`) when the folder cannot be written.
    @discardableResult
    public static func export(_ checkpoint: Checkpoint, to directory: String) throws -> [String] {
        let fm = FileManager.default
        let model = try checkpoint.loadModel()
        let tokenizer = try BPETokenizer.load(from: checkpoint.tokenizerDirectory)
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var written: [String] = []
            try Checkpoint.writeModel(model, to: (directory as NSString).appendingPathComponent("model.safetensors"))
            written.append("model.safetensors")
            let c = model.config
            let endOfText = Int(tokenizer.id(ofSpecial: "<|endoftext|>") ?? 0)
            let config: [String: Any] = [
                "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
                "vocab_size": c.vocabularySize, "n_positions": c.context, "n_ctx": c.context, "n_embd": c.width,
                "n_layer": c.layers, "n_head": c.heads, "n_inner": NSNull(), "activation_function": "gelu_new",
                "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "layer_norm_epsilon": 1e-5,
                "initializer_range": 0.02, "tie_word_embeddings": true, "bos_token_id": endOfText, "eos_token_id": endOfText,
                "torch_dtype": "float32",
            ]
            let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            try json.write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("config.json")))
            written.append("config.json")
            for file in try fm.contentsOfDirectory(atPath: checkpoint.tokenizerDirectory).sorted() {
                let target = (directory as NSString).appendingPathComponent(file)
                if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
                try fm.copyItem(atPath: (checkpoint.tokenizerDirectory as NSString).appendingPathComponent(file), toPath: target)
                written.append(file)
            }
            return written
        } catch let error as RefineryError {
            throw error
        } catch {
            throw RefineryError(.output, "cannot export: \((error as NSError).localizedDescription)", at: SourceLocation(file: directory))
        }
    }
}
