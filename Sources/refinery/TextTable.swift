import Foundation

/// Aligned columns with a rule under the header, as the funnel prints them: text left-aligned, numbers right.
struct TextTable {
    var header: [String]
    /// Columns aligned right (counts, durations).
    var rightAligned: Set<Int>
    var rows: [[String]] = []

    init(_ header: [String], rightAligned: Set<Int> = []) {
        self.header = header
        self.rightAligned = rightAligned
    }

    mutating func append(_ row: [String]) { rows.append(row) }

    /// The table's lines, joined by newlines.
    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var lines = all.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        lines.insert(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)), at: 1)
        return lines.joined(separator: "\n")
    }
}

/// How the catalog commands show times, durations and long text.
enum CatalogText {
    /// `2026-11-21T03:00:00.123Z` as `2026-11-21 03:00:00Z`.
    static func time(_ iso: String?) -> String {
        guard let iso, iso.count >= 19 else { return iso ?? "-" }
        return iso.prefix(19).replacingOccurrences(of: "T", with: " ") + "Z"
    }

    /// `0.4 s`, `12.3 s`, `4 min 05 s`, `2 h 03 min`; `-` when unknown.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
        return String(format: "%d h %02d min", whole / 3600, whole % 3600 / 60)
    }

    /// The first line of `text`, cut to `limit` characters with an ellipsis.
    static func short(_ text: String?, limit: Int = 60) -> String {
        guard let line = text?.split(separator: "\n").first.map(String.init) else { return "" }
        return line.count <= limit ? line : line.prefix(limit - 1) + "…"
    }

    /// A count, or `-` when not known yet.
    static func count(_ value: Int?) -> String { value.map(String.init) ?? "-" }
}
