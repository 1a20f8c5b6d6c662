import RefineryRecords
import RefineryStages

/// What the reject shards say: characters and examples per stage and reason, and dedup's clusters and pairs.
struct RejectTally {
    /// Examples kept per stage and reason.
    let limit: Int
    /// `stage.reason` → characters quarantined.
    var chars: [String: Int] = [:]
    /// Examples in file order.
    var examples: [RejectExample] = []
    /// `stage.reason` → examples kept.
    var exampleCounts: [String: Int] = [:]
    /// Kept record id → records dropped as its duplicates.
    private var clusterMembers: [String: Int] = [:]
    private var exactDuplicates = 0
    private var nearDuplicates = 0
    /// Candidate pairs (the dropped record matched the one its cluster keeps), near-duplicates and exact ones apart.
    private var nearPairs: [DuplicatePair] = []
    private var exactPairs: [DuplicatePair] = []
    /// Kept ids whose texts the pairs need → the text once found (`nil` until then).
    var wanted: [String: String?] = [:]

    init(limit: Int) {
        self.limit = limit
    }

    /// An empty tally for the lines after this one's: it looks for the kept texts this one wants, and takes no
    /// examples of a reason that has its `limit` here.
    var startingPoint: RejectTally {
        var start = RejectTally(limit: limit)
        start.wanted = wanted
        start.exampleCounts = exampleCounts
        return start
    }

    /// Adds the tally of the reject lines after this one's, as if this tally had gone on to count them: examples and
    /// pairs up to the limits, in order; the kept texts it found for ids this tally still wants.
    ///
    /// `later` starts from the ``startingPoint`` of this tally or of an earlier one, of the same stage's lines: the
    /// pairs come from dedup's rejects and their kept records from a later stage's (balancing dropped them), never
    /// from the same stage, so a kept text `later` did not look for is never among its lines.
    mutating func append(_ later: RejectTally) {
        for (key, count) in later.chars { chars[key, default: 0] += count }
        for example in later.examples {
            let key = "\(example.stage).\(example.reason)"
            guard exampleCounts[key, default: 0] < limit else { continue }
            exampleCounts[key, default: 0] += 1
            examples.append(example)
        }
        for (kept, members) in later.clusterMembers { clusterMembers[kept, default: 0] += members }
        exactDuplicates += later.exactDuplicates
        nearDuplicates += later.nearDuplicates
        for pair in later.nearPairs + later.exactPairs {
            let near = pair.reason == "near_duplicate"
            guard (near ? nearPairs.count : exactPairs.count) < limit else { continue }
            if near { nearPairs.append(pair) } else { exactPairs.append(pair) }
            if wanted[pair.keptID] == nil { wanted[pair.keptID] = .some(nil) }
        }
        for case let (id, text?) in later.wanted {
            if case .some(.none) = wanted[id] { wanted[id] = text }
        }
    }

    /// Counts one reject line.
    /// - Parameters:
    ///   - content: the text to show of it; `chars`: its characters as the mixes count them.
    mutating func add(_ value: JSONValue, stage: String, content: String, chars count: Int, exampleText: ExampleText) {
        let reason = value["reason"]?.stringValue ?? "?"
        let key = "\(stage).\(reason)"
        chars[key, default: 0] += count
        let detail = value["detail"]?.stringValue ?? ""
        let id = value["id"]?.stringValue ?? "?"
        if exampleCounts[key, default: 0] < limit {
            exampleCounts[key, default: 0] += 1
            let shown = exampleText.render(content)
            examples.append(RejectExample(
                id: id, stage: stage, reason: reason, detail: exampleText.redact(detail).text, file: value["file"]?.stringValue ?? "",
                line: value["line"]?.doubleValue.flatMap { Int(exactly: $0) }, text: shown.text, truncated: shown.truncated, redactions: shown.redactions))
        }
        guard reason == "exact_duplicate" || reason == "near_duplicate", let kept = value["kept_id"]?.stringValue else { return }
        clusterMembers[kept, default: 0] += 1
        let near = reason == "near_duplicate"
        if near { nearDuplicates += 1 } else { exactDuplicates += 1 }
        // A pair is shown only when the record matched the one its cluster keeps, and that one is in this version.
        guard ReportTallies.mayShowPair(reason: reason, detail: detail), (near ? nearPairs.count : exactPairs.count) < limit else { return }
        let pair = DuplicatePair(reason: reason, jaccard: near ? Self.jaccard(in: detail) ?? 0 : 1, droppedID: id,
                                 droppedText: exampleText.render(content).text, keptID: kept, keptText: nil)
        if near { nearPairs.append(pair) } else { exactPairs.append(pair) }
        if wanted[kept] == nil { wanted[kept] = .some(nil) }
    }

    /// Whether a reject line of stage and reason `key` (`stage.reason`) would give an example, or a duplicate pair when
    /// it names the record kept: then ``add(_:stage:content:chars:exampleText:)`` needs it parsed.
    func needsLine(key: String, reason: String, hasKeptID: Bool) -> Bool {
        if exampleCounts[key, default: 0] < limit { return true }
        guard hasKeptID, reason == "exact_duplicate" || reason == "near_duplicate" else { return false }
        return (reason == "near_duplicate" ? nearPairs.count : exactPairs.count) < limit
    }

    /// Counts a reject line for which ``needsLine(key:reason:hasKeptID:)`` is false, as
    /// ``add(_:stage:content:chars:exampleText:)`` would: its characters, and its duplicate cluster.
    mutating func count(key: String, reason: String, chars count: Int, keptID: String?) {
        chars[key, default: 0] += count
        guard reason == "exact_duplicate" || reason == "near_duplicate", let kept = keptID else { return }
        clusterMembers[kept, default: 0] += 1
        if reason == "near_duplicate" { nearDuplicates += 1 } else { exactDuplicates += 1 }
    }

    /// The Jaccard number in a dedup detail (`…, estimated Jaccard 0.912; …`).
    static func jaccard(in detail: String) -> Double? {
        guard let mark = detail.range(of: "Jaccard ", options: .backwards) else { return nil }
        return Double(detail[mark.upperBound...].prefix { $0.isNumber || $0 == "." })
    }

    /// Up to `limit` pairs, near-duplicates first, with the kept texts found.
    func pairs(limit: Int) -> [DuplicatePair] {
        (nearPairs + exactPairs).prefix(limit).map { pair in
            var pair = pair
            pair.keptText = wanted[pair.keptID] ?? nil
            return pair
        }
    }

    func duplicateSummary() -> DuplicateSummary {
        var sizes = Histogram.clusterSizes()
        var largest = 0
        for members in clusterMembers.values {
            sizes.add(members + 1)
            largest = max(largest, members + 1)
        }
        return DuplicateSummary(exactDuplicates: exactDuplicates, nearDuplicates: nearDuplicates, clusters: clusterMembers.count,
                                largestCluster: largest, sizes: sizes)
    }
}
