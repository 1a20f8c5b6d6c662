import Foundation
import RefineryRecords
import RefineryTraining
import Testing

/// The training loop on real files: objectives, health checks with injected poison, exact resume after
/// `kill -9`, checkpoints and export.
@Suite struct TrainerTests {
    /// A folder with a chat dataset (rewards by category) and a byte-level tokenizer.
    struct Workspace {
        let folder: TemporaryFolder
        let dataset: String
        let tokenizer: String

        init(document: Bool = true) throws {
            folder = try TemporaryFolder()
            var lines: [String] = []
            let colours = ["red", "green", "blue", "amber", "violet"]
            for i in 0..<40 {
                let colour = colours[i % colours.count]
                let good = i % 3 != 0
                var object = try JSONSerialization.jsonObject(with: Data(try TrainingDataTests.chat(
                    "c\(i)", [("user", "colour \(i % 7)?"), ("assistant", good ? "It is \(colour)." : "No idea.")],
                    reward: good ? 0.9 : 0.1).utf8)) as! [String: Any]
                object["category"] = i % 2 == 0 ? "support" : "chat"
                lines.append(try TrainingDataTests.json(object))
            }
            if document { lines.append(try TrainingDataTests.json(["id": "doc", "text": "A plain document without a reward."])) }
            dataset = try TrainingDataTests.writeDataset(in: folder, "chats", shards: [("train", lines)])
            tokenizer = folder.path + "/tokenizer"
            try BPETokenizer(merges: []).save(to: tokenizer)
        }

        /// A configuration file; `extra` is appended as YAML.
        func config(_ name: String, steps: Int = 12, objective: String = "kind: sft", extra: String = "") throws -> String {
            try folder.write("\(name).yaml", """
                name: \(name)
                output: \(folder.path)/\(name)
                data:
                  datasets: [{path: \(dataset)}]
                  tokenizer: \(tokenizer)
                  missing_reward: skip
                model: {layers: 1, heads: 2, width: 16, context: 32}
                objective: {\(objective.replacingOccurrences(of: "\n", with: ", "))}
                schedule: {steps: \(steps), batch_rows: 2, accumulation: 2, learning_rate: 0.01, warmup: 2, seed: 3}
                checkpoints: {every: 4, keep: 2}

                """ + extra)
        }

        func train(_ path: String, resume: Bool = false) throws -> Trainer.Summary {
            try Trainer(config: try TrainingConfig.load(path: path)).run(resume: resume)
        }

        func finalWeights(_ name: String, step: Int) -> Data? {
            FileManager.default.contents(atPath: folder.path + "/\(name)/checkpoints/" + String(format: "step-%08d", step) + "/model.safetensors")
        }
    }

    @Test("A-SFT with beta = inf trains exactly the same weights as SFT; a finite beta does not")
    func betaInfinityIsSFT() throws {
        let w = try Workspace(document: false)
        defer { w.folder.cleanup() }
        _ = try w.train(try w.config("sft"))
        _ = try w.train(try w.config("asft-inf", objective: "kind: asft\nbeta: inf\nbaseline: category_mean\nnormalize: true"))
        _ = try w.train(try w.config("asft-half", objective: "kind: asft\nbeta: 0.5\nbaseline: category_mean"))
        let sft = try #require(w.finalWeights("sft", step: 12))
        #expect(w.finalWeights("asft-inf", step: 12) == sft)
        #expect(w.finalWeights("asft-half", step: 12) != sft)
    }

    @Test("objective weights: exp(advantage / beta) clipped at w_max, rwbc = r, filtered = 1[r > b], summary statistics")
    func objectiveWeights() throws {
        var objective = Objective()
        objective.kind = .asft
        objective.beta = 0.5
        objective.maxWeight = 2
        objective.baseline = .batchMean
        var state = Objective.State()
        let examples = [0.2, 0.8, 1.0].map { Objective.Example(reward: $0, group: nil) }
        let (asft, summary) = try objective.weights(examples, groupMeans: [:], state: &state)
        let mean = (0.2 + 0.8 + 1.0) / 3
        #expect(abs(asft[0] - Foundation.exp((0.2 - mean) / 0.5)) < 1e-12)
        #expect(asft[2] == 2 || abs(asft[2] - Foundation.exp((1.0 - mean) / 0.5)) < 1e-12)
        #expect(summary.max <= 2 && summary.examples == 3 && summary.effectiveSampleSize > 1 && summary.effectiveSampleSize < 3)
        objective.kind = .rwbc
        #expect(try objective.weights(examples, groupMeans: [:], state: &state).weights == [0.2, 0.8, 1.0])
        objective.kind = .filtered
        #expect(try objective.weights(examples, groupMeans: [:], state: &state).weights == [0, 1, 1])
        objective.baseline = .ema
        objective.emaDecay = 0.5
        state = Objective.State()
        _ = try objective.weights(examples, groupMeans: [:], state: &state)
        #expect(abs((state.ema ?? 0) - mean) < 1e-12)
        #expect(throws: RefineryError.self) { try objective.weights([Objective.Example(reward: nil, group: nil)], groupMeans: [:], state: &state) }
    }

    @Test("a NaN in a batch skips that update and is counted; training goes on with finite weights")
    func nanPoison() throws {
        let w = try Workspace()
        defer { w.folder.cleanup() }
        let summary = try w.train(try w.config("nan", extra: "debug: {poison: [{batch: 6, kind: nan}]}\n"))
        #expect(summary.health.nonFiniteSkips == 1)
        #expect(summary.updates == 11 && summary.steps == 12)
        let log = try String(contentsOfFile: w.folder.path + "/nan/log.jsonl", encoding: .utf8)
        #expect(log.components(separatedBy: "\"verdict\":\"skip_nonfinite\"").count == 2)
        let weights = try Safetensors.read(path: w.folder.path + "/nan/checkpoints/step-00000012/model.safetensors")
        #expect(weights.values.allSatisfy { $0.values.allSatisfy(\.isFinite) })
    }

    @Test("repeated loss spikes roll back to the last checkpoint with a lower learning rate and skip the offending batches")
    func spikeRollback() throws {
        let w = try Workspace()
        defer { w.folder.cleanup() }
        let poison = (80...85).map { "{batch: \($0), kind: spike}" }.joined(separator: ", ")
        let summary = try w.train(try w.config("spike", steps: 50, extra: """
            health: {spike_window: 16, spike_min_history: 8, rollback_after: 3, spike_z: 6}
            debug: {poison: [\(poison)]}

            """))
        #expect(summary.health.rollbacks == 1)
        #expect(summary.health.rateScale == 0.5)
        #expect(summary.health.spikeSkips >= 3)
        #expect(Set(summary.health.skippedBatches).isSuperset(of: [80, 81, 82, 83]))
        #expect(summary.steps == 50 && summary.finalLoss.isFinite)
        let log = try String(contentsOfFile: w.folder.path + "/spike/log.jsonl", encoding: .utf8)
        #expect(log.contains("\"verdict\":\"rollback\""), "\(log.split(separator: "\n").map { $0.split(separator: ",")[2] })")
    }

    @Test("kill -9 mid-run, then --resume: the final weights and optimiser state equal a straight run's, byte for byte")
    func killAndResume() throws {
        let w = try Workspace()
        defer { w.folder.cleanup() }
        let straight = try w.config("straight", steps: 120)
        #expect(try refinery(["train", straight, "--every", "0"]).status == 0)
        let killed = try w.config("killed", steps: 120)
        // Same configuration file contents except the output folder, so the hashes differ only by that.
        let process = Process()
        process.executableURL = try refineryBinary()
        process.arguments = ["train", killed, "--every", "0"]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let marker = w.folder.path + "/killed/checkpoints/step-00000012/DONE"
        while !FileManager.default.fileExists(atPath: marker) && process.isRunning { usleep(2_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the run ended before it could be killed")
        let resumed = try refinery(["train", killed, "--resume", "--every", "0"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        for file in ["model.safetensors", "optimizer.safetensors"] {
            let a = FileManager.default.contents(atPath: w.folder.path + "/straight/checkpoints/step-00000120/" + file)
            let b = FileManager.default.contents(atPath: w.folder.path + "/killed/checkpoints/step-00000120/" + file)
            #expect(a != nil && a == b, "\(file) differs after resume")
        }
        // Steps redone after the kill are logged once: the same steps, in the same order, as the straight run.
        func steps(_ name: String) throws -> [Int] {
            try String(contentsOfFile: w.folder.path + "/\(name)/log.jsonl", encoding: .utf8).split(separator: "\n").map { line in
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return object?["step"] as? Int ?? -1
            }
        }
        #expect(try steps("killed") == steps("straight"))
        // Without --resume the folder is refused, naming the way on.
        let again = try refinery(["train", killed])
        #expect(again.status == 1 && again.stderr.contains("--resume"))
    }

    @Test("one, two or three cores train the same weights, byte for byte, with products large enough to be split")
    func coresDoNotChangeWeights() throws {
        let w = try Workspace()
        defer { w.folder.cleanup() }
        var outputs: [Data] = []
        for threads in ["1", "2", "3"] {
            let name = "threads\(threads)"
            let path = try w.config(name, steps: 3)
            let text = try String(contentsOfFile: path, encoding: .utf8)
                .replacingOccurrences(of: "model: {layers: 1, heads: 2, width: 16, context: 32}", with: "model: {layers: 1, heads: 2, width: 64, context: 64}")
                .replacingOccurrences(of: "batch_rows: 2", with: "batch_rows: 4")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = try refineryBinary()
            process.arguments = ["train", path, "--every", "0"]
            process.environment = ProcessInfo.processInfo.environment.merging(["REFINERY_THREADS": threads]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            outputs.append(try #require(w.finalWeights(name, step: 3)))
        }
        #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
    }

    @Test("configuration mistakes name the key and line; a reward objective without rewards says how to go on")
    func configErrors() throws {
        let w = try Workspace()
        defer { w.folder.cleanup() }
        let typo = try w.config("typo", extra: "schedul: {steps: 3}\n")
        #expect(throws: RefineryError.self) { _ = try TrainingConfig.load(path: typo) }
        do { _ = try TrainingConfig.load(path: typo) } catch let error as RefineryError {
            #expect(error.description.contains("did you mean 'schedule'"))
            #expect(error.location?.line != nil)
        }
        let strict = try w.config("strict", objective: "kind: rwbc").replacingOccurrences(of: "", with: "")
        let text = try String(contentsOfFile: strict, encoding: .utf8).replacingOccurrences(of: "missing_reward: skip", with: "missing_reward: error")
        try text.write(toFile: strict, atomically: true, encoding: .utf8)
        do { _ = try Trainer(config: try TrainingConfig.load(path: strict)); Issue.record("expected an error") } catch let error as RefineryError {
            #expect(error.message.contains("missing_reward: skip") && error.message.contains("doc"))
        }
    }

    @Test("export writes GPT-2's tensor names and shapes with format=pt, and the weights read back unchanged")
    func export() throws {
        let w = try Workspace()
        defer { w.folder.cleanup() }
        _ = try w.train(try w.config("export", steps: 4))
        let checkpoint = try Checkpoint.locate(w.folder.path + "/export")
        #expect(checkpoint.step == 4)
        let out = w.folder.path + "/hf"
        try HuggingFaceExport.export(checkpoint, to: out)
        let model = try checkpoint.loadModel()
        let tensors = try Safetensors.read(path: out + "/model.safetensors")
        #expect(tensors.count == model.layout.tensors.count)
        #expect(tensors["transformer.h.0.attn.c_attn.weight"]?.shape == [16, 48])
        #expect(tensors["lm_head.weight"] == nil)
        for t in model.layout.tensors {
            #expect(tensors[t.name]?.values == Array(model.parameters.array[t.offset..<(t.offset + t.count)]))
        }
        let header = try #require(FileManager.default.contents(atPath: out + "/model.safetensors"))
        #expect(String(decoding: header.prefix(200), as: UTF8.self).contains("\"__metadata__\":{\"format\":\"pt\"}"))
        let config = try #require(try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))) as? [String: Any])
        #expect(config["model_type"] as? String == "gpt2" && config["n_embd"] as? Int == 16 && config["vocab_size"] as? Int == 261)
        #expect(FileManager.default.fileExists(atPath: out + "/vocab.json") && FileManager.default.fileExists(atPath: out + "/merges.txt"))
    }

    @Test("generation: greedy is deterministic, top-k 1 equals greedy, sampling repeats with its seed")
    func generation() throws {
        let model = GPT(config: GPTConfig(vocabularySize: 40, context: 16, layers: 1, heads: 2, width: 8), seed: 5)
        var greedy = Generator.Sampling()
        greedy.maxTokens = 10
        let a = Generator.generate(model: model, prompt: [1, 2, 3], sampling: greedy, stop: [])
        #expect(a.count == 10 && a == Generator.generate(model: model, prompt: [1, 2, 3], sampling: greedy, stop: []))
        var topOne = greedy
        topOne.temperature = 1
        topOne.topK = 1
        #expect(Generator.generate(model: model, prompt: [1, 2, 3], sampling: topOne, stop: []) == a)
        var sampled = greedy
        sampled.temperature = 2
        sampled.seed = 9
        let s = Generator.generate(model: model, prompt: [1, 2, 3], sampling: sampled, stop: [])
        #expect(s == Generator.generate(model: model, prompt: [1, 2, 3], sampling: sampled, stop: []))
        // A stop token ends the continuation before it.
        #expect(Generator.generate(model: model, prompt: [1, 2, 3], sampling: greedy, stop: [a[0]]).isEmpty)
    }
}
