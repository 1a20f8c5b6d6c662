import Foundation

/// Top-K ranking metrics over the full item catalogue (no sampled negatives), averaged over test cases.
public struct RankingMetrics: Codable, Sendable, Equatable {
    /// Test cases averaged.
    public var cases = 0
    /// Hit rate at 10: the share of targets ranked in the top 10.
    public var hitRate10 = 0.0
    /// NDCG at 10 with one relevant item: `1 / log2(rank + 1)` in the top 10, else 0.
    public var ndcg10 = 0.0
    /// Mean reciprocal rank over the whole ranking (`1 / rank`; 0 for a target that cannot be ranked).
    public var mrr = 0.0

    private enum CodingKeys: String, CodingKey { case cases, hitRate10 = "hr@10", ndcg10 = "ndcg@10", mrr }

    public init() {}

    /// The metrics of a list of ranks (1-based; `nil` for a target that cannot be ranked: an item without a token,
    /// or one excluded as already seen).
    public init(ranks: [Int?]) {
        cases = ranks.count
        guard cases > 0 else { return }
        var hits = 0.0, gains = 0.0, reciprocal = 0.0
        for rank in ranks {
            guard let r = rank else { continue }
            if r <= 10 { hits += 1; gains += 1 / Foundation.log2(Double(r) + 1) }
            reciprocal += 1 / Double(r)
        }
        hitRate10 = hits / Double(cases)
        ndcg10 = gains / Double(cases)
        mrr = reciprocal / Double(cases)
    }

    /// The target's rank among the candidate tokens `first..<scores.count` that are not `excluded`: one more than
    /// the candidates that score higher, or equal with a lower token (ties go to the more frequent item, so a
    /// constant scorer gets no lucky ties). `nil` when the target is not a candidate or is excluded.
    public static func rank(of target: Int32, scores: UnsafeBufferPointer<Float>, first: Int, excluded: Set<Int32>) -> Int? {
        let t = Int(target)
        guard t >= first, t < scores.count, !excluded.contains(target) else { return nil }
        let score = scores[t]
        // A target the model gives no number ranks last.
        guard !score.isNaN else { return (first..<scores.count).count - excluded.filter { Int($0) >= first && Int($0) < scores.count }.count }
        var above = 0
        for c in first..<scores.count where c != t {
            let s = scores[c]
            if s > score || (s == score && c < t) || s.isNaN { above += 1 }
        }
        for c in excluded where Int(c) >= first && Int(c) < scores.count && Int(c) != t {
            let s = scores[Int(c)]
            if s > score || (s == score && Int(c) < t) || s.isNaN { above -= 1 }
        }
        return above + 1
    }
}
