import RefineryRecords
import RefineryStages

/// Makes a record's text fit to show: PII redacted with the PII stage's scanner and placeholders, control
/// characters made visible, and cut to a length a page can hold.
///
/// Records the `pii` stage dropped are already redacted, but those dropped before it (by the reader or `validate`)
/// still hold raw addresses, numbers and secrets: every example goes through here.
struct ExampleText: Sendable {
    /// Characters (Unicode scalars) shown before the text is cut with "…".
    var limit: Int
    let scanner = PIIScanner()

    init(limit: Int = 300) {
        self.limit = limit
    }

    /// The report's: texts cut at 300 characters.
    static let standard = ExampleText()

    /// The text to show of a record (or of a reader reject's raw text), redacted and cut.
    /// - Returns: the text, whether it was cut, and how many matches were redacted.
    func render(_ text: String) -> (text: String, truncated: Bool, redactions: Int) {
        // Cut first so a huge reject is not scanned whole, but far enough out (64 Ki characters) that no amount of
        // redaction before the cut (a PEM key shrinks to `<SECRET>`) can pull a match the cut split into view.
        let margin = max(limit * 4, 65_536)
        let head = prefix(text, margin)
        let (redacted, redactions) = redact(head.text)
        let shown = prefix(redacted, limit)
        return (visible(shown.text) + (shown.truncated || head.truncated ? "…" : ""), shown.truncated || head.truncated, redactions)
    }

    /// The text of a record as JSON: `text`, chat turns as `role: content` lines, or an interaction history's items;
    /// `raw` for a unit the reader could not parse.
    static func content(of value: JSONValue) -> String {
        if let text = value["text"]?.stringValue { return text }
        if case .array(let messages)? = value["messages"] {
            return messages.map { message in
                "\(message["role"]?.stringValue ?? "?"): \(message["content"]?.stringValue ?? "")"
            }.joined(separator: "\n")
        }
        if case .array(let items)? = value["items"] {
            return "items: " + items.map { $0.stringValue ?? "?" }.joined(separator: ", ")
        }
        return value["raw"]?.stringValue ?? ""
    }

    /// Replaces every PII match by its type's placeholder.
    func redact(_ text: String) -> (text: String, count: Int) {
        let matches = scanner.matches(in: text)
        guard !matches.isEmpty else { return (text, 0) }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var from = 0
        for match in matches where match.range.lowerBound >= from {
            out += bytes[from..<match.range.lowerBound]
            out += match.type.placeholder.utf8
            from = match.range.upperBound
        }
        out += bytes[from...]
        return (String(decoding: out, as: UTF8.self), matches.count)
    }

    /// The first `count` Unicode scalars.
    private func prefix(_ text: String, _ count: Int) -> (text: String, truncated: Bool) {
        let scalars = text.unicodeScalars
        guard let end = scalars.index(scalars.startIndex, offsetBy: count, limitedBy: scalars.endIndex), end != scalars.endIndex else {
            return (text, false)
        }
        return (String(scalars[..<end]), true)
    }

    /// Control characters other than tab and newline shown as U+FFFD; CRLF as a newline.
    private func visible(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0D: continue
            case 0x09, 0x0A: out.append(scalar)
            case 0..<0x20, 0x7F..<0xA0: out.append("\u{FFFD}")
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}
