import Foundation

/// What a recommender scored on a split's test cases.
public struct RecommenderReport: Codable, Sendable {
    /// Every test case.
    public var all: RankingMetrics
    /// Test cases whose trajectory's mean reward is above the median of the test cases' (high-reward trajectories).
    public var highReward: RankingMetrics
    /// That median.
    public var medianTrajectoryReward: Double
    /// Test cases whose target the user liked (reward at least ``likedReward``: 4 or 5 stars on a 1–5 scale).
    public var likedTarget: RankingMetrics
    /// Targets that cannot be ranked, counted as misses: items without a token (unseen in training, or rarer than
    /// the minimum count), and, when seen items are excluded, targets already in the user's history.
    public var unrankableTargets: Int

    private enum CodingKeys: String, CodingKey {
        case all, highReward = "high_reward", medianTrajectoryReward = "median_trajectory_reward", likedTarget = "liked_target"
        case unrankableTargets = "unrankable_targets"
    }

    /// The reward from which a target counts as liked: (4 − 1) / (5 − 1) on MovieLens' star scale.
    public static let likedReward = 0.75
}

/// Ranks every test case's target against the whole catalogue and summarises the ranks.
///
/// Candidates are every item token; with `excludeSeen`, the items of the user's history are not recommended again
/// (a MovieLens user rates a film once), and a target that is in its own history counts as a miss rather than
/// being let through by the exclusion.
public enum RecommenderEvaluation {
    /// Scores for test cases: one array of `vocabulary.count` scores per case, higher first.
    public typealias Scorer = ([TestCase]) -> [[Float]]

    /// Evaluates a scorer on test cases, `batch` cases at a time.
    public static func evaluate(_ tests: [TestCase], vocabulary: ItemVocabulary, excludeSeen: Bool = true, batch: Int = 64,
                                scorer: Scorer) -> RecommenderReport {
        var ranks: [Int?] = []
        ranks.reserveCapacity(tests.count)
        var unrankable = 0
        for first in stride(from: 0, to: tests.count, by: batch) {
            let cases = Array(tests[first..<min(tests.count, first + batch)])
            let scores = scorer(cases)
            for (test, row) in zip(cases, scores) {
                let target = vocabulary.token(test.target)
                let excluded = excludeSeen ? Set(test.history.map(vocabulary.token)) : []
                if target == ItemVocabulary.unknownToken || excluded.contains(target) { unrankable += 1 }
                ranks.append(row.withUnsafeBufferPointer {
                    RankingMetrics.rank(of: target, scores: $0, first: ItemVocabulary.reserved, excluded: excluded)
                })
            }
        }
        let sorted = tests.map(\.trajectoryReward).sorted()
        let median = sorted.isEmpty ? 0 : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        let high = zip(tests, ranks).filter { $0.0.trajectoryReward > median }.map(\.1)
        let liked = zip(tests, ranks).filter { $0.0.targetReward >= RecommenderReport.likedReward }.map(\.1)
        return RecommenderReport(all: RankingMetrics(ranks: ranks), highReward: RankingMetrics(ranks: high),
                                 medianTrajectoryReward: median, likedTarget: RankingMetrics(ranks: liked), unrankableTargets: unrankable)
    }

    /// The model's next-item logits after each case's most recent history: `<bos>` and the whole history when it is
    /// shorter than the context, else the last `context` items (as the training windows read).
    public static func modelScorer(_ model: GPT, vocabulary: ItemVocabulary) -> Scorer {
        { cases in
            let context = model.config.context
            let inputs: [[Int32]] = cases.map { test in
                let tokens = test.history.map(vocabulary.token)
                return tokens.count < context ? [ItemVocabulary.beginToken] + tokens : Array(tokens.suffix(context))
            }
            let batch = TokenBatch(rows: inputs, targets: inputs.map { _ in [] }, weights: inputs.map { _ in [] }, context: context)
            _ = model.forward(batch)
            let v = model.config.vocabularySize
            return model.withLogits { logits in
                inputs.enumerated().map { r, row in
                    let at = (r * context + row.count - 1) * v
                    return Array(logits[at..<(at + v)])
                }
            }
        }
    }

    /// Popularity: every item scored by its training events.
    public static func popularityScores(_ data: RecommenderData, vocabulary: ItemVocabulary) -> [Float] {
        var scores = [Float](repeating: 0, count: vocabulary.count)
        for sequence in data.train { for item in sequence.items { scores[Int(vocabulary.token(item))] += 1 } }
        return scores
    }

    /// Most recent items: every item scored by its events among the latest `fraction` of training events in time
    /// order (at least 1), ties broken by overall popularity through a fractional part.
    public static func recentScores(_ data: RecommenderData, vocabulary: ItemVocabulary, fraction: Double = 0.01) -> [Float] {
        let popularity = popularityScores(data, vocabulary: vocabulary)
        let top = popularity.max() ?? 1
        var scores = popularity.map { $0 / (top + 1) }
        let events = data.eventsInTimeOrder
        let take = Swift.max(1, Int((Double(events.count) * fraction).rounded()))
        for event in events.suffix(take) { scores[Int(vocabulary.token(event.item))] += 1 }
        return scores
    }

    /// A scorer that gives every case the same scores.
    public static func constantScorer(_ scores: [Float]) -> Scorer { { cases in cases.map { _ in scores } } }
}
