/// Makes a cue's text plain: removes markup that subtitle tools write into the text, and (when the spec asks)
/// hearing-impaired annotations.
///
/// Always: HTML-ish tags (`<i>`, `<font color=…>`, WebVTT `<v Name>`, `<c.yellow>`, `<00:00:01.000>`), override
/// blocks `{\an8}` (in ASS files every `{…}` block), ASS escapes (`\N` → line break, `\h` → space, and in ASS files
/// `\n` → line break), the
/// character references WebVTT allows (`&amp;`, `&lt;`, `&gt;`, `&nbsp;`, `&lrm;`, `&rlm;`, `&quot;`, `&apos;`),
/// then surrounding spaces, runs of spaces, and lines left empty or holding a lone dash.
///
/// With `hearingImpaired` removal: `[door slams]` spans, `(…)` spans that fill a line or hold no lower-case
/// letter (`(MAN:)`, `(SIGHS)`), upper-case speaker labels at the start of a line (`JOHN:`), and lines carrying
/// music notes `♪`/`♫` (sung lyrics). A parenthesis with lower-case words inside a sentence stays: it is dialogue.
struct CueCleaner: Sendable {
    var removeHearingImpaired: Bool
    var assMarkup: Bool

    /// Buffers reused from cue to cue, so cleaning allocates nothing per cue.
    struct Scratch {
        var stripped: [UInt8] = []
        var line: [UInt8] = []
    }

    /// Appends the cleaned text of `bytes[range]` to `arena` (lines joined by `\n`).
    /// - Returns: whether hearing-impaired markup was removed.
    func clean(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into arena: inout [UInt8], scratch: inout Scratch) -> Bool {
        if Self.isPlain(bytes, range) {
            // Most cues hold no markup at all: only lines to tidy, copied straight from the file's bytes.
            let begin = arena.count
            var start = range.lowerBound
            while start <= range.upperBound {
                var end = start
                while end < range.upperBound && bytes[end] != 0x0A { end += 1 }
                appendTidied(bytes, start..<end, to: &arena, begin: begin)
                start = end + 1
            }
            return false
        }
        stripMarkup(bytes, range, into: &scratch.stripped)
        var removed = false
        let begin = arena.count
        var start = 0
        let stripped = scratch.stripped
        while start <= stripped.count {
            var end = start
            while end < stripped.count && stripped[end] != 0x0A { end += 1 }
            if removeHearingImpaired {
                scratch.line.removeAll(keepingCapacity: true)
                if removeAnnotations(stripped, start..<end, into: &scratch.line) { removed = true }
                appendTidied(scratch.line, 0..<scratch.line.count, to: &arena, begin: begin)
            } else {
                appendTidied(stripped, start..<end, to: &arena, begin: begin)
            }
            start = end + 1
        }
        return removed
    }

    /// Whether a cue's text has none of the bytes that start markup, an annotation or a CR (`<`, `{`, `\\`, `&`,
    /// `[`, `(`, `:`, the lead byte of `♪`), and so needs only tidying.
    private static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        for k in range {
            switch bytes[k] {
            case UInt8(ascii: "<"), UInt8(ascii: "{"), UInt8(ascii: "\\"), UInt8(ascii: "&"), UInt8(ascii: "["), UInt8(ascii: "("),
                 UInt8(ascii: ":"), 0xE2, 0x0D:
                return false
            default:
                continue
            }
        }
        return true
    }

    /// Copies the text without tags, override blocks, escapes and entities; CR and LF both become `\n`.
    private func stripMarkup(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var i = range.lowerBound
        let n = range.upperBound
        func find(_ byte: UInt8, from: Int) -> Int? {
            var j = from
            while j < n {
                if text[j] == byte { return j }
                j += 1
            }
            return nil
        }
        while i < n {
            let byte = text[i]
            switch byte {
            case 0x0D:
                out.append(0x0A)
                i += i + 1 < n && text[i + 1] == 0x0A ? 2 : 1
                continue
            case UInt8(ascii: "<"):
                if i + 1 < n, let close = find(UInt8(ascii: ">"), from: i + 1), Self.isTag(text, i + 1..<close) {
                    i = close + 1
                    continue
                }
            case UInt8(ascii: "{"):
                if assMarkup || (i + 1 < n && text[i + 1] == UInt8(ascii: "\\")), let close = find(UInt8(ascii: "}"), from: i + 1) {
                    i = close + 1
                    continue
                }
            case UInt8(ascii: "\\") where i + 1 < n:
                // ASS line breaks and hard spaces also turn up in SRT files converted from ASS; `\n` only in ASS.
                switch text[i + 1] {
                case UInt8(ascii: "N"):
                    out.append(0x0A)
                    i += 2
                    continue
                case UInt8(ascii: "n") where assMarkup:
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
                if let (replacement, length) = Self.entity(text, at: i, end: n) {
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
    }

    /// Whether `<…>` holds a tag: a name (`i`, `/font`, `v Bob`, `c.yellow`) or a WebVTT timestamp (digits,
    /// `:` and `.` only). `2<3 and 5>1` is text.
    private static func isTag(_ text: UnsafeBufferPointer<UInt8>, _ inside: Range<Int>) -> Bool {
        guard let first = inside.first.map({ text[$0] }) else { return false }
        if (first | 0x20) >= UInt8(ascii: "a") && (first | 0x20) <= UInt8(ascii: "z") || first == UInt8(ascii: "/") { return true }
        guard first >= 0x30 && first <= 0x39 else { return false }
        for k in inside where !(text[k] >= 0x30 && text[k] <= 0x39) && text[k] != UInt8(ascii: ":") && text[k] != UInt8(ascii: ".") {
            return false
        }
        return true
    }

    private static let entities: [(name: [UInt8], replacement: [UInt8])] = [
        ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&nbsp;", " "), ("&lrm;", ""), ("&rlm;", ""), ("&quot;", "\""), ("&apos;", "'"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    private static func entity(_ text: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> ([UInt8], Int)? {
        for entity in entities where i + entity.name.count <= end {
            if text[i..<(i + entity.name.count)].elementsEqual(entity.name) { return (entity.replacement, entity.name.count) }
        }
        return nil
    }

    /// Copies one line without hearing-impaired annotations into `out`.
    /// - Returns: whether anything was removed.
    private func removeAnnotations(_ line: [UInt8], _ range: Range<Int>, into out: inout [UInt8]) -> Bool {
        // Music notes: ♪ is E2 99 AA, ♫ is E2 99 AB.
        var k = range.lowerBound
        while k + 2 < range.upperBound {
            if line[k] == 0xE2 && line[k + 1] == 0x99 && (line[k + 2] == 0xAA || line[k + 2] == 0xAB) { return true }
            k += 1
        }
        var removed = false
        var i = range.lowerBound
        let outStart = out.count
        func close(_ byte: UInt8, after: Int) -> Int? {
            var j = after + 1
            while j < range.upperBound {
                if line[j] == byte { return j }
                j += 1
            }
            return nil
        }
        while i < range.upperBound {
            let byte = line[i]
            if byte == UInt8(ascii: "["), let end = close(UInt8(ascii: "]"), after: i) {
                i = end + 1
                removed = true
                continue
            }
            if byte == UInt8(ascii: "("), let end = close(UInt8(ascii: ")"), after: i) {
                var fillsLine = true
                for j in range.lowerBound..<i where !Self.isSpaceOrDash(line[j]) { fillsLine = false; break }
                if fillsLine { for j in (end + 1)..<range.upperBound where line[j] != 0x20 && line[j] != 0x09 { fillsLine = false; break } }
                if fillsLine || !Self.hasLowercase(line[(i + 1)..<end]) {
                    i = end + 1
                    removed = true
                    continue
                }
            }
            out.append(byte)
            i += 1
        }
        // A speaker label at the start of what is left; the dash of a dialogue line stays ("- JOHN: Hi" → "- Hi").
        if let colon = Self.speakerLabelEnd(out, outStart..<out.count) {
            var labelStart = outStart
            while labelStart < colon && Self.isSpaceOrDash(out[labelStart]) { labelStart += 1 }
            out.removeSubrange(labelStart...colon)
            removed = true
        }
        return removed
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

    /// Where the colon of a speaker label is: `JOHN:` or `- MAN 2:` at the start of a line (two or more
    /// upper-case ASCII letters, digits, spaces, `.` and `'`).
    private static func speakerLabelEnd(_ line: [UInt8], _ range: Range<Int>) -> Int? {
        var i = range.lowerBound
        while i < range.upperBound && isSpaceOrDash(line[i]) { i += 1 }
        let labelStart = i
        var letters = 0
        while i < range.upperBound {
            let byte = line[i]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
                letters += 1
            } else if !(byte == 0x20 || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "'") || (byte >= 0x30 && byte <= 0x39)) {
                break
            }
            i += 1
        }
        guard letters >= 2, i < range.upperBound, line[i] == UInt8(ascii: ":"), i > labelStart else { return nil }
        return i
    }

    /// Appends a line without surrounding spaces or runs of spaces, after a `\n` unless it is the cue's first;
    /// skips it when nothing (or a lone dash) is left.
    private func appendTidied(_ line: [UInt8], _ range: Range<Int>, to out: inout [UInt8], begin: Int) {
        line.withUnsafeBufferPointer { appendTidied($0, range, to: &out, begin: begin) }
    }

    private func appendTidied(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, to out: inout [UInt8], begin: Int) {
        var first = range.lowerBound
        var last = range.upperBound
        while first < last && (line[first] == 0x20 || line[first] == 0x09) { first += 1 }
        while last > first && (line[last - 1] == 0x20 || line[last - 1] == 0x09) { last -= 1 }
        if first == last || (last - first == 1 && line[first] == UInt8(ascii: "-")) { return }
        if out.count > begin { out.append(0x0A) }
        var tidy = true
        var k = first
        while k < last {
            if line[k] == 0x09 || (line[k] == 0x20 && line[k + 1] == 0x20) {
                tidy = false
                break
            }
            k += 1
        }
        if tidy {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: line[first..<last]))
            return
        }
        var previousSpace = false
        for k in first..<last {
            let byte = line[k]
            let isSpace = byte == 0x20 || byte == 0x09
            if isSpace && previousSpace { continue }
            out.append(isSpace ? 0x20 : byte)
            previousSpace = isSpace
        }
    }
}
