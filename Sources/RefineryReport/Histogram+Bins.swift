extension Histogram {
    /// An empty histogram over fixed edges.
    /// - Parameters:
    ///   - edges: ascending bin edges; bin `i` holds `edges[i]..<edges[i + 1]`, and values below the first edge count in
    ///     the first bin.
    ///   - above: add a bin open above the last edge; without it, values at or above it count in the last bin.
    init(name: String, axis: String, edges: [Double], above: Bool = false) {
        self.name = name
        self.axis = axis
        var bins: [HistogramBin] = []
        for (lower, upper) in zip(edges, edges.dropFirst()) { bins.append(HistogramBin(lower: lower, upper: upper, count: 0)) }
        if above { bins.append(HistogramBin(lower: edges.last, upper: nil, count: 0)) }
        self.bins = bins
        records = 0
        missing = 0
    }

    /// Counts a value in its bin; `nil` or NaN counts as missing.
    /// - Complexity: O(log bins).
    mutating func add(_ value: Double?) {
        guard let value, !value.isNaN else {
            missing += 1
            return
        }
        records += 1
        // The first bin whose upper bound is above the value; the last bin takes whatever is left.
        var low = 0
        var high = bins.count - 1
        while low < high {
            let middle = (low + high) / 2
            if let upper = bins[middle].upper, value >= upper { low = middle + 1 } else { high = middle }
        }
        bins[low].count += 1
    }

    /// Adds the counts of a histogram over the same edges.
    mutating func add(_ other: Histogram) {
        precondition(other.bins.count == bins.count, "histograms over different edges")
        for index in bins.indices { bins[index].count += other.bins[index].count }
        records += other.records
        missing += other.missing
    }

    /// Counts a whole number.
    mutating func add(_ value: Int) { add(Double(value)) }

    /// Scores in [0, 1], twenty bins of 0.05 (a score of exactly 1 counts in the last).
    static func unitScore(_ name: String, axis: String) -> Histogram {
        Histogram(name: name, axis: axis, edges: (0...20).map { Double($0) / 20 })
    }

    /// Rewards: twenty bins of 0.1 over [-1, 1]; a reward of exactly 1 (a top rating) counts in the last, and
    /// rewards beyond ±1 in the end bins, as the axis says.
    static func reward() -> Histogram {
        // Readers map every reward into [0, 1] (Record.reward); twenty bins of 0.05, 1 in the last.
        unitScore("reward", axis: "reward (0–1)")
    }

    /// The fixed histograms of a report, in the order it shows them.
    static func recordMeasures() -> [Histogram] {
        [
            unitScore("quality", axis: "quality score (0–1)"),
            unitScore("toxicity", axis: "toxicity score (0–1)"),
            unitScore("lang_confidence", axis: "language confidence (0–1)"),
            Histogram(name: "length_chars", axis: "length (characters)",
                      edges: [0, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000], above: true),
            Histogram(name: "length_words", axis: "length (words)",
                      edges: [0, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000], above: true),
            Histogram(name: "turns", axis: "turns per chat (messages)", edges: (1...12).map(Double.init), above: true),
            reward(),
        ]
    }

    /// Duplicate cluster sizes, kept record included.
    static func clusterSizes() -> Histogram {
        Histogram(name: "cluster_sizes", axis: "cluster size (records)", edges: [2, 3, 4, 5, 6, 11, 21, 51], above: true)
    }
}
