/// Makes a cue's text plain: removes markup that subtitle tools write into the text, and (when the spec asks)
/// hearing-impaired annotations.
///
/// Always: HTML-ish tags (`<i>`, `<font color=…>`, WebVTT `<v Name>`, `<c.yellow>`, `<00:00:01.000>`), override
/// blocks `{\an8}` (in ASS files every `{…}` block), ASS escapes (`\N`, `\n` → line break, `\h` → space), the
/// character references WebVTT allows (`&amp;`, `&lt;`, `&gt;`, `&nbsp;`, `&lrm;`, `&rlm;`, `&quot;`, `&apos;`),
/// then surrounding spaces, runs of spaces, and lines left empty or holding a lone dash.
///
/// With `hearingImpaired` removal: `[door slams]` spans, `(…)` spans that fill a line or hold no lower-case
/// letter (`(MAN:)`, `(SIGHS)`), upper-case speaker labels at the start of a line (`JOHN:`), and lines carrying
/// music notes `♪`/`♫` (sung lyrics). A parenthesis with lower-case words inside a sentence stays: it is dialogue.
struct CueCleaner: Sendable {
    var removeHearingImpaired: Bool
    var assMarkup: Bool

    /// The cleaned text, and whether hearing-impaired markup was removed from it.
    func clean(_ text: [UInt8]) -> (text: [UInt8], removedHearingImpaired: Bool) {
        let stripped = stripMarkup(text)
        var out: [UInt8] = []
        out.reserveCapacity(stripped.count)
        var removed = false
        var start = 0
        while start <= stripped.count {
            let end = stripped[start...].firstIndex(of: 0x0A) ?? stripped.count
            var line = Array(stripped[start..<end])
            if removeHearingImpaired {
                let before = line.count
                line = removeAnnotations(line)
                if line.count != before { removed = true }
            }
            appendTidied(line, to: &out)
            start = end + 1
        }
        return (out, removed)
    }

    private func stripMarkup(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        let n = text.count
        while i < n {
            let byte = text[i]
            switch byte {
            case UInt8(ascii: "<"):
                if i + 1 < n, Self.isTagStart(text[i + 1]), let close = text[(i + 1)...].firstIndex(of: UInt8(ascii: ">")) {
                    i = close + 1
                    continue
                }
            case UInt8(ascii: "{"):
                if assMarkup || (i + 1 < n && text[i + 1] == UInt8(ascii: "\\")),
                   let close = text[(i + 1)...].firstIndex(of: UInt8(ascii: "}")) {
                    i = close + 1
                    continue
                }
            case UInt8(ascii: "\\") where assMarkup && i + 1 < n:
                switch text[i + 1] {
                case UInt8(ascii: "N"), UInt8(ascii: "n"):
                    out.append(0x0A)
                    i += 2
                    continue
                case UInt8(ascii: "h"):
                    out.append(0x20)
                    i += 2
                    continue
                default:
                    break
                }
            case UInt8(ascii: "&"):
                if let (replacement, length) = Self.entity(text, at: i) {
                    out.append(contentsOf: replacement)
                    i += length
                    continue
                }
            default:
                break
            }
            out.append(byte)
            i += 1
        }
        return out
    }

    private static func isTagStart(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "/")
            || (byte >= 0x30 && byte <= 0x39)
    }

    private static let entities: [(name: [UInt8], replacement: [UInt8])] = [
        ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&nbsp;", " "), ("&lrm;", ""), ("&rlm;", ""), ("&quot;", "\""), ("&apos;", "'"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    private static func entity(_ text: [UInt8], at i: Int) -> ([UInt8], Int)? {
        for entity in entities where i + entity.name.count <= text.count {
            if text[i..<(i + entity.name.count)].elementsEqual(entity.name) { return (entity.replacement, entity.name.count) }
        }
        return nil
    }

    private func removeAnnotations(_ line: [UInt8]) -> [UInt8] {
        // Music notes: ♪ is E2 99 AA, ♫ is E2 99 AB.
        var k = 0
        while k + 2 < line.count {
            if line[k] == 0xE2 && line[k + 1] == 0x99 && (line[k + 2] == 0xAA || line[k + 2] == 0xAB) { return [] }
            k += 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(line.count)
        var i = 0
        while i < line.count {
            let byte = line[i]
            if byte == UInt8(ascii: "["), let close = line[(i + 1)...].firstIndex(of: UInt8(ascii: "]")) {
                i = close + 1
                continue
            }
            if byte == UInt8(ascii: "("), let close = line[(i + 1)...].firstIndex(of: UInt8(ascii: ")")) {
                let inside = line[(i + 1)..<close]
                let fillsLine = line[..<i].allSatisfy(Self.isSpaceOrDash) && line[(close + 1)...].allSatisfy { $0 == 0x20 || $0 == 0x09 }
                if fillsLine || !Self.hasLowercase(inside) {
                    i = close + 1
                    continue
                }
            }
            out.append(byte)
            i += 1
        }
        return Self.removeSpeakerLabel(out)
    }

    private static func isSpaceOrDash(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == UInt8(ascii: "-") }

    private static func hasLowercase(_ bytes: ArraySlice<UInt8>) -> Bool {
        var ascii = true
        for byte in bytes {
            if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { return true }
            if byte >= 0x80 { ascii = false }
        }
        if ascii { return false }
        return String(decoding: bytes, as: UTF8.self).unicodeScalars.contains { $0.properties.isLowercase }
    }

    /// `JOHN:` or `- MAN 2:` at the start of a line (two or more upper-case ASCII letters) loses its label.
    private static func removeSpeakerLabel(_ line: [UInt8]) -> [UInt8] {
        var i = 0
        while i < line.count && isSpaceOrDash(line[i]) { i += 1 }
        let labelStart = i
        var letters = 0
        while i < line.count {
            let byte = line[i]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
                letters += 1
            } else if !(byte == 0x20 || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "'") || (byte >= 0x30 && byte <= 0x39)) {
                break
            }
            i += 1
        }
        guard letters >= 2, i < line.count, line[i] == UInt8(ascii: ":"), i > labelStart else { return line }
        return Array(line[..<labelStart]) + Array(line[(i + 1)...])
    }

    /// Appends a line without surrounding spaces or runs of spaces; skips it when nothing (or a lone dash) is left.
    private func appendTidied(_ line: [UInt8], to out: inout [UInt8]) {
        var first = 0
        var last = line.count
        while first < last && (line[first] == 0x20 || line[first] == 0x09) { first += 1 }
        while last > first && (line[last - 1] == 0x20 || line[last - 1] == 0x09) { last -= 1 }
        if first == last || (last - first == 1 && line[first] == UInt8(ascii: "-")) { return }
        if !out.isEmpty { out.append(0x0A) }
        var previousSpace = false
        for byte in line[first..<last] {
            let isSpace = byte == 0x20 || byte == 0x09
            if isSpace && previousSpace { continue }
            out.append(isSpace ? 0x20 : byte)
            previousSpace = isSpace
        }
    }
}
