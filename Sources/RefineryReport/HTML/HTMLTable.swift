/// An HTML table whose cells are escaped on the way in; sortable ones get `class="sortable"` and are sorted by
/// the page's inline script (numbers by `data-value`).
struct HTMLTable {
    /// One cell: text (escaped), a count or a share (right-aligned, sorted by value), or monospaced text.
    enum Cell {
        case text(String)
        case code(String)
        /// Multi-line text, shown with its newlines.
        case block(String)
        case count(Int)
        case share(Double)
        /// A share shown to three decimals as a plain number (Jaccard).
        case decimal(Double)
        case missing
    }

    var columns: [(title: String, numeric: Bool)]
    var sortable: Bool
    var rows: [[Cell]] = []

    init(_ columns: [(String, Bool)], sortable: Bool = true) {
        self.columns = columns.map { (title: $0.0, numeric: $0.1) }
        self.sortable = sortable
    }

    mutating func append(_ row: [Cell]) { rows.append(row) }

    func render() -> String {
        var html = "<div class=\"scroll\"><table class=\"\(sortable ? "sortable" : "full")\"><thead><tr>"
        for column in columns {
            html += "<th scope=\"col\"\(column.numeric ? " class=\"num\"" : "")>\(HTMLEscape.escape(column.title))</th>"
        }
        html += "</tr></thead><tbody>"
        for row in rows {
            html += "<tr>"
            for cell in row { html += Self.render(cell) }
            html += "</tr>"
        }
        return html + "</tbody></table></div>"
    }

    static func render(_ cell: Cell) -> String {
        switch cell {
        case .text(let text): return "<td>\(HTMLEscape.escape(text))</td>"
        case .code(let text): return "<td><code>\(HTMLEscape.escape(text))</code></td>"
        case .block(let text): return "<td class=\"text\">\(HTMLEscape.escape(text))</td>"
        case .count(let value): return "<td class=\"num\" data-value=\"\(value)\">\(SVGChart.grouped(value))</td>"
        case .share(let value): return "<td class=\"num\" data-value=\"\(String(format: "%.6f", value))\">\(percent(value))</td>"
        case .decimal(let value): return "<td class=\"num\" data-value=\"\(String(format: "%.6f", value))\">\(String(format: "%.3f", value))</td>"
        case .missing: return "<td class=\"num\" data-value=\"-1\">–</td>"
        }
    }

    /// `12.3 %`.
    static func percent(_ share: Double) -> String { String(format: "%.1f %%", share * 100) }
}
