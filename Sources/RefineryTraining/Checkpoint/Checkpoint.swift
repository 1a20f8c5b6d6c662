import Foundation
import RefineryRecords

/// A training checkpoint: a folder `step-NNNNNNNN` under a run's `checkpoints/` holding `model.safetensors`
/// (GPT-2's names, loadable as it is), `optimizer.safetensors` (AdamW's moments), `state.json` (everything else
/// the run needs to continue exactly), the tokenizer's files, and a `DONE` marker written last.
///
/// It is written under a temporary name and renamed, so a folder without `DONE` was cut off and is ignored.
public struct Checkpoint {
    /// The checkpoint's folder.
    public let directory: String
    /// The update count it was taken after.
    public let step: Int

    static let marker = "DONE"

    /// Writes a checkpoint of `model` and `optimizer` with `state`, and removes all but the newest `keep`.
    /// - Returns: the new checkpoint.
    /// - Throws: ``RefineryError`` (code `output`) when the folder cannot be written.
    @discardableResult
    public static func save<State: Encodable>(model: GPT, optimizer: AdamW, state: State, step: Int,
                                              tokenizerDirectory: String, under root: String, keep: Int) throws -> Checkpoint {
        let fm = FileManager.default
        let name = String(format: "step-%08d", step)
        let final = (root as NSString).appendingPathComponent(name)
        let temporary = final + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
            if fm.fileExists(atPath: temporary) { try fm.removeItem(atPath: temporary) }
            try fm.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            try writeModel(model, to: (temporary as NSString).appendingPathComponent("model.safetensors"))
            try Safetensors.write([
                Safetensors.Tensor(name: "m", shape: [optimizer.m.count], values: UnsafeBufferPointer(start: optimizer.m.pointer, count: optimizer.m.count)),
                Safetensors.Tensor(name: "v", shape: [optimizer.v.count], values: UnsafeBufferPointer(start: optimizer.v.pointer, count: optimizer.v.count)),
            ], metadata: ["steps": String(optimizer.steps)], to: (temporary as NSString).appendingPathComponent("optimizer.safetensors"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(state).write(to: URL(fileURLWithPath: (temporary as NSString).appendingPathComponent("state.json")))
            try encoder.encode(model.config).write(to: URL(fileURLWithPath: (temporary as NSString).appendingPathComponent("model.json")))
            let tokenizer = (temporary as NSString).appendingPathComponent("tokenizer")
            try fm.createDirectory(atPath: tokenizer, withIntermediateDirectories: true)
            for file in try fm.contentsOfDirectory(atPath: tokenizerDirectory).sorted() {
                try fm.copyItem(atPath: (tokenizerDirectory as NSString).appendingPathComponent(file),
                                toPath: (tokenizer as NSString).appendingPathComponent(file))
            }
            guard fm.createFile(atPath: (temporary as NSString).appendingPathComponent(marker), contents: Data()) else {
                throw RefineryError(.output, "cannot write the DONE marker", at: SourceLocation(file: temporary))
            }
            if fm.fileExists(atPath: final) { try fm.removeItem(atPath: final) }
            try fm.moveItem(atPath: temporary, toPath: final)
        } catch let error as RefineryError {
            throw error
        } catch {
            throw RefineryError(.output, "cannot write the checkpoint: \((error as NSError).localizedDescription)",
                                at: SourceLocation(file: final))
        }
        let all = try list(under: root)
        for old in all.dropLast(max(1, keep)) { try? fm.removeItem(atPath: old.directory) }
        // Folders of saves cut off by a kill.
        for name in (try? fm.contentsOfDirectory(atPath: root)) ?? [] where name.contains(".tmp-") {
            try? fm.removeItem(atPath: (root as NSString).appendingPathComponent(name))
        }
        return Checkpoint(directory: final, step: step)
    }

    /// Writes the model's weights as `model.safetensors` with GPT-2's tensor names and `{"format": "pt"}`.
    public static func writeModel(_ model: GPT, to path: String) throws {
        let tensors = model.layout.tensors.map { t in
            Safetensors.Tensor(name: t.name, shape: t.shape,
                               values: UnsafeBufferPointer(start: model.parameters.pointer + t.offset, count: t.count))
        }
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: path)
    }

    /// The complete checkpoints under `root`, oldest first (folders without `DONE` are ignored).
    public static func list(under root: String) throws -> [Checkpoint] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: root) else { return [] }
        return names.compactMap { name -> Checkpoint? in
            guard name.hasPrefix("step-"), !name.contains(".tmp"), let step = Int(name.dropFirst(5)) else { return nil }
            let directory = (root as NSString).appendingPathComponent(name)
            guard fm.fileExists(atPath: (directory as NSString).appendingPathComponent(marker)) else { return nil }
            return Checkpoint(directory: directory, step: step)
        }.sorted { $0.step < $1.step }
    }

    /// A checkpoint folder itself, or the newest complete checkpoint of a training output folder.
    /// - Throws: ``RefineryError`` (code `usage`) when `path` holds neither.
    public static func locate(_ path: String) throws -> Checkpoint {
        let fm = FileManager.default
        if fm.fileExists(atPath: (path as NSString).appendingPathComponent(marker)) {
            let name = (path as NSString).lastPathComponent
            return Checkpoint(directory: path, step: name.hasPrefix("step-") ? Int(name.dropFirst(5)) ?? 0 : 0)
        }
        for root in [(path as NSString).appendingPathComponent("checkpoints"), path] {
            if let newest = try list(under: root).last { return newest }
        }
        throw RefineryError(.usage, "no complete checkpoint (a folder with a DONE marker) in \(path); "
            + "pass a training output folder or one of its checkpoints/step-… folders")
    }

    /// The model configuration.
    public func config() throws -> GPTConfig {
        let path = (directory as NSString).appendingPathComponent("model.json")
        guard let data = FileManager.default.contents(atPath: path), let config = try? JSONDecoder().decode(GPTConfig.self, from: data),
              (try? config.validate()) != nil else {
            throw RefineryError(.integrity, "missing, unreadable or impossible model configuration", at: SourceLocation(file: path))
        }
        return config
    }

    /// The model with the checkpoint's weights.
    /// - Throws: ``RefineryError`` (code `integrity`) when a tensor is missing or has the wrong shape.
    public func loadModel() throws -> GPT {
        let config = try config()
        let path = (directory as NSString).appendingPathComponent("model.safetensors")
        let tensors = try Safetensors.read(path: path)
        let layout = ParameterLayout(config: config)
        var weights = [Float](repeating: 0, count: layout.count)
        for t in layout.tensors {
            guard let found = tensors[t.name], found.shape == t.shape else {
                throw RefineryError(.integrity, "tensor \(t.name) is missing or not of shape \(t.shape)", at: SourceLocation(file: path))
            }
            weights.replaceSubrange(t.offset..<(t.offset + t.count), with: found.values)
        }
        return try GPT(config: config, weights: weights)
    }

    /// AdamW's moments and step count.
    public func loadOptimizer(into optimizer: AdamW) throws {
        let path = (directory as NSString).appendingPathComponent("optimizer.safetensors")
        let tensors = try Safetensors.read(path: path)
        guard let m = tensors["m"]?.values, let v = tensors["v"]?.values, m.count == optimizer.m.count, v.count == optimizer.v.count else {
            throw RefineryError(.integrity, "optimizer moments are missing or of the wrong size", at: SourceLocation(file: path))
        }
        let state = try loadState(AdamStepCount.self, file: "state.json")
        optimizer.restore(m: m, v: v, steps: state.optimizerSteps)
    }

    /// Decodes `state.json` (or another JSON file of the checkpoint).
    public func loadState<State: Decodable>(_ type: State.Type, file: String = "state.json") throws -> State {
        let path = (directory as NSString).appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RefineryError(.integrity, "missing \(file)", at: SourceLocation(file: path))
        }
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw RefineryError(.integrity, "unreadable \(file): \(error)", at: SourceLocation(file: path))
        }
    }

    /// The tokenizer saved with the checkpoint.
    public func loadTokenizer() throws -> BPETokenizer { try BPETokenizer.load(from: tokenizerDirectory) }

    /// The folder of the tokenizer saved with the checkpoint.
    public var tokenizerDirectory: String { (directory as NSString).appendingPathComponent("tokenizer") }

    private struct AdamStepCount: Decodable { let optimizerSteps: Int }
}
