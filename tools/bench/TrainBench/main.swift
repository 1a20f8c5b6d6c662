// Times training steps (forward, backward, AdamW) of the trainer's GPT on random tokens, the same workload as
// tools/bench/train_torch.py, and prints one JSON line: tokens/s, ms/step, model FLOPs per token and GFLOP/s.
// `tools/bench/trainer.sh` runs both and prints the comparison with MFU against sgemm-bench's peak.
import Foundation
import RefineryCodecs
import RefineryTraining

var options: [String: Int] = ["layers": 6, "width": 384, "heads": 6, "ctx": 256, "vocab": 4096, "batch-rows": 8, "steps": 10, "warmup": 3]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst().flatMap(Int.init), options[String(flag.dropFirst(2))] != nil else {
        FileHandle.standardError.write("usage: train-bench [--layers N] [--width N] [--heads N] [--ctx N] [--vocab N] [--batch-rows N] [--steps N] [--warmup N]\n".data(using: .utf8)!)
        exit(64)
    }
    options[String(flag.dropFirst(2))] = value
}
let config = GPTConfig(vocabularySize: options["vocab"]!, context: options["ctx"]!, layers: options["layers"]!,
                       heads: options["heads"]!, width: options["width"]!)
let rows = options["batch-rows"]!, t = config.context
let model = GPT(config: config, seed: 1)
let optimizer = AdamW(layout: model.layout, settings: AdamW.Settings())
var random = SplitMix64(seed: 7)
func batch(_ random: inout SplitMix64) -> TokenBatch {
    let tokens = (0...(rows * t)).map { _ in Int32(random.next() % UInt64(config.vocabularySize)) }
    return TokenBatch(rows: rows, inputs: Array(tokens[0..<(rows * t)]), positions: (0..<(rows * t)).map { Int32($0 % t) },
                      segmentStarts: Array(repeating: 0, count: rows * t), targets: Array(tokens[1...(rows * t)]),
                      weights: Array(repeating: 1, count: rows * t))
}
let clock = ContinuousClock()
var timed: Duration = .zero
let steps = options["steps"]!, warmup = options["warmup"]!
for step in 0..<(warmup + steps) {
    let b = batch(&random)
    let start = clock.now
    model.zeroGradients()
    _ = model.forward(b, gradientScale: 1 / Float(b.targetCount))
    model.backward()
    let norm = AdamW.globalNorm(model.gradients)
    if norm > 1 { AdamW.scale(model.gradients, by: Float(1 / norm)) }
    optimizer.step(parameters: model.parameters, gradients: model.gradients, rate: 3e-4)
    if step >= warmup { timed += clock.now - start }
}
let seconds = Double(timed.components.seconds) + Double(timed.components.attoseconds) * 1e-18
let tokensPerSecond = Double(steps * rows * t) / seconds
let flops = config.trainingFLOPsPerToken
print("{\"tool\":\"refinery\",\"tokens_per_s\":\(String(format: "%.1f", tokensPerSecond)),\"ms_per_step\":\(String(format: "%.1f", seconds / Double(steps) * 1000)),"
    + "\"flops_per_token\":\(Int(flops)),\"gflops\":\(String(format: "%.2f", tokensPerSecond * flops / 1e9)),\"parameters\":\(config.parameterCount),"
    + "\"threads\":\(Parallel.tasks),\"blas_threads\":\(Matmul.threads)}")
