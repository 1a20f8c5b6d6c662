import Foundation
import RefineryRecords
import RefineryShards

/// How far a new dataset version moved from an old one: the share of each category and language, the score,
/// length and reward distributions (Jensen–Shannon divergence and the bins that moved most), and how much of the
/// new version is new (records, word 5-grams). A nightly job stops before training when a threshold is passed.
public struct DatasetDiff: Codable, Sendable {
    /// `dataset@version` of each side.
    public var old: String
    public var new: String
    /// Category and language shares of the written records, largest change first.
    public var shares: [ShareChange]
    /// One per histogram the report keeps (quality, toxicity, language confidence, lengths, turns, reward).
    public var distributions: [DistributionChange]
    public var novelty: Novelty
    /// The thresholds passed; empty when none was (or none was set).
    public var breaches: [Breach]

    /// The share of one category or language among the written records, before and after.
    public struct ShareChange: Codable, Sendable, Equatable {
        /// `category` or `lang`.
        public var field: String
        public var name: String
        public var oldShare: Double
        public var newShare: Double
        /// `newShare − oldShare`, in share units (0.05 = five points).
        public var change: Double
    }

    /// One distribution, old against new.
    public struct DistributionChange: Codable, Sendable, Equatable {
        public var name: String
        public var axis: String
        public var oldRecords: Int
        public var newRecords: Int
        /// Jensen–Shannon divergence of the binned distributions, base 2, in [0, 1]: 1 when only one side has data
        /// (a score that appeared or vanished), `nil` when neither has.
        public var divergence: Double?
        /// The bins whose share changed most (at most three, largest change first).
        public var moved: [BinMove]
    }

    /// A bin's share of the records, old and new.
    public struct BinMove: Codable, Sendable, Equatable {
        /// The bin, for people: `0.85–0.9`, `≥ 5000`.
        public var bin: String
        public var oldShare: Double
        public var newShare: Double
    }

    /// What of the new version the old one did not have.
    public struct Novelty: Codable, Sendable, Equatable {
        public var newRecords: Int
        /// New records whose content (text, or chat turns) no old record has.
        public var recordsNotInOld: Int
        /// One word 5-gram in this many is counted, chosen by its hash.
        public static var sampling: UInt64 { NoveltyCounter.sampling }
        /// Word 5-grams of the new version counted (a fixed 1-in-``sampling`` sample by hash).
        public var sampledNgrams: Int
        public var ngramsNotInOld: Int
        /// `recordsNotInOld / newRecords` (0 for an empty version): what `--max-new-records` compares.
        public var recordFraction: Double { newRecords == 0 ? 0 : Double(recordsNotInOld) / Double(newRecords) }
        /// `ngramsNotInOld / sampledNgrams`: what `--max-new-ngrams` compares.
        public var ngramFraction: Double { sampledNgrams == 0 ? 0 : Double(ngramsNotInOld) / Double(sampledNgrams) }

        enum CodingKeys: String, CodingKey {
            case newRecords = "new_records", recordsNotInOld = "records_not_in_old", sampledNgrams = "sampled_ngrams",
                 ngramsNotInOld = "ngrams_not_in_old", recordFraction = "record_fraction", ngramFraction = "ngram_fraction"
        }

        init(newRecords: Int, recordsNotInOld: Int, sampledNgrams: Int, ngramsNotInOld: Int) {
            self.newRecords = newRecords
            self.recordsNotInOld = recordsNotInOld
            self.sampledNgrams = sampledNgrams
            self.ngramsNotInOld = ngramsNotInOld
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(newRecords: try container.decode(Int.self, forKey: .newRecords),
                      recordsNotInOld: try container.decode(Int.self, forKey: .recordsNotInOld),
                      sampledNgrams: try container.decode(Int.self, forKey: .sampledNgrams),
                      ngramsNotInOld: try container.decode(Int.self, forKey: .ngramsNotInOld))
        }

        /// The counts and the two fractions the thresholds compare.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(newRecords, forKey: .newRecords)
            try container.encode(recordsNotInOld, forKey: .recordsNotInOld)
            try container.encode(sampledNgrams, forKey: .sampledNgrams)
            try container.encode(ngramsNotInOld, forKey: .ngramsNotInOld)
            try container.encode(recordFraction, forKey: .recordFraction)
            try container.encode(ngramFraction, forKey: .ngramFraction)
        }
    }

    /// A threshold the new version passed.
    public struct Breach: Codable, Sendable, Equatable, CustomStringConvertible {
        /// The option that set it: `max_share_change`, `max_divergence`, `max_new_records`, `max_new_ngrams`.
        public var threshold: String
        /// What passed it: `category support`, `quality`.
        public var subject: String
        public var measured: Double
        public var limit: Double

        public var description: String {
            "\(threshold): \(subject) \(String(format: "%.4f", measured)) > \(String(format: "%.4f", limit))"
        }
    }

    /// The limits a nightly job sets; `nil`: not checked.
    public struct Thresholds: Sendable {
        /// Largest absolute change of a category's or language's share (0.05 = five points).
        public var maxShareChange: Double?
        /// Largest Jensen–Shannon divergence of any distribution.
        public var maxDivergence: Double?
        /// Largest fraction of new records not in the old version.
        public var maxNewRecords: Double?
        /// Largest fraction of new word 5-grams not in the old version.
        public var maxNewNgrams: Double?

        public init(maxShareChange: Double? = nil, maxDivergence: Double? = nil, maxNewRecords: Double? = nil, maxNewNgrams: Double? = nil) {
            self.maxShareChange = maxShareChange
            self.maxDivergence = maxDivergence
            self.maxNewRecords = maxNewRecords
            self.maxNewNgrams = maxNewNgrams
        }
    }

    /// Compares two dataset folders: their report numbers (one streaming pass each, every shard verified) and
    /// the novelty of the new records against the old (one more pass over each).
    /// - Throws: ``RefineryError`` (code `integrity`) when a shard does not match its manifest.
    public static func compare(old: String, new: String, thresholds: Thresholds = Thresholds()) throws -> DatasetDiff {
        let oldNumbers = try DatasetReport.build(directory: old, examplesPerReason: 0).numbers
        let newNumbers = try DatasetReport.build(directory: new, examplesPerReason: 0).numbers
        var counter = NoveltyCounter()
        try counter.addOld(DatasetRecords(directory: old))
        let novelty = try counter.measureNew(DatasetRecords(directory: new))
        var diff = DatasetDiff(old: "\(oldNumbers.dataset)@\(oldNumbers.version)", new: "\(newNumbers.dataset)@\(newNumbers.version)",
                               shares: shareChanges(oldNumbers, newNumbers), distributions: distributionChanges(oldNumbers, newNumbers),
                               novelty: novelty, breaches: [])
        diff.breaches = diff.breaches(of: thresholds)
        return diff
    }

    static func shareChanges(_ old: ReportNumbers, _ new: ReportNumbers) -> [ShareChange] {
        var changes: [ShareChange] = []
        for field in ["category", "lang"] {
            let before = shares(old, field), after = shares(new, field)
            for name in Set(before.keys).union(after.keys) {
                let o = before[name] ?? 0, n = after[name] ?? 0
                changes.append(ShareChange(field: field, name: name, oldShare: o, newShare: n, change: n - o))
            }
        }
        return changes.sorted { (abs($0.change), $1.field, $1.name) > (abs($1.change), $0.field, $0.name) }
    }

    /// Each value's share of the written records (copies counted, as trainers see them).
    static func shares(_ numbers: ReportNumbers, _ field: String) -> [String: Double] {
        guard let mix = numbers.mixes.first(where: { $0.field == field }) else { return [:] }
        let total = mix.rows.reduce(0) { $0 + $1.recordsAfter }
        guard total > 0 else { return [:] }
        return Dictionary(uniqueKeysWithValues: mix.rows.map { ($0.name, Double($0.recordsAfter) / Double(total)) })
    }

    static func distributionChanges(_ old: ReportNumbers, _ new: ReportNumbers) -> [DistributionChange] {
        new.histograms.compactMap { after in
            guard let before = old.histograms.first(where: { $0.name == after.name }), before.bins.count == after.bins.count else { return nil }
            let p = normalised(before), q = normalised(after)
            var change = DistributionChange(name: after.name, axis: after.axis, oldRecords: before.records, newRecords: after.records,
                                            divergence: nil, moved: [])
            guard let p, let q else {
                if (p == nil) != (q == nil) { change.divergence = 1 }
                return change
            }
            change.divergence = jensenShannon(p, q)
            change.moved = after.bins.indices
                .filter { p[$0] != q[$0] }
                .sorted { (abs(q[$0] - p[$0]), $1) > (abs(q[$1] - p[$1]), $0) }
                .prefix(3)
                .map { BinMove(bin: label(after.bins[$0]), oldShare: p[$0], newShare: q[$0]) }
            return change
        }
    }

    /// Bin counts as shares; `nil` for a histogram without records.
    static func normalised(_ histogram: Histogram) -> [Double]? {
        let total = histogram.bins.reduce(0) { $0 + $1.count }
        guard total > 0 else { return nil }
        return histogram.bins.map { Double($0.count) / Double(total) }
    }

    /// Jensen–Shannon divergence in bits: 0 for equal distributions, 1 for disjoint ones.
    static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double {
        var divergence = 0.0
        for (a, b) in zip(p, q) {
            let m = (a + b) / 2
            if a > 0 { divergence += 0.5 * a * log2(a / m) }
            if b > 0 { divergence += 0.5 * b * log2(b / m) }
        }
        return min(1, max(0, divergence))
    }

    static func label(_ bin: HistogramBin) -> String {
        switch (bin.lower, bin.upper) {
        case (let lower?, let upper?): "\(SVGChart.number(lower))–\(SVGChart.number(upper))"
        case (let lower?, nil): "≥ \(SVGChart.number(lower))"
        case (nil, let upper?): "< \(SVGChart.number(upper))"
        case (nil, nil): "all"
        }
    }

    /// The thresholds this diff passes.
    func breaches(of limits: Thresholds) -> [Breach] {
        var breaches: [Breach] = []
        if let limit = limits.maxShareChange {
            for share in shares where abs(share.change) > limit {
                breaches.append(Breach(threshold: "max_share_change", subject: "\(share.field) \(share.name)", measured: abs(share.change), limit: limit))
            }
        }
        if let limit = limits.maxDivergence {
            for distribution in distributions {
                if let divergence = distribution.divergence, divergence > limit {
                    breaches.append(Breach(threshold: "max_divergence", subject: distribution.name, measured: divergence, limit: limit))
                }
            }
        }
        if let limit = limits.maxNewRecords, novelty.recordFraction > limit {
            breaches.append(Breach(threshold: "max_new_records", subject: "records not in \(old)", measured: novelty.recordFraction, limit: limit))
        }
        if let limit = limits.maxNewNgrams, novelty.ngramFraction > limit {
            breaches.append(Breach(threshold: "max_new_ngrams", subject: "word 5-grams not in \(old)", measured: novelty.ngramFraction, limit: limit))
        }
        return breaches
    }
}
