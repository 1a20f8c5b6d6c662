import Foundation
import RefineryReport

/// `refinery diff`'s text tables, for a terminal or a nightly log.
enum DiffText {
    static func render(_ diff: DatasetDiff, rows: Int = 12) -> String {
        var lines = ["\(diff.old) → \(diff.new)", "", "share of written records (largest changes first)"]
        var shares = TextTable(["field", "value", "old", "new", "change"], rightAligned: [2, 3, 4])
        for share in diff.shares.prefix(rows) {
            shares.append([share.field, share.name, percent(share.oldShare), percent(share.newShare), points(share.change)])
        }
        lines.append(shares.render())
        if diff.shares.count > rows { lines.append("… and \(diff.shares.count - rows) more (--json lists all)") }
        lines += ["", "distributions (Jensen–Shannon divergence, bits; the bins that moved most)"]
        var distributions = TextTable(["measure", "old n", "new n", "JS", "moved"], rightAligned: [1, 2, 3])
        for distribution in diff.distributions {
            distributions.append([distribution.name, "\(distribution.oldRecords)", "\(distribution.newRecords)",
                                  distribution.divergence.map { String(format: "%.4f", $0) } ?? "no data",
                                  distribution.moved.map { "\($0.bin) \(percent($0.oldShare))→\(percent($0.newShare))" }.joined(separator: ", ")])
        }
        lines.append(distributions.render())
        let novelty = diff.novelty
        lines += ["", "new in \(diff.new): \(novelty.recordsNotInOld) of \(novelty.newRecords) records (\(percent(novelty.recordFraction))), "
            + "\(percent(novelty.ngramFraction)) of word 5-grams (\(novelty.ngramsNotInOld) of \(novelty.sampledNgrams) sampled, "
            + "1 in \(DatasetDiff.Novelty.sampling))"]
        if !diff.breaches.isEmpty {
            lines += ["", "THRESHOLDS EXCEEDED:"] + diff.breaches.map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    static func percent(_ share: Double) -> String { String(format: "%.1f %%", share * 100) }

    static func points(_ change: Double) -> String { String(format: "%+.1f pt", change * 100) }
}
