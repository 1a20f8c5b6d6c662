import Foundation
import RefineryCodecs

/// Continues a token sequence with a trained model: greedy, or sampled with a temperature and top-k.
public enum Generator {
    /// How the next token is chosen.
    public struct Sampling: Sendable {
        /// 0 picks the most likely token (ties to the lowest id); above 0 samples from `softmax(logits / t)`.
        public var temperature: Double = 0
        /// Sample only among the `topK` most likely tokens (0: all).
        public var topK: Int = 0
        public var maxTokens: Int = 64
        public var seed: UInt64 = 1
        public init() {}
    }

    /// The tokens generated after `prompt`, up to the first stop token (not included) or `maxTokens`.
    /// The prompt keeps its last `context − 1` tokens when it is longer.
    public static func generate(model: GPT, prompt: [Int32], sampling: Sampling, stop: Set<Int32>) -> [Int32] {
        let t = model.config.context, v = model.config.vocabularySize
        var random = SplitMix64(seed: sampling.seed)
        var sequence = Array(prompt.suffix(t - 1))
        if sequence.isEmpty { sequence = [stop.min() ?? 0] }
        var generated: [Int32] = []
        while generated.count < sampling.maxTokens {
            let window = Array(sequence.suffix(t))
            var inputs = window
            inputs += Array(repeating: 0, count: t - window.count)
            let batch = TokenBatch(rows: 1, inputs: inputs, positions: (0..<t).map(Int32.init), segmentStarts: Array(repeating: 0, count: t),
                                   targets: Array(repeating: -1, count: t), weights: Array(repeating: 0, count: t))
            _ = model.forward(batch)
            let next: Int32 = model.withLogits { logits in
                let row = Array(logits[((window.count - 1) * v)..<(window.count * v)])
                return choose(row, sampling: sampling, random: &random)
            }
            if stop.contains(next) { break }
            generated.append(next)
            sequence.append(next)
        }
        return generated
    }

    static func choose(_ logits: [Float], sampling: Sampling, random: inout SplitMix64) -> Int32 {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        guard sampling.temperature > 0 else { return Int32(best) }
        var order = Array(logits.indices)
        if sampling.topK > 0 && sampling.topK < logits.count {
            order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            order = Array(order.prefix(sampling.topK))
        }
        let top = Double(logits[best])
        let weights = order.map { Foundation.exp((Double(logits[$0]) - top) / sampling.temperature) }
        var u = random.nextUnit() * weights.reduce(0, +)
        for (k, w) in weights.enumerated() {
            u -= w
            if u < 0 { return Int32(order[k]) }
        }
        return Int32(order[order.count - 1])
    }
}
