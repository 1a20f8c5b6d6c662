import RefineryShards

/// The per-stage funnel a run prints at the end: records in, out and dropped with reasons, then the split, the
/// sources and (with dedup or balance) the category mix before and after them, then the accounting line that proves nothing was lost.
public enum Funnel {
    /// Aligned columns with a rule under the header; numbers right-aligned.
    static func table(_ rows: [[String]], leftAligned: Set<Int>) -> [String] {
        let columns = rows[0].count
        let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { column, cell in
                leftAligned.contains(column) ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        lines.insert(String(repeating: "-", count: lines[0].count), at: 1)
        return lines
    }

    /// Renders the funnel of a manifest as a plain-text table.
    public static func render(_ manifest: Manifest, directory: String) -> String {
        var rows: [[String]] = [["stage", "in", "out", "dropped", "reasons"]]
        for stage in manifest.stages {
            let reasons = stage.dropped.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            rows.append([stage.name, "\(stage.recordsIn)", "\(stage.recordsOut)", "\(stage.droppedTotal)", reasons])
        }
        let train = manifest.splits["train"] ?? SplitSummary(records: 0, shards: 0, categories: [:])
        let validation = manifest.splits["validation"] ?? SplitSummary(records: 0, shards: 0, categories: [:])
        rows.append(["split", "\(train.records + validation.records)", "\(train.records + validation.records)", "0",
                     "train \(train.records) in \(train.shards) shard(s), validation \(validation.records) in \(validation.shards)"])
        var lines = table(rows, leftAligned: [0, 4])
        if let sources = manifest.sources, !sources.isEmpty {
            lines.append("")
            lines += table([["source", "kind", "files", "read", "written", "quarantined", "top reasons"]] + sources.map { source in
                let reasons = source.dropped.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                    .prefix(3).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                return [source.name, source.kind, "\(source.files)", "\(source.read)", "\(source.written)", "\(source.quarantined)", reasons]
            }, leftAligned: [0, 1, 6])
        }
        if let mix = manifest.categoryMix, !mix.isEmpty {
            // Before the global stages: the mix dedup gets (the report's mix is the one balancing gets, after dedup).
            let first = manifest.stages.contains { $0.name == "dedup" } ? "dedup" : "balance"
            lines.append("")
            lines += table([["category", "records before \(first)", "after", "chars before \(first)", "after", "share of chars after"]] + mix.sorted { $0.key < $1.key }.map { category, counts in
                let total = mix.values.reduce(0) { $0 + $1.charsAfter }
                let share = total == 0 ? 0 : Double(counts.charsAfter) / Double(total) * 100
                return [category, "\(counts.recordsBefore)", "\(counts.recordsAfter)", "\(counts.charsBefore)", "\(counts.charsAfter)",
                        String(format: "%.1f %%", share)]
            }, leftAligned: [0])
        }
        let totals = manifest.totals
        lines.append("")
        let repeats = totals.repeats > 0 ? " + repeats \(totals.repeats)" : ""
        lines.append("accounting: read \(totals.read)\(repeats) = written \(totals.written) + quarantined \(totals.quarantined)"
            + (totals.balances ? "  (balanced)" : "  (DOES NOT BALANCE)")
            + (totals.blankLines > 0 ? "; \(totals.blankLines) blank line(s) skipped" : ""))
        if totals.written == 0 {
            lines.append("note: no record survived; every input was quarantined (see rejects/)")
        }
        lines.append("dataset: \(directory)  (\(manifest.dataset) \(manifest.version))")
        return lines.joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.hasSuffix(" ") { copy.removeLast() }
        return copy
    }
}
