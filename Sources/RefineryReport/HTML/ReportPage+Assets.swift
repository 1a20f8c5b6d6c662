extension ReportPage {
    /// The page's CSS: system fonts only, tables and charts that fit the screen, and a print layout that neither
    /// clips nor cuts (no scrolling boxes, rows and charts kept whole, header rows repeated).
    static let style = """
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; \
        background: #fff; margin: 0 auto; max-width: 1120px; padding: 16px 24px; }
        h1 { font-size: 22px; margin: 8px 0; } h2 { font-size: 18px; border-bottom: 1px solid #bbb; margin-top: 32px; } h3 { font-size: 15px; }
        nav a { margin-right: 12px; color: #0060a0; }
        .muted { color: #555; }
        code, pre, td.text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
        pre, td.text { white-space: pre-wrap; overflow-wrap: anywhere; }
        pre { background: #f6f6f6; padding: 8px; border: 1px solid #ddd; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; margin: 8px 0 16px; font-variant-numeric: tabular-nums; }
        th, td { border: 1px solid #d4d4d4; padding: 3px 8px; text-align: left; vertical-align: top; }
        th { background: #f1f1f1; }
        table.full { width: 100%; }
        .num { text-align: right; white-space: nowrap; }
        td.text { min-width: 18em; max-width: 44em; }
        table.sortable th { cursor: pointer; user-select: none; }
        table.sortable th::after { content: " \\2195"; color: #888; }
        table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; color: #1a1a1a; }
        table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; color: #1a1a1a; }
        figure { margin: 12px 0; }
        svg.chart { display: block; max-width: 100%; height: auto; margin: 6px 0 14px; }
        svg.chart text { font-size: 11px; fill: #222; }
        svg.chart .tick { font-size: 10px; fill: #444; }
        svg.chart .value { font-size: 10px; fill: #333; }
        svg.chart .axis-title { font-size: 12px; fill: #333; }
        svg.chart .empty { font-style: italic; fill: #666; font-size: 13px; }
        svg.chart .grid { stroke: #e4e4e4; stroke-width: 1; }
        svg.chart .axis { stroke: #555; stroke-width: 1; }
        @media print {
          body { max-width: none; padding: 0; font-size: 11px; }
          nav { display: none; }
          .scroll { overflow: visible; }
          table { page-break-inside: auto; break-inside: auto; }
          thead { display: table-header-group; }
          tr, svg.chart, figure { page-break-inside: avoid; break-inside: avoid; }
          h2, h3 { page-break-after: avoid; break-after: avoid; }
          td.text { max-width: none; }
          table.sortable th::after, table.sortable th[aria-sort]::after { content: ""; }
          a { color: inherit; text-decoration: none; }
        }
        """

    /// Sorts a table by the clicked header: numbers (a cell's `data-value`, or its text) as numbers, other text in
    /// natural order; a second click reverses. It reads only the page's own cells.
    static let sortScript = """

        document.querySelectorAll("table.sortable").forEach(function (table) {
          var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
          var headers = table.querySelectorAll("thead th");
          headers.forEach(function (header, column) {
            header.addEventListener("click", function () {
              var ascending = header.getAttribute("aria-sort") !== "ascending";
              headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
              header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
              var key = function (row) {
                var cell = row.cells[column];
                return cell ? (cell.getAttribute("data-value") || cell.textContent.trim()) : "";
              };
              var body = table.tBodies[0];
              Array.prototype.slice.call(body.rows).sort(function (a, b) {
                var x = key(a), y = key(b), nx = Number(x.replace(/,/g, "")), ny = Number(y.replace(/,/g, ""));
                var order = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny) ? nx - ny : collator.compare(x, y);
                return ascending ? order : -order;
              }).forEach(function (row) { body.appendChild(row); });
            });
          });
        });

        """
}
