#!/usr/bin/env python3
"""Opens a Refinery report page (report.html) in headless Chromium and checks what a person would see.

    check_browser.py REPORT_HTML SCREENSHOT [--expect-text TEXT ...] [--min-charts N] [--pdf PDF]

Checks, each printed as `ok` or `FAIL` (exit 1 when any fails, 2 when the browser cannot start):
  - no console message of type error, no uncaught page error, no dialog (an `alert` is a failure);
  - at least --min-charts `svg.chart` elements, each with `data-chart` and `aria-label`; every chart not
    marked `data-empty="true"` has at least one visible `.mark` with a non-zero box inside the chart, and
    an empty chart has no marks;
  - every --expect-text string shows as text on the page, and none of the elements its markup would make
    (`<img src=x onerror=…>`, `<script>alert(1)</script>`) exists in the document;
  - clicking the first header of each `table.sortable` keeps the same rows; clicking a numeric column's
    header twice sorts it one way, then the other;
  - nothing is loaded from outside the file: every request but the page's own is aborted and counted as a
    failure, and no element or style names an outside resource or an http(s) URL;
  - in print media at A4 width (718 px: 210 mm less 10 mm margins, at 96 px per inch) no chart is wider
    than the page. With --pdf, the printed page is also saved as A4 PDF to look at.
Also writes a full-page screenshot of the page as loaded (1280 px wide) to SCREENSHOT.

Needs the `playwright` package and a Chromium binary: CHROMIUM (environment) or the system one
(/usr/lib/chromium/chromium, or `chromium` on PATH). Playwright's own browser download is not used.
tools/report/check_browser.sh sets all of this up; see tools/report/README.md.
"""
import argparse
import os
import re
import shutil
import sys
import time
from pathlib import Path

SCREEN_VIEWPORT = {"width": 1280, "height": 900}
# A4 is 210 mm wide; with 10 mm margins on each side 190 mm are left, 718 px at 96 px per inch.
PRINT_WIDTH_PX = 718
PRINT_MARGIN = "10mm"
ACTION_TIMEOUT_MS = 60_000

# Namespace names are URIs, not resources: these may appear in a self-contained page.
NAMESPACE_URLS = re.compile(r"https?://www\.w3\.org/[0-9A-Za-z/.#-]*")
ANY_URL = re.compile(r"https?://[^\s\"'<>)]{1,80}")


class Report:
    """Collects check results; each check prints one line as it finishes."""

    def __init__(self):
        self.failures = []

    def ok(self, check, detail=""):
        print(f"ok    {check}" + (f": {detail}" if detail else ""))

    def fail(self, check, detail):
        self.failures.append(f"{check}: {detail}")
        print(f"FAIL  {check}: {detail}")

    def expect(self, condition, check, good, bad):
        if condition:
            self.ok(check, good)
        else:
            self.fail(check, bad)


def find_chromium():
    """The Chromium binary: $CHROMIUM, Debian's real binary (not its shell wrapper), or `chromium` on PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    if os.access("/usr/lib/chromium/chromium", os.X_OK):
        return "/usr/lib/chromium/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


def wait_for_paint(page):
    """Waits until web fonts are settled and two frames have been painted, so drawn marks have their boxes."""
    page.evaluate("""() => document.fonts.ready.then(() => new Promise(done =>
        requestAnimationFrame(() => requestAnimationFrame(done))))""")


CHARTS_JS = """() => Array.from(document.querySelectorAll('svg.chart')).map((svg, index) => {
    const box = svg.getBoundingClientRect();
    const marks = Array.from(svg.querySelectorAll('.mark'));
    const drawn = marks.filter(mark => {
        const r = mark.getBoundingClientRect();
        const visible = typeof mark.checkVisibility === 'function'
            ? mark.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
            : getComputedStyle(mark).visibility !== 'hidden';
        const inside = r.right >= box.left && r.left <= box.right && r.bottom >= box.top && r.top <= box.bottom;
        return visible && inside && r.width > 0 && r.height > 0;
    });
    return {
        index,
        name: svg.getAttribute('data-chart') || '',
        label: svg.getAttribute('aria-label') || '',
        role: svg.getAttribute('role') || '',
        empty: svg.getAttribute('data-empty') === 'true',
        marks: marks.length,
        drawn: drawn.length,
        width: box.width,
        height: box.height,
    };
})"""


def check_charts(page, report, min_charts):
    charts = page.evaluate(CHARTS_JS)
    report.expect(len(charts) >= min_charts, "charts exist",
                  f"{len(charts)} svg.chart (at least {min_charts})",
                  f"{len(charts)} svg.chart on the page, expected at least {min_charts}")
    names = {}
    for chart in charts:
        name = chart["name"] or f"#{chart['index']} (no data-chart)"
        names[name] = names.get(name, 0) + 1
        state = "empty" if chart["empty"] else f"{chart['drawn']}/{chart['marks']} marks drawn"
        print(f"      chart {name}: {state}, {chart['width']:.0f}x{chart['height']:.0f} px")
        if not chart["name"]:
            report.fail("chart contract", f"svg.chart #{chart['index']} has no data-chart name")
        if not chart["label"].strip() or chart["role"] != "img":
            report.fail("chart contract", f"chart {name} needs role=\"img\" and a non-empty aria-label")
        if chart["empty"]:
            if chart["marks"]:
                report.fail("chart marks", f"chart {name} is data-empty=\"true\" but has {chart['marks']} .mark element(s)")
        elif chart["drawn"] == 0:
            why = "no .mark element" if chart["marks"] == 0 else f"{chart['marks']} .mark element(s), none visible with a non-zero box inside the chart"
            report.fail("chart marks", f"chart {name} is not marked empty but has {why}")
    repeated = sorted(name for name, count in names.items() if count > 1)
    if repeated:
        report.fail("chart contract", f"data-chart names used more than once: {', '.join(repeated)}")
    drawn = [c for c in charts if not c["empty"]]
    if charts and not drawn:
        report.fail("chart marks", "every chart is marked empty: the report shows no data")
    elif charts and all(c["empty"] or c["drawn"] > 0 for c in charts):
        report.ok("chart marks", f"{len(drawn)} chart(s) drew marks, {len(charts) - len(drawn)} empty")
    return charts


EXTERNAL_DOM_JS = """() => {
    const loads = ['src', 'srcset', 'poster', 'data', 'background', 'manifest', 'codebase', 'archive', 'ping'];
    const links = ['href', 'xlink:href', 'action', 'formaction', 'cite'];
    const loadingHref = new Set(['link', 'image', 'use', 'feimage', 'script', 'base']);
    const local = v => v === '' || v.startsWith('#') || v.startsWith('data:') || v.startsWith('blob:');
    const remote = v => /^(https?:)?\\/\\//i.test(v);
    const bad = [];
    for (const el of document.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        for (const attr of el.attributes) {
            const name = attr.name.toLowerCase();
            const value = attr.value.trim();
            const loading = loads.includes(name) || (links.includes(name) && loadingHref.has(tag));
            if ((loading && !local(value)) || (links.includes(name) && remote(value))) {
                bad.push(`<${tag} ${name}="${value.slice(0, 80)}">`);
            }
            if (name === 'style' && /url\\(\\s*['"]?(?!data:|#)/i.test(value)) bad.push(`<${tag} style="${value.slice(0, 80)}">`);
        }
    }
    for (const style of document.querySelectorAll('style')) {
        const css = style.textContent;
        if (/@import/i.test(css) || /url\\(\\s*['"]?(?!data:|#)/i.test(css)) bad.push('<style> with @import or url(...) to a file');
    }
    return {bad, scripts: document.querySelectorAll('script').length};
}"""


def check_self_contained(page, html_text, requests, report):
    found = page.evaluate(EXTERNAL_DOM_JS)
    report.expect(not found["bad"], "no outside resources in the DOM",
                  f"{found['scripts']} inline script(s), no src/href to a file or server",
                  "; ".join(found["bad"][:5]) + (f" (and {len(found['bad']) - 5} more)" if len(found["bad"]) > 5 else ""))
    urls = sorted(set(ANY_URL.findall(NAMESPACE_URLS.sub("", html_text))))
    report.expect(not urls, "no http(s) URLs in the file", "none besides XML namespaces",
                  ", ".join(urls[:5]) + (f" (and {len(urls) - 5} more)" if len(urls) > 5 else ""))
    report.expect(not requests, "no requests beyond the page itself", "none attempted",
                  f"{len(requests)} attempted and blocked: " + ", ".join(requests[:5]))


# What the browser's own parser makes of a string: the elements an unescaped copy of it would add to the page.
MARKUP_ELEMENTS_JS = """text => {
    const doc = new DOMParser().parseFromString(text, 'text/html');
    return Array.from(doc.body.querySelectorAll('*')).concat(Array.from(doc.head.querySelectorAll('*'))).map(el => ({
        tag: el.tagName.toLowerCase(),
        attributes: Array.from(el.attributes).map(a => [a.name, a.value]),
        text: el.tagName === 'SCRIPT' ? el.textContent : null,
    }));
}"""

FIND_ELEMENT_JS = """wanted => Array.from(document.getElementsByTagName(wanted.tag)).filter(el =>
    wanted.attributes.every(([name, value]) => el.getAttribute(name) === value) &&
    (wanted.text === null || el.textContent.trim() === wanted.text.trim())).length"""


def check_hostile_text(page, texts, report):
    if not texts:
        return
    body_text = page.evaluate("() => document.body.textContent")
    visible = page.inner_text("body")
    visible_at_load = visible
    opened = 0
    if any(t in body_text and t not in visible for t in texts):
        # Examples may sit in closed <details>; a person opens them, so does the check.
        opened = page.evaluate("""() => { const closed = document.querySelectorAll('details:not([open])');
            closed.forEach(d => d.open = true); return closed.length; }""")
        visible = page.inner_text("body")
    for text in texts:
        shown = repr(text)
        if text in visible:
            hidden_at_load = text not in visible_at_load
            report.ok("hostile text shows as text", shown + (f" (after opening {opened} <details>)" if hidden_at_load else ""))
        elif text in body_text:
            report.fail("hostile text shows as text", f"{shown} is in the page's text but hidden")
        else:
            report.fail("hostile text shows as text", f"{shown} is not in the page's text (dropped, truncated or parsed as markup)")
        for element in page.evaluate(MARKUP_ELEMENTS_JS, text):
            count = page.evaluate(FIND_ELEMENT_JS, element)
            attrs = " ".join(f'{name}="{value}"' for name, value in element["attributes"])
            described = f"<{element['tag']}{' ' + attrs if attrs else ''}>" + (f"{element['text']}</script>" if element["text"] is not None else "")
            report.expect(count == 0, "no element made from hostile text", f"no {described}",
                          f"{count} {described} element(s) in the document: the text was inserted as HTML")


TABLE_ROWS_JS = """table => {
    const body = table.tBodies.length ? Array.from(table.tBodies).flatMap(b => Array.from(b.rows))
                                      : Array.from(table.rows).slice(1);
    return body.map(row => Array.from(row.cells).map(cell =>
        cell.getAttribute('data-sort') ?? cell.getAttribute('data-value') ?? cell.textContent.trim()));
}"""

HEADER_CELL_JS = """(table, column) => {
    const row = table.tHead && table.tHead.rows.length ? table.tHead.rows[table.tHead.rows.length - 1] : table.rows[0];
    for (let el = table.parentElement; el; el = el.parentElement) if (el.tagName === 'DETAILS') el.open = true;
    return row ? row.cells[column] : null;
}"""

PLAIN_NUMBER = re.compile(r"^[-+\u2212]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?%?$")


def as_number(cell):
    """A cell's number when it is a plain number (thousands separators and a trailing % allowed), else None."""
    text = re.sub(r"[,\u00a0\u202f\u2009 _]", "", cell)
    if not PLAIN_NUMBER.match(text):
        return None
    return float(text.rstrip("%").replace("\u2212", "-"))


def direction(values):
    """+1 when values never go down and do go up, -1 the other way round, 0 when unsorted or all equal."""
    ups = any(b > a for a, b in zip(values, values[1:]))
    downs = any(b < a for a, b in zip(values, values[1:]))
    return 0 if ups == downs else (1 if ups else -1)


def click_header(table, column):
    cell = table.evaluate_handle(HEADER_CELL_JS, column).as_element()
    if cell is None:
        raise RuntimeError(f"no header cell in column {column + 1}")
    cell.click(timeout=ACTION_TIMEOUT_MS)


def check_tables(page, report, errors_now):
    tables = page.query_selector_all("table.sortable")
    if not tables:
        report.fail("sortable tables", "no table.sortable on the page")
        return
    numeric = None
    for index, table in enumerate(tables):
        before = table.evaluate(TABLE_ROWS_JS)
        errors_before = errors_now()
        try:
            click_header(table, 0)
        except Exception as error:
            report.fail("sortable tables", f"table {index + 1}: clicking its first header failed: {error}")
            continue
        after = table.evaluate(TABLE_ROWS_JS)
        new_errors = errors_now() - errors_before
        same_rows = sorted(map(tuple, before)) == sorted(map(tuple, after))
        if not same_rows or new_errors:
            why = [] if same_rows else [f"rows changed ({len(before)} before, {len(after)} after)"]
            why += [f"{new_errors} error(s) while sorting"] if new_errors else []
            report.fail("sortable tables", f"table {index + 1}, first header: " + "; ".join(why))
        if numeric is None and len(after) >= 2:
            for column in range(min(len(row) for row in after)):
                values = [as_number(row[column]) for row in after]
                if all(v is not None for v in values) and len(set(values)) >= 2:
                    numeric = (index, table, column)
                    break
    if not any(f.startswith("sortable tables") for f in report.failures):
        report.ok("sortable tables", f"{len(tables)} table(s): first header click keeps the rows, no errors")
    if numeric is None:
        report.fail("numeric sort", "no table.sortable has a column of plain numbers with two different values to sort")
        return
    index, table, column = numeric
    try:
        click_header(table, column)
        first = [as_number(row[column]) for row in table.evaluate(TABLE_ROWS_JS)]
        click_header(table, column)
        second = [as_number(row[column]) for row in table.evaluate(TABLE_ROWS_JS)]
    except Exception as error:
        report.fail("numeric sort", f"table {index + 1}, column {column + 1}: clicking the header failed: {error}")
        return
    d1, d2 = direction(first), direction(second)
    report.expect(d1 != 0 and d2 == -d1, "numeric sort",
                  f"table {index + 1}, column {column + 1}: {'ascending' if d1 > 0 else 'descending'}, then reversed",
                  f"table {index + 1}, column {column + 1}: after one click {first[:6]}..., after two {second[:6]}... "
                  "(expected sorted one way, then the other)")


PRINT_WIDTHS_JS = """() => {
    const page = document.documentElement.clientWidth;
    return {page, scroll: document.documentElement.scrollWidth,
            charts: Array.from(document.querySelectorAll('svg.chart')).map(svg => {
                const r = svg.getBoundingClientRect();
                return {name: svg.getAttribute('data-chart') || '?', left: r.left, right: r.right, width: r.width};
            })};
}"""


def check_print(page, report, pdf):
    page.set_viewport_size({"width": PRINT_WIDTH_PX, "height": 1000})
    page.emulate_media(media="print")
    wait_for_paint(page)
    widths = page.evaluate(PRINT_WIDTHS_JS)
    wide = [c for c in widths["charts"] if c["left"] < -1 or c["right"] > widths["page"] + 1]
    report.expect(not wide, "charts fit the printed page",
                  f"{len(widths['charts'])} chart(s) within {widths['page']} px (A4 less margins)",
                  ", ".join(f"{c['name']} spans {c['left']:.0f}..{c['right']:.0f} px" for c in wide)
                  + f" on a {widths['page']} px page")
    if pdf:
        page.pdf(path=pdf, format="A4", print_background=True,
                 margin={side: PRINT_MARGIN for side in ("top", "right", "bottom", "left")})
        print(f"      PDF: {pdf}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report_html", help="the report page to open")
    parser.add_argument("screenshot", help="where to write the full-page PNG screenshot")
    parser.add_argument("--expect-text", action="extend", nargs="+", default=[], metavar="TEXT",
                        help="a string (for example a hostile record) that must show as text, not markup")
    parser.add_argument("--min-charts", type=int, default=5, help="fewest svg.chart elements accepted (default 5)")
    parser.add_argument("--pdf", help="also save the page printed as A4 PDF here")
    args = parser.parse_args()

    html = Path(args.report_html).resolve()
    if not html.is_file():
        parser.error(f"{html} does not exist")
    chromium = find_chromium()
    if not chromium:
        print("check_browser: no Chromium found; install Debian's `chromium` or set CHROMIUM", file=sys.stderr)
        return 2
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("check_browser: the playwright package is missing; run tools/report/check_browser.sh, "
              "which sets up .build/report-venv", file=sys.stderr)
        return 2

    started = time.monotonic()
    report = Report()
    page_url = html.as_uri()
    console_errors, page_errors, dialogs, blocked = [], [], [], []

    def route(route_request):
        url = route_request.request.url
        if url == page_url or url.split("#")[0] == page_url:
            route_request.continue_()
        else:
            blocked.append(url[:120])
            route_request.abort("blockedbyclient")

    def dialog(d):
        dialogs.append(f"{d.type}({d.message!r})")
        d.dismiss()

    with sync_playwright() as playwright:
        try:
            # Chromium's sandbox cannot start as root; Playwright passes --no-sandbox when chromium_sandbox is False.
            browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                                 chromium_sandbox=os.geteuid() != 0)
        except Exception as error:
            print(f"check_browser: Chromium ({chromium}) did not start: {error}", file=sys.stderr)
            return 2
        context = browser.new_context(viewport=SCREEN_VIEWPORT, service_workers="block")
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.route("**/*", route)
        page = context.new_page()
        page.on("websocket", lambda ws: blocked.append(ws.url[:120]))
        page.on("console", lambda m: console_errors.append(m.text[:200]) if m.type == "error" else None)
        page.on("pageerror", lambda e: page_errors.append(str(e)[:200]))
        page.on("dialog", dialog)

        print(f"check_browser: {html} in {browser.browser_type.name} {browser.version} ({chromium})")
        page.goto(page_url, wait_until="load")
        wait_for_paint(page)
        page.screenshot(path=args.screenshot, full_page=True)
        print(f"      screenshot: {args.screenshot}")

        check_charts(page, report, args.min_charts)
        check_self_contained(page, html.read_text(encoding="utf-8", errors="replace"), blocked, report)
        check_hostile_text(page, args.expect_text, report)
        check_tables(page, report, lambda: len(console_errors) + len(page_errors) + len(dialogs))
        check_print(page, report, args.pdf)

        # Events from everything above, sorting clicks included.
        report.expect(not console_errors, "no console errors", "none", " | ".join(console_errors[:5]))
        report.expect(not page_errors, "no page errors", "none", " | ".join(page_errors[:5]))
        report.expect(not dialogs, "no dialogs", "none", ", ".join(dialogs[:5]) + " (script ran from the page's data?)")
        browser.close()

    seconds = time.monotonic() - started
    if report.failures:
        print(f"check_browser: {len(report.failures)} check(s) failed in {seconds:.1f} s:", file=sys.stderr)
        for failure in report.failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print(f"check_browser: all checks passed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
