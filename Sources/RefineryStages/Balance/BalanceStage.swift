import RefineryCodecs
import RefineryRecords
import RefinerySpec

/// Stage 7: bring the category mix to a target, deterministically.
///
/// Runs after dedup over the survivors' counts per category (from the spill, not from records held in memory).
/// For each category it computes a rate — the number of output records per input record — from one of:
/// - `weights: {support: 0.5, subtitles: 0.3, …}`: target shares of the output (normalised to sum 1); the
///   output keeps the input's total size; categories not listed keep their records as they are;
/// - `temperature: α`: shares ∝ n_c^α (α = 1 keeps the mix, α = 0 makes categories equal, 0.3–0.7 is usual);
/// and then `caps: {subtitles: 10000}` (records) and `token_caps: {subtitles: 2M}` (tokens, estimated as UTF-8
/// bytes / 4) bound a category from above, alone or after weights or temperature.
/// A rate above 1 repeats records (up-sampling a small category) up to `max_repeat` (default 1: never); a
/// repeated record's copies get the ids `…#r2`, `…#r3`.
///
/// Which records are kept (or repeated once more) is decided by XXH3 of the record id and `seed` (``rank(_:)``,
/// independent of the hash that splits train from validation): the records of a category with the smallest ranks
/// are kept, so exactly round(rate × n_c) come out, the split keeps its fraction, and the choice does not depend on
/// input order or the number of workers. Reason for a drop: `over_target` (weights or temperature) or
/// `over_cap`.
public struct BalanceStage: Sendable {
    public let name = "balance"
    public var weights: [String: Double]?
    public var temperature: Double?
    public var caps: [String: Int] = [:]
    public var tokenCaps: [String: Int] = [:]
    public var maxRepeat = 1.0
    public var seed: UInt64 = 0

    public init() {}

    /// Reads the parameters from the spec (see the type's documentation).
    /// - Throws: ``RefineryError`` at the offending key.
    public init(parameters: SpecNode) throws {
        let table = try parameters.table(allowed: ["weights", "temperature", "caps", "token_caps", "max_repeat", "seed"])
        if let node = table.optional("weights") {
            var weights: [String: Double] = [:]
            for (category, value) in try node.entries() {
                let weight = try value.double()
                guard weight >= 0, weight.isFinite else { throw value.error("a weight must be a non-negative number, found \(weight)") }
                weights[category] = weight
            }
            guard weights.values.reduce(0, +) > 0 else { throw node.error("weights must not all be zero") }
            self.weights = weights
        }
        if let node = table.optional("temperature") {
            let alpha = try node.double()
            guard (0...1).contains(alpha) else { throw node.error("temperature (α) must be between 0 and 1, found \(alpha)") }
            guard weights == nil else { throw node.error("give weights or temperature, not both") }
            temperature = alpha
        }
        for (key, target) in [("caps", \BalanceStage.caps), ("token_caps", \BalanceStage.tokenCaps)] {
            guard let node = table.optional(key) else { continue }
            var caps: [String: Int] = [:]
            for (category, value) in try node.entries() {
                let cap: Int
                if key == "caps" { cap = try value.int() } else { cap = try value.byteSize() }
                guard cap >= 0 else { throw value.error("a cap must be at least 0, found \(cap)") }
                caps[category] = cap
            }
            self[keyPath: target] = caps
        }
        if let node = table.optional("max_repeat") {
            maxRepeat = try node.double()
            guard maxRepeat >= 1, maxRepeat <= 100 else { throw node.error("max_repeat must be between 1 (no up-sampling) and 100, found \(maxRepeat)") }
        }
        if let node = table.optional("seed") { seed = UInt64(truncatingIfNeeded: try node.int()) }
        if weights == nil && temperature == nil && caps.isEmpty && tokenCaps.isEmpty {
            throw parameters.error("balance needs weights, temperature, caps or token_caps")
        }
    }

    /// One category's input to the rates.
    public struct CategoryCount: Sendable {
        public var records: Int
        public var tokens: Int
        public init(records: Int, tokens: Int) {
            self.records = records
            self.tokens = tokens
        }
    }

    /// Output records wanted per category, before caps.
    public func targets(_ counts: [String: CategoryCount]) -> [String: Int] {
        let total = counts.values.reduce(0) { $0 + $1.records }
        var targets: [String: Int] = [:]
        var shares: [String: Double]?
        if let weights {
            let listed = counts.keys.filter { weights[$0] != nil }
            let listedTotal = listed.reduce(0) { $0 + counts[$1]!.records }
            let sum = listed.reduce(0.0) { $0 + weights[$1]! }
            shares = [:]
            for category in listed where sum > 0 {
                shares![category] = weights[category]! / sum * Double(listedTotal) / Double(max(total, 1))
            }
            for (category, count) in counts where weights[category] == nil { targets[category] = count.records }
        } else if let alpha = temperature {
            let mass = counts.values.reduce(0.0) { $0 + Foundation.pow(Double($1.records), alpha) }
            shares = counts.mapValues { Foundation.pow(Double($0.records), alpha) / mass }
        }
        for (category, count) in counts where targets[category] == nil {
            var target = Double(count.records)
            if let share = shares?[category] { target = (share * Double(total)).rounded() }
            target = min(target, Double(count.records) * maxRepeat)
            if let cap = caps[category] { target = min(target, Double(cap)) }
            targets[category] = Int(target)
        }
        return targets
    }

    /// Copies of each record of one category (0: dropped), and the reason for the drops: the records are taken
    /// in rank order, `target / n` times each and once more for the first `target mod n`, stopping at the
    /// category's token cap.
    /// - Parameters:
    ///   - members: the category's records, with ``rank(_:)`` of their ids and their estimated tokens.
    ///   - target: from ``targets(_:)``.
    public func copies(_ members: [(rank: UInt64, tokens: Int)], category: String, target: Int) -> (copies: [Int], reason: String) {
        let n = members.count
        guard n > 0 else { return ([], "over_target") }
        var copies = [Int](repeating: target / n, count: n)
        var reason = target < n && caps[category] == target ? "over_cap" : "over_target"
        guard let cap = tokenCaps[category] else {
            for index in Self.first(target % n, of: members) { copies[index] += 1 }
            return (copies, reason)
        }
        // Under a token cap: rounds in rank order, each record's first copy, then second copies, …, until the cap.
        let order = members.indices.sorted { (members[$0].rank, $0) < (members[$1].rank, $1) }
        for k in 0..<(target % n) { copies[order[k]] += 1 }
        var used = 0
        var granted = [Int](repeating: 0, count: n)
        var round = 0
        var full = false
        while !full && round < (copies.max() ?? 0) {
            for index in order where copies[index] > round {
                if used + members[index].tokens > cap { full = true; break }
                used += members[index].tokens
                granted[index] += 1
            }
            round += 1
        }
        if granted != copies { reason = "over_cap" }
        return (granted, reason)
    }

    /// The indexes of the `count` members first in rank order (ties: the lower index), in index order: those below
    /// the rank of the `count`-th, found by selection (``smallest(_:in:)``), and as many of those at that rank as are
    /// missing. (Sorting the indexes by rank, through a closure, was a quarter of a second of one core at the end of
    /// a 1 GB run; sorting the ranks alone, a tenth, in the one thread that resolves the global stages.)
    static func first(_ count: Int, of members: [(rank: UInt64, tokens: Int)]) -> [Int] {
        guard count > 0 else { return [] }
        var ranks = members.map(\.rank)
        let last = smallest(count - 1, in: &ranks)
        var atLast = count
        for member in members where member.rank < last { atLast -= 1 }
        var chosen: [Int] = []
        chosen.reserveCapacity(count)
        for (index, member) in members.enumerated() {
            if member.rank < last {
                chosen.append(index)
            } else if member.rank == last && atLast > 0 {
                chosen.append(index)
                atLast -= 1
            }
        }
        return chosen
    }

    /// The `k`-th smallest of `values` (from 0), which are reordered: each round partitions the range that holds it
    /// three ways around the median of its ends and middle, and keeps the part that holds it. Expected O(n) on ranks,
    /// which are hashes; after `rounds` rounds the range left is sorted instead, so no input costs more than a sort.
    static func smallest(_ k: Int, in values: inout [UInt64], rounds: Int = 64) -> UInt64 {
        precondition(values.indices.contains(k), "rank \(k) of \(values.count) values")
        return values.withUnsafeMutableBufferPointer { v in
            var low = 0, high = v.count - 1
            for _ in 0..<rounds {
                if low == high { return v[low] }
                let a = v[low], b = v[low + (high - low) / 2], c = v[high]
                let pivot = max(min(a, b), min(max(a, b), c))
                // [low, below) < pivot, [below, i) == pivot, (above, high] > pivot.
                var below = low, i = low, above = high
                while i <= above {
                    if v[i] < pivot {
                        v.swapAt(below, i)
                        below += 1
                        i += 1
                    } else if v[i] > pivot {
                        v.swapAt(i, above)
                        above -= 1
                    } else {
                        i += 1
                    }
                }
                if k < below { high = below - 1 } else if k > above { low = above + 1 } else { return pivot }
            }
            var rest = UnsafeMutableBufferPointer(rebasing: v[low...high])
            rest.sort()
            return v[k]
        }
    }

    /// Estimated tokens of `bytes` of UTF-8 text (the trainer's tokenizer is not known here).
    public static func tokens(bytes: Int) -> Int { (bytes + 3) / 4 }

    /// XXH3 of the id under ``rankSeed(_:)``: the order in which a category's records are kept.
    public func rank(_ id: String) -> UInt64 {
        XXH3.hash(id, seed: Self.rankSeed(seed))
    }

    /// The XXH3 seed of the ranks for the spec's `seed`: the seed with a fixed odd constant (the 64-bit golden ratio)
    /// added. The split puts a record in validation when XXH3 of its id, with seed 0, is below fraction × 2^64; ranked
    /// by that same hash (the spec's default seed 0, before 0.3.0), balance kept the validation records of every
    /// down-sampled category and dropped only train ones (a 5 % validation split came out at 8.4 %, and a cap could
    /// leave a category in validation alone).
    static func rankSeed(_ seed: UInt64) -> UInt64 {
        seed &+ 0x9E37_79B9_7F4A_7C15
    }
}

import Foundation
