import Foundation

/// Inline SVG charts with axes, ticks, labels and units, in a colour-blind-safe palette (Okabe–Ito).
///
/// Every chart is `<svg class="chart" data-chart="NAME" role="img" aria-label="…">`; every data mark (a bar, a
/// histogram bin, zero-sized ones included) has class `mark` and a `<title>` with its exact value. A chart without
/// data draws "no data" and carries `data-empty="true"`. All text goes through ``HTMLEscape``.
enum SVGChart {
    /// Okabe–Ito blue, orange, bluish green, reddish purple: distinguishable with every common colour-vision
    /// deficiency, and dark enough against white.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"]
    static let width = 760

    /// One row of a bar chart: a label and one value per series.
    struct Row {
        var label: String
        var values: [Int]
    }

    /// Horizontal bars, one row per label, one bar per series in a row: every label stays readable however many
    /// rows there are (the chart grows downwards), so 40 categories show as 40 labelled rows.
    /// - Parameters:
    ///   - name: the `data-chart` name.
    ///   - title: what the chart shows, for `aria-label`.
    ///   - unit: the values' unit, on the axis.
    ///   - series: one name per value of a row (a legend is drawn when there are two or more).
    static func horizontalBars(name: String, title: String, unit: String, series: [String], rows: [Row]) -> String {
        let maximum = rows.flatMap(\.values).max() ?? 0
        guard !rows.isEmpty, maximum > 0 else { return empty(name: name, title: title) }
        let labelWidth = 200
        let plotLeft = labelWidth + 8
        let plotRight = width - 72
        let barHeight = 12
        let rowHeight = 8 + barHeight * series.count
        let top = series.count > 1 ? 30 : 10
        let plotHeight = rows.count * rowHeight
        let height = top + plotHeight + 44
        let ticks = niceTicks(maximum: Double(maximum))
        let scale = Double(plotRight - plotLeft) / (ticks.last ?? 1)
        var svg = open(name: name, title: "\(title) (\(rows.count) \(rows.count == 1 ? "row" : "rows"), \(unit))", height: height)
        if series.count > 1 { svg += legend(series, y: 12) }
        for tick in ticks {
            let x = Double(plotLeft) + tick * scale
            svg += "<line class=\"grid\" x1=\"\(f(x))\" y1=\"\(top)\" x2=\"\(f(x))\" y2=\"\(top + plotHeight)\"/>"
            svg += "<text class=\"tick\" x=\"\(f(x))\" y=\"\(top + plotHeight + 14)\" text-anchor=\"middle\">\(compact(tick))</text>"
        }
        svg += "<text class=\"axis-title\" x=\"\((plotLeft + plotRight) / 2)\" y=\"\(top + plotHeight + 34)\" text-anchor=\"middle\">\(HTMLEscape.escape(unit))</text>"
        for (index, row) in rows.enumerated() {
            let y = top + index * rowHeight + 4
            let label = row.label.count > 30 ? String(row.label.prefix(29)) + "…" : row.label
            svg += "<text class=\"label\" x=\"\(labelWidth)\" y=\"\(y + rowHeight / 2 + 1)\" text-anchor=\"end\">"
                + "<title>\(HTMLEscape.escape(row.label))</title>\(HTMLEscape.escape(label))</text>"
            for (s, value) in row.values.enumerated() {
                let barY = y + s * barHeight
                let barWidth = Double(value) * scale
                let what = series.count > 1 ? "\(row.label), \(series[s])" : row.label
                svg += "<rect class=\"mark\" x=\"\(plotLeft)\" y=\"\(barY)\" width=\"\(f(barWidth))\" height=\"\(barHeight - 2)\" "
                    + "fill=\"\(palette[s % palette.count])\"><title>\(HTMLEscape.escape("\(what): \(grouped(value)) \(unit)"))</title></rect>"
                svg += "<text class=\"value\" x=\"\(f(Double(plotLeft) + barWidth + 4))\" y=\"\(barY + barHeight - 3)\">\(grouped(value))</text>"
            }
        }
        svg += "<line class=\"axis\" x1=\"\(plotLeft)\" y1=\"\(top)\" x2=\"\(plotLeft)\" y2=\"\(top + plotHeight)\"/>"
        return svg + "</svg>"
    }

    /// A histogram: one bar per bin, a y axis of records, the x axis labelled at bin edges (or, for bins of whole
    /// numbers one wide, under each bin), open bins marked "less" and "more".
    static func histogram(_ histogram: Histogram, name: String, title: String, unit: String = "records") -> String {
        guard histogram.records > 0 else { return empty(name: name, title: title) }
        let left = 64
        let right = width - 24
        let top = 12
        let plotHeight = 180
        let height = top + plotHeight + 62
        let bins = histogram.bins
        let maximum = bins.map(\.count).max() ?? 0
        let ticks = niceTicks(maximum: Double(maximum))
        let scale = Double(plotHeight) / (ticks.last ?? 1)
        let binWidth = Double(right - left) / Double(bins.count)
        let bottom = top + plotHeight
        var svg = open(name: name, title: "\(title): \(grouped(histogram.records)) \(unit) in \(bins.count) bins"
                       + (histogram.missing > 0 ? ", \(grouped(histogram.missing)) without a value" : ""), height: height)
        for tick in ticks {
            let y = Double(bottom) - tick * scale
            svg += "<line class=\"grid\" x1=\"\(left)\" y1=\"\(f(y))\" x2=\"\(right)\" y2=\"\(f(y))\"/>"
            svg += "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(compact(tick))</text>"
        }
        for (index, bin) in bins.enumerated() {
            let x = Double(left) + Double(index) * binWidth
            let barHeight = Double(bin.count) * scale
            svg += "<rect class=\"mark\" x=\"\(f(x + 1))\" y=\"\(f(Double(bottom) - barHeight))\" width=\"\(f(max(binWidth - 2, 1)))\" "
                + "height=\"\(f(barHeight))\" fill=\"\(palette[0])\"><title>\(HTMLEscape.escape("\(range(bin)): \(grouped(bin.count)) \(unit)"))</title></rect>"
        }
        let wholeNumbers = bins.allSatisfy { bin in
            guard let lower = bin.lower else { return false }
            guard let upper = bin.upper else { return true }
            return upper - lower == 1 && lower == lower.rounded()
        }
        // Edge labels need about 30 units each; narrower bins label every second (third, …) edge.
        let every = max(1, Int((30 / binWidth).rounded(.up)))
        for (index, bin) in bins.enumerated() {
            let x = Double(left) + Double(index) * binWidth
            svg += "<line class=\"axis\" x1=\"\(f(x))\" y1=\"\(bottom)\" x2=\"\(f(x))\" y2=\"\(bottom + 4)\"/>"
            let centred: String? = switch (bin.lower, bin.upper) {
            case (let lower?, nil): "≥\(compact(lower))"
            case (let lower?, _) where wholeNumbers: compact(lower)
            default: nil
            }
            if let centred {
                svg += "<text class=\"tick\" x=\"\(f(x + binWidth / 2))\" y=\"\(bottom + 16)\" text-anchor=\"middle\">\(HTMLEscape.escape(centred))</text>"
            } else if let lower = bin.lower, index % every == 0 {
                svg += "<text class=\"tick\" x=\"\(f(x))\" y=\"\(bottom + 16)\" text-anchor=\"middle\">\(compact(lower))</text>"
            }
        }
        if !wholeNumbers, let lastUpper = bins.last?.upper, bins.count % every == 0 {
            svg += "<text class=\"tick\" x=\"\(right)\" y=\"\(bottom + 16)\" text-anchor=\"middle\">\(compact(lastUpper))</text>"
        }
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(right)\" y2=\"\(bottom)\"/>"
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(bottom)\"/>"
        svg += "<text class=\"axis-title\" x=\"\((left + right) / 2)\" y=\"\(bottom + 38)\" text-anchor=\"middle\">\(HTMLEscape.escape(histogram.axis))</text>"
        svg += "<text class=\"axis-title\" transform=\"translate(14 \(top + plotHeight / 2)) rotate(-90)\" text-anchor=\"middle\">\(HTMLEscape.escape(unit))</text>"
        return svg + "</svg>"
    }

    /// A chart with nothing to draw.
    static func empty(name: String, title: String) -> String {
        open(name: name, title: "\(title): no data", height: 48, empty: true)
            + "<text class=\"empty\" x=\"\(width / 2)\" y=\"28\" text-anchor=\"middle\">no data</text></svg>"
    }

    private static func open(name: String, title: String, height: Int, empty: Bool = false) -> String {
        "<svg class=\"chart\" data-chart=\"\(HTMLEscape.escape(name))\"\(empty ? " data-empty=\"true\"" : "") role=\"img\" "
            + "aria-label=\"\(HTMLEscape.escape(title))\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\">"
    }

    private static func legend(_ series: [String], y: Int) -> String {
        var svg = ""
        var x = 208
        for (index, name) in series.enumerated() {
            svg += "<rect x=\"\(x)\" y=\"\(y - 9)\" width=\"12\" height=\"10\" fill=\"\(palette[index % palette.count])\"/>"
            svg += "<text class=\"label\" x=\"\(x + 16)\" y=\"\(y)\">\(HTMLEscape.escape(name))</text>"
            x += 24 + 8 * name.count
        }
        return svg
    }

    /// A bin's range for its tooltip: `[a, b)`, `< b`, `≥ a`.
    static func range(_ bin: HistogramBin) -> String {
        switch (bin.lower, bin.upper) {
        case let (lower?, upper?): return "\(number(lower)) to under \(number(upper))"
        case let (lower?, nil): return "\(number(lower)) or more"
        case let (nil, upper?): return "under \(number(upper))"
        case (nil, nil): return "all"
        }
    }

    /// Axis ticks from 0: steps of 1, 2 or 5 × 10^k, about five of them, the last at or above `maximum`.
    static func niceTicks(maximum: Double) -> [Double] {
        guard maximum > 0 else { return [0, 1] }
        let rough = maximum / 5
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let stepped = max(1, step) // counts are whole
        let count = Int((maximum / stepped).rounded(.up))
        return (0...max(count, 1)).map { Double($0) * stepped }
    }

    /// A coordinate with at most one decimal.
    static func f(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(format: "%.1f", tenths / 10)
    }

    /// An axis number: `0.05`, `20`, `1.5k`, `20k`, `3M`.
    static func compact(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1_000_000 { return number(value / 1_000_000) + "M" }
        if magnitude >= 1_000 { return number(value / 1_000) + "k" }
        return number(value)
    }

    /// A number with at most two decimals and no trailing zeros.
    static func number(_ value: Double) -> String {
        var text = String(format: "%.2f", value)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// A count with thousands separated by commas: `12,345`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }
}
