import Foundation

/// The diff as text tables for a terminal or a nightly log.
enum DiffText {
    static func render(_ diff: DatasetDiff, rows: Int = 12) -> String {
        var lines = ["\(diff.old) → \(diff.new)", ""]
        lines.append("share of written records (largest changes first)")
        lines += table(["field", "value", "old", "new", "change"],
                       diff.shares.prefix(rows).map { [$0.field, $0.name, percent($0.oldShare), percent($0.newShare), points($0.change)] },
                       numeric: [2, 3, 4])
        if diff.shares.count > rows { lines.append("… and \(diff.shares.count - rows) more (--json lists all)") }
        lines.append("")
        lines.append("distributions (Jensen–Shannon divergence, bits; the bins that moved most)")
        lines += table(["measure", "old n", "new n", "JS", "moved"], diff.distributions.map { distribution in
            [distribution.name, "\(distribution.oldRecords)", "\(distribution.newRecords)",
             distribution.divergence.map { String(format: "%.4f", $0) } ?? "no data",
             distribution.moved.map { "\($0.bin) \(percent($0.oldShare))→\(percent($0.newShare))" }.joined(separator: ", ")]
        }, numeric: [1, 2, 3])
        lines.append("")
        let novelty = diff.novelty
        lines.append("new in \(diff.new): \(novelty.recordsNotInOld) of \(novelty.newRecords) records (\(percent(novelty.recordFraction))), "
            + "\(percent(novelty.ngramFraction)) of word 5-grams (\(novelty.ngramsNotInOld) of \(novelty.sampledNgrams) sampled, 1 in \(NoveltyCounter.sampling))")
        if !diff.breaches.isEmpty {
            lines.append("")
            lines.append("THRESHOLDS PASSED:")
            for breach in diff.breaches { lines.append("  \(breach)") }
        }
        return lines.joined(separator: "\n")
    }

    static func percent(_ share: Double) -> String { String(format: "%.1f %%", share * 100) }

    static func points(_ change: Double) -> String { String(format: "%+.1f pt", change * 100) }

    /// Columns padded to their widest cell; `numeric` columns right-aligned.
    static func table(_ header: [String], _ rows: [[String]], numeric: Set<Int>) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == cells.count - 1 && !numeric.contains(column) ? cell : (numeric.contains(column) ? pad + cell : cell + pad)
            }.joined(separator: "  ")
        }
        return [line(header), String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))] + rows.map(line)
    }
}
