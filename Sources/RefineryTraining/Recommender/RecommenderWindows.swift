import RefineryRecords

/// A user's training events cut into windows of at most `context` targets, latest first, so the most recent
/// events get the longest context: window `[start, end)` reads the item before `start` (or `<bos>` at the start of
/// the history) and the items `start..<end-1`, and predicts items `start..<end`.
public struct RecommenderWindow: Sendable, Equatable {
    /// Index of the training sequence.
    public var sequence: Int
    /// Input tokens (the window's length, at most the context).
    public var inputs: [Int32]
    /// Target tokens; −1 for an item without a token (`<unk>` is not trained on).
    public var targets: [Int32]
    /// The target events' rewards.
    public var rewards: [Double]
    /// The target events' item ids (the `item_mean` baseline's key).
    public var items: [String]

    /// Cuts every training sequence into windows.
    public static func cut(_ training: [TrainingSequence], vocabulary: ItemVocabulary, context: Int) -> [RecommenderWindow] {
        var windows: [RecommenderWindow] = []
        for (s, sequence) in training.enumerated() {
            let tokens = sequence.items.map(vocabulary.token)
            var end = tokens.count
            while end > 0 {
                let start = Swift.max(0, end - context)
                let inputs = [start == 0 ? ItemVocabulary.beginToken : tokens[start - 1]] + tokens[start..<(end - 1)]
                windows.append(RecommenderWindow(
                    sequence: s, inputs: inputs,
                    targets: tokens[start..<end].map { $0 == ItemVocabulary.unknownToken ? -1 : $0 },
                    rewards: Array(sequence.rewards[start..<end]), items: Array(sequence.items[start..<end])))
                end = start
            }
        }
        return windows
    }
}

extension TokenBatch {
    /// Rows of item tokens, each from position 0, padded with `<bos>` inputs and −1 targets to `context`; every
    /// row is one segment (no packing).
    init(rows inputs: [[Int32]], targets: [[Int32]], weights: [[Float]], context: Int) {
        let n = inputs.count * context
        var flatInputs = [Int32](repeating: ItemVocabulary.beginToken, count: n)
        var flatTargets = [Int32](repeating: -1, count: n)
        var flatWeights = [Float](repeating: 0, count: n)
        for r in inputs.indices {
            for (j, token) in inputs[r].enumerated() { flatInputs[r * context + j] = token }
            for (j, token) in targets[r].enumerated() { flatTargets[r * context + j] = token; flatWeights[r * context + j] = weights[r][j] }
        }
        self.init(rows: inputs.count, inputs: flatInputs, positions: (0..<n).map { Int32($0 % context) },
                  segmentStarts: [Int32](repeating: 0, count: n), targets: flatTargets, weights: flatWeights)
    }
}
