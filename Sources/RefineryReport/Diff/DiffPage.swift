/// The diff as one self-contained HTML page, styled and sorted like the report.
enum DiffPage {
    static func render(_ diff: DatasetDiff) -> String {
        let e = HTMLEscape.escape
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e("Refinery diff: \(diff.old) → \(diff.new)"))</title>
            <style>\(ReportPage.style)</style>
            </head><body>
            <header><h1>\(e("\(diff.old) → \(diff.new)"))</h1>
            <p class="muted">Refinery dataset diff: how far the new version moved from the old one.</p></header>

            """
        if !diff.breaches.isEmpty {
            html += "<section id=\"breaches\"><h2>Thresholds exceeded</h2><ul>"
            for breach in diff.breaches { html += "<li>\(e(breach.description))</li>" }
            html += "</ul></section>\n"
        }
        var shares = HTMLTable([("field", false), ("value", false), ("old share", true), ("new share", true), ("change (points)", true)])
        for share in diff.shares {
            shares.append([.text(share.field), .text(share.name), .share(share.oldShare), .share(share.newShare), .decimal(share.change * 100)])
        }
        html += "<section id=\"shares\"><h2>Shares of written records</h2>\n<p class=\"muted\">Category and language shares; "
            + "largest change first.</p>\n\(shares.render())</section>\n"
        var distributions = HTMLTable([("measure", false), ("old records", true), ("new records", true), ("Jensen–Shannon", true),
                                       ("bins that moved most", false)])
        for distribution in diff.distributions {
            let moved = distribution.moved.map { "\($0.bin): \(HTMLTable.percent($0.oldShare)) → \(HTMLTable.percent($0.newShare))" }
            distributions.append([.text(distribution.axis), .count(distribution.oldRecords), .count(distribution.newRecords),
                                  distribution.divergence.map { .decimal($0) } ?? .missing, .block(moved.joined(separator: "\n"))])
        }
        html += "<section id=\"distributions\"><h2>Distributions</h2>\n<p class=\"muted\">Jensen–Shannon divergence of the binned "
            + "distributions, in bits: 0 when equal, 1 when disjoint.</p>\n\(distributions.render())</section>\n"
        let novelty = diff.novelty
        html += "<section id=\"novelty\"><h2>New content</h2>\n<p>\(SVGChart.grouped(novelty.recordsNotInOld)) of "
            + "\(SVGChart.grouped(novelty.newRecords)) records (\(HTMLTable.percent(novelty.recordFraction))) and "
            + "\(HTMLTable.percent(novelty.ngramFraction)) of word 5-grams (a 1-in-\(NoveltyCounter.sampling) sample: "
            + "\(SVGChart.grouped(novelty.ngramsNotInOld)) of \(SVGChart.grouped(novelty.sampledNgrams))) are not in "
            + "\(e(diff.old)).</p></section>\n"
        html += "<script>\(ReportPage.sortScript)</script>\n</body></html>\n"
        return html
    }
}
