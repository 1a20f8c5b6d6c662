/// The report as one self-contained HTML page: inline CSS, inline SVG charts, one short inline script that sorts
/// tables, and nothing fetched from anywhere (no external scripts, styles, fonts or links).
///
/// Every string from the data goes through ``HTMLEscape``, and none is placed in the script. The page holds no
/// timestamp and no path of the dataset folder, so the same dataset renders to the same bytes wherever it is.
enum ReportPage {
    /// The page for a report.
    static func render(_ report: ReportData) -> String {
        let numbers = report.numbers
        let label = "\(numbers.dataset)@\(numbers.version)"
        // The Content-Security-Policy forbids every load from outside the file, should an escaping slip ever let
        // markup through.
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e("Refinery report: \(label)"))</title>
            <style>\(style)</style>
            </head><body>
            <header><h1>\(e(label))</h1>
            <p class="muted">Refinery dataset report. Config hash <code>\(e(numbers.configHash))</code>.</p>
            \(accounting(numbers.totals))
            </header>
            <nav><a href="#funnel">Funnel</a> <a href="#drops">Drops</a> <a href="#examples">Examples</a> <a href="#samples">Samples</a> \
            <a href="#mix">Mix</a> \
            <a href="#histograms">Histograms</a> <a href="#duplicates">Duplicates</a> <a href="#shards">Shards</a> \
            <a href="#inputs">Inputs</a> <a href="#spec">Spec</a></nav>

            """
        html += funnel(numbers)
        html += drops(numbers)
        html += examples(report)
        html += samples(report)
        html += mixes(numbers)
        html += histograms(numbers)
        html += duplicates(report)
        html += shards(report)
        html += inputs(report)
        html += "<section id=\"spec\"><h2>Spec</h2><pre>\(e(report.spec))</pre></section>\n"
        html += "<footer class=\"muted\">\(e(numbers.format))</footer>\n"
        html += "<script>\(sortScript)</script>\n</body></html>\n"
        return html
    }

    private static func e(_ text: String) -> String { HTMLEscape.escape(text) }

    private static func accounting(_ totals: ReportTotals) -> String {
        let balanced = totals.read + totals.repeats == totals.written + totals.quarantined
        return "<p>Read <b>\(SVGChart.grouped(totals.read))</b> units; wrote <b>\(SVGChart.grouped(totals.written))</b> records "
            + (totals.repeats > 0 ? "(\(SVGChart.grouped(totals.repeats)) of them up-sampled copies) " : "")
            + "and quarantined <b>\(SVGChart.grouped(totals.quarantined))</b>: "
            + (balanced ? "every unit is accounted for." : "<b>the accounting does not balance.</b>")
            + (totals.blankLines > 0 ? " \(SVGChart.grouped(totals.blankLines)) blank lines skipped." : "") + "</p>\n"
    }

    private static func funnel(_ numbers: ReportNumbers) -> String {
        var table = HTMLTable([("stage", false), ("records in", true), ("records out", true), ("dropped", true), ("dropped share", true),
                               ("left of read", true), ("content bytes in", true), ("content bytes out", true)])
        for stage in numbers.funnel {
            table.append([.text(stage.stage), .count(stage.recordsIn), .count(stage.recordsOut), .count(stage.dropped),
                          .share(stage.dropShare), .share(stage.remainingShare), .count(stage.bytesIn), .count(stage.bytesOut)])
        }
        let chart = SVGChart.horizontalBars(
            name: "funnel", title: "Records in and out per stage", unit: "records", series: ["in", "out"],
            rows: numbers.funnel.map { SVGChart.Row(label: $0.stage, values: [$0.recordsIn, $0.recordsOut]) })
        return "<section id=\"funnel\"><h2>Funnel</h2>\n<p class=\"muted\">Records per stage, <code>read</code> first (units read in, "
            + "records parsed out); content bytes are UTF-8 bytes of text or message contents.</p>\n\(chart)\n\(table.render())</section>\n"
    }

    private static func drops(_ numbers: ReportNumbers) -> String {
        var table = HTMLTable([("stage", false), ("reason", false), ("records", true), ("share of stage", true), ("share of read", true),
                               ("characters", true), ("examples", true)])
        for drop in numbers.drops {
            table.append([.text(drop.stage), .text(drop.reason), .count(drop.records), .share(drop.shareOfStage), .share(drop.shareOfRead),
                          .count(drop.chars), .count(drop.examples)])
        }
        let chart = SVGChart.horizontalBars(
            name: "drops", title: "Records dropped by stage and reason", unit: "records", series: ["dropped"],
            rows: numbers.drops.map { SVGChart.Row(label: $0.key, values: [$0.records]) })
        let body = numbers.drops.isEmpty ? "<p>Nothing was dropped.</p>" : table.render()
        return "<section id=\"drops\"><h2>Drops by reason</h2>\n<p class=\"muted\">Characters are those of what was quarantined "
            + "(a record's content, or a unit's raw text).</p>\n\(chart)\n\(body)</section>\n"
    }

    private static func samples(_ report: ReportData) -> String {
        let html = "<section id=\"samples\"><h2>Samples of written records</h2>\n<p class=\"muted\">The first records of each "
            + "category in shard order; personal data redacted, long texts cut with …</p>\n"
        guard !report.samples.isEmpty else { return html + "<p>No records written.</p></section>\n" }
        var table = HTMLTable([("category", false), ("id", false), ("text", false)], sortable: false)
        for sample in report.samples { table.append([.text(sample.category), .code(sample.id), .block(sample.text)]) }
        return html + table.render() + "\n</section>\n"
    }

    private static func examples(_ report: ReportData) -> String {
        var html = "<section id=\"examples\"><h2>Examples of rejects</h2>\n<p class=\"muted\">The first rejects of each reason in "
            + "file order; personal data redacted (<code>&lt;EMAIL&gt;</code>, <code>&lt;PHONE&gt;</code>, …), long texts cut with …</p>\n"
        if report.numbers.drops.isEmpty { html += "<p>No rejects.</p>\n" }
        for drop in report.numbers.drops {
            html += "<h3>\(e(drop.stage)) · \(e(drop.reason)) <span class=\"muted\">(\(SVGChart.grouped(drop.records)) records)</span></h3>\n"
            let shown = report.examples.filter { $0.stage == drop.stage && $0.reason == drop.reason }
            guard !shown.isEmpty else {
                html += "<p class=\"muted\">No examples kept.</p>\n"
                continue
            }
            var table = HTMLTable([("id", false), ("from", false), ("detail", false), ("text", false)], sortable: false)
            for example in shown {
                table.append([.code(example.id), .code(example.line.map { "\(example.file):\($0)" } ?? example.file), .text(example.detail),
                              .block(example.text)])
            }
            html += table.render() + "\n"
        }
        return html + "</section>\n"
    }

    /// Values a mix chart draws one by one; beyond them, the rest share one "other" row (the table lists them all).
    static let chartedValues = 60

    /// A mix's rows as charted: all of them up to ``chartedValues``, else the largest and one row summing the rest.
    static func chartRows(_ rows: [MixRow]) -> [MixRow] {
        guard rows.count > chartedValues else { return rows }
        let rest = rows[(chartedValues - 1)...]
        let other = MixRow(name: "other (\(rest.count) values)", recordsBefore: rest.reduce(0) { $0 + $1.recordsBefore },
                           charsBefore: rest.reduce(0) { $0 + $1.charsBefore }, recordsAfter: rest.reduce(0) { $0 + $1.recordsAfter },
                           charsAfter: rest.reduce(0) { $0 + $1.charsAfter })
        return Array(rows.prefix(chartedValues - 1)) + [other]
    }

    private static func mixes(_ numbers: ReportNumbers) -> String {
        var html = "<section id=\"mix\"><h2>Mix before and after balancing</h2>\n<p class=\"muted\">Before: the records balancing "
            + "was given (kept and dropped by it). After: the records written, up-sampled copies included. Characters are Unicode "
            + "scalars of text or message contents.</p>\n"
        let titles = ["category": "Category", "source": "Source", "lang": "Language"]
        for mix in numbers.mixes {
            let title = titles[mix.field] ?? mix.field
            let series = ["before balancing", "after balancing"]
            html += "<h3>\(e(title))</h3>\n<figure><figcaption>in records</figcaption>"
            let charted = chartRows(mix.rows)
            html += SVGChart.horizontalBars(name: "\(mix.field)_records", title: "\(title) mix in records", unit: "records", series: series,
                                            rows: charted.map { SVGChart.Row(label: $0.name, values: [$0.recordsBefore, $0.recordsAfter]) })
            html += "</figure>\n<figure><figcaption>in characters</figcaption>"
            html += SVGChart.horizontalBars(name: "\(mix.field)_chars", title: "\(title) mix in characters", unit: "characters", series: series,
                                            rows: charted.map { SVGChart.Row(label: $0.name, values: [$0.charsBefore, $0.charsAfter]) })
            html += "</figure>"
            let recordsAfter = mix.rows.reduce(0) { $0 + $1.recordsAfter }
            let charsAfter = mix.rows.reduce(0) { $0 + $1.charsAfter }
            var table = HTMLTable([(mix.field, false), ("records before", true), ("records after", true), ("% of records after", true),
                                   ("chars before", true), ("chars after", true), ("% of chars after", true)])
            for row in mix.rows {
                table.append([.text(row.name), .count(row.recordsBefore), .count(row.recordsAfter),
                              .share(ReportBuilder.share(row.recordsAfter, of: recordsAfter)), .count(row.charsBefore), .count(row.charsAfter),
                              .share(ReportBuilder.share(row.charsAfter, of: charsAfter))])
            }
            html += "\n" + table.render() + "\n"
        }
        return html + "</section>\n"
    }

    private static func histograms(_ numbers: ReportNumbers) -> String {
        var html = "<section id=\"histograms\"><h2>Histograms</h2>\n<p class=\"muted\">Over the records written (up-sampled copies "
            + "included); words are runs of non-blank characters.</p>\n"
        let titles = ["quality": "Quality", "toxicity": "Toxicity", "lang_confidence": "Language confidence",
                      "length_chars": "Length in characters", "length_words": "Length in words", "turns": "Turns per chat", "reward": "Reward"]
        for histogram in numbers.histograms {
            let title = titles[histogram.name] ?? histogram.name
            html += "<figure><figcaption><b>\(e(title))</b> <span class=\"muted\">\(SVGChart.grouped(histogram.records)) records"
                + (histogram.missing > 0 ? ", \(SVGChart.grouped(histogram.missing)) without a value" : "") + "</span></figcaption>\n"
            html += SVGChart.histogram(histogram, name: histogram.name, title: title) + "</figure>\n"
        }
        return html + "</section>\n"
    }

    private static func duplicates(_ report: ReportData) -> String {
        let summary = report.numbers.duplicates
        var html = "<section id=\"duplicates\"><h2>Duplicate clusters</h2>\n<p>\(SVGChart.grouped(summary.exactDuplicates)) exact and "
            + "\(SVGChart.grouped(summary.nearDuplicates)) near-duplicates dropped, in \(SVGChart.grouped(summary.clusters)) clusters "
            + "(a kept record and its dropped duplicates); the largest holds \(SVGChart.grouped(summary.largestCluster)) records.</p>\n"
        html += "<figure><figcaption><b>Cluster sizes</b></figcaption>\n"
            + SVGChart.histogram(summary.sizes, name: "cluster_sizes", title: "Duplicate cluster sizes", unit: "clusters") + "</figure>\n"
        guard !report.pairs.isEmpty else { return html + "<p class=\"muted\">No example pairs.</p></section>\n" }
        var table = HTMLTable([("reason", false), ("Jaccard", true), ("dropped", false), ("kept", false)], sortable: false)
        for pair in report.pairs {
            table.append([.text(pair.reason), .decimal(pair.jaccard), .block("\(pair.droppedID)\n\n\(pair.droppedText)"),
                          .block("\(pair.keptID)\n\n\(pair.keptText ?? "(not in this version)")")])
        }
        return html + "<h3>Example pairs</h3>\n<p class=\"muted\">Side by side: the record dropped and the one kept; the Jaccard "
            + "similarity of their word shingles as dedup estimated it (1 for exact duplicates).</p>\n" + table.render() + "</section>\n"
    }

    private static func shards(_ report: ReportData) -> String {
        var table = HTMLTable([("file", false), ("split", false), ("records", true), ("bytes", true), ("uncompressed bytes", true), ("xxh3-64", false)])
        for shard in report.shards {
            table.append([.code(shard.file), .text(shard.split), .count(shard.records), .count(shard.bytes), .count(shard.uncompressedBytes),
                          .code(shard.xxh3)])
        }
        return "<section id=\"shards\"><h2>Shards</h2>\n<p class=\"muted\">Data shards, then reject shards (their split is the stage); "
            + "every checksum was verified while this report was built.</p>\n\(table.render())</section>\n"
    }

    private static func inputs(_ report: ReportData) -> String {
        var table = HTMLTable([("source", false), ("path", false), ("bytes", true), ("xxh3-64", false)])
        for input in report.inputs { table.append([.text(input.source), .code(input.path), .count(input.bytes), .code(input.xxh3)]) }
        return "<section id=\"inputs\"><h2>Inputs</h2>\n<p class=\"muted\">The input files the run read, as fingerprinted when it started; "
            + "paths are relative to the spec's folder.</p>\n\(table.render())</section>\n"
    }
}
