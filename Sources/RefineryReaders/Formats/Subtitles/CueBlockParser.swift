/// Parses SRT and WebVTT, which share a shape: blocks separated by blank lines, each an optional number or
/// identifier, a timing line `START --> END [settings]`, and text lines.
///
/// - SRT: numbered or unnumbered cues, `H:MM:SS,mmm` timestamps (`.` accepted for `,`), multi-line text. Files
///   that omit the blank line between cues are read too: a timing line always starts a new cue (and a number just
///   before it is that cue's number, not text).
/// - WebVTT: the `WEBVTT` header (and its header block), `NOTE`, `STYLE` and `REGION` blocks (skipped), cue
///   identifiers, cue settings after the end time (ignored), hours optional in timestamps.
///
/// Malformed blocks become problems with their first line: `missing_timestamps` (text with no timing line),
/// `invalid_timestamp` (a timing line that does not parse: a timestamp cut short or garbled; see
/// ``SubtitleTime``), `truncated_cue` (a timing line with nothing after it at the end of the file),
/// `missing_webvtt_header`. Events: `empty_cue` (a cue with no text), `note_skipped`, `style_skipped`,
/// `region_skipped`.
public struct CueBlockParser: Sendable {
    public var webVTT: Bool

    public init(webVTT: Bool) { self.webVTT = webVTT }

    /// Cues with text ranges into `bytes` (UTF-8), problems and events.
    public func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ParsedSubtitles {
        var result = ParsedSubtitles()
        var cursor = LineCursor(bytes)
        let timeStyle: SubtitleTime.Style = webVTT ? .webVTT : .srt
        if webVTT {
            guard let first = cursor.next(), Self.isWebVTTSignature(bytes, first.range) else {
                result.problem("missing_webvtt_header", "a WebVTT file starts with a line 'WEBVTT'", line: 1,
                               raw: String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<min(bytes.count, 200)]), as: UTF8.self))
                return result
            }
            // The header block runs to the first blank line, or to a timing line (a cue right after the header).
            while let line = cursor.next(), !cursor.isBlank(line.range) {
                if Self.arrow(in: bytes, line.range) != nil {
                    cursor.position = line.range.lowerBound
                    cursor.number = line.number
                    break
                }
            }
        }

        // The block being read: its lines so far, and the cue once its timing line was seen.
        var blockLines: [(range: Range<Int>, number: Int)] = []
        var cue: Cue?
        // The open cue's text lines: where the last one and the one before it end (to drop a trailing number).
        var textLines = 0
        var lastTextStart = 0
        var previousTextEnd = 0
        var skipping = false

        func flushOrphan() {
            // Lines outside any cue (a number whose timing line is missing counts too): one reject for the block.
            defer { blockLines.removeAll(keepingCapacity: true) }
            guard let first = blockLines.first else { return }
            let raw = blockLines.map { cursor.string($0.range) }.joined(separator: "\n")
            result.problem("missing_timestamps", "text without a 'START --> END' timing line", line: first.number, raw: raw)
        }
        func finishCue(truncated: Bool = false) {
            guard let done = cue else { return }
            cue = nil
            if done.text.isEmpty || textLines == 0 {
                if truncated {
                    result.problem("truncated_cue", "the file ends after a timing line, with no cue text", line: done.line,
                                   raw: blockLines.map { cursor.string($0.range) }.joined(separator: "\n"))
                } else {
                    result.note("empty_cue")
                }
            } else {
                result.cues.append(done)
            }
            blockLines.removeAll(keepingCapacity: true)
        }

        // Closes the open cue when a timing line follows it without a blank line; the cue's last text line, if a
        // bare number, is the next cue's number. Returns where the next block starts and that number's range.
        func closeOpenCue(before line: (range: Range<Int>, number: Int)) -> (first: Int, number: Range<Int>?) {
            guard var open = cue else { return (line.number, nil) }
            var result: (first: Int, number: Range<Int>?) = (line.number, nil)
            if textLines > 0 && Self.isNumber(bytes, lastTextStart..<open.text.upperBound) {
                result = (line.number - 1, lastTextStart..<open.text.upperBound)
                textLines -= 1
                open.text = textLines == 0 ? open.text.lowerBound..<open.text.lowerBound : open.text.lowerBound..<previousTextEnd
            }
            cue = open
            finishCue()
            return result
        }

        while let line = cursor.next() {
            let range = line.range
            if cursor.isBlank(range) {
                if cue != nil { finishCue() } else if !skipping { flushOrphan() }
                skipping = false
                continue
            }
            if skipping { continue }
            if cue == nil && blockLines.isEmpty && webVTT, let kind = Self.skippedBlock(bytes, range) {
                result.note(kind)
                skipping = true
                continue
            }
            if let arrow = Self.arrow(in: bytes, range) {
                guard let start = SubtitleTime.parse(bytes, at: range.lowerBound, end: arrow, style: timeStyle),
                      Self.onlySpaces(bytes, start.next..<arrow),
                      let end = SubtitleTime.parse(bytes, at: arrow + 3, end: range.upperBound, style: timeStyle),
                      end.next == range.upperBound || bytes[end.next] == 0x20 || bytes[end.next] == 0x09
                else {
                    // The whole block is unusable; skip to its end. A bare number just before it is its number.
                    var raw: [String] = []
                    let header: Int
                    if cue != nil {
                        let closed = closeOpenCue(before: line)
                        header = closed.first
                        if let number = closed.number { raw.append(cursor.string(number)) }
                        raw.append(cursor.string(range))
                    } else {
                        blockLines.append(line)
                        header = blockLines.first!.number
                        raw = blockLines.map { cursor.string($0.range) }
                    }
                    blockLines.removeAll(keepingCapacity: true)
                    while let more = cursor.next(), !cursor.isBlank(more.range) { raw.append(cursor.string(more.range)) }
                    result.problem("invalid_timestamp", "cannot read '\(cursor.string(range))' as '\(timeStyle.pattern) --> \(timeStyle.pattern)'",
                                   line: header, raw: raw.joined(separator: "\n"))
                    continue
                }
                var first = line.number
                if cue != nil {
                    first = closeOpenCue(before: line).first
                } else if let previous = blockLines.last {
                    // An SRT number or a WebVTT identifier; anything before it is stray text.
                    blockLines.removeLast()
                    flushOrphan()
                    first = previous.number
                    blockLines.append(previous)
                }
                blockLines.append(line)
                cue = Cue(start: start.ms, end: end.ms, text: range.upperBound..<range.upperBound, line: first)
                textLines = 0
                continue
            }
            blockLines.append(line)
            if cue != nil {
                if textLines == 0 {
                    cue!.text = range
                } else {
                    previousTextEnd = cue!.text.upperBound
                    cue!.text = cue!.text.lowerBound..<range.upperBound
                }
                lastTextStart = range.lowerBound
                textLines += 1
            }
        }
        if cue != nil { finishCue(truncated: true) } else if !skipping { flushOrphan() }
        return result
    }

    /// The index of `-->` in a line, if any.
    static func arrow(in bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        var i = range.lowerBound
        while i + 2 < range.upperBound {
            if bytes[i] == 0x2D && bytes[i + 1] == 0x2D && bytes[i + 2] == 0x3E { return i }
            i += 1
        }
        return nil
    }

    static func onlySpaces(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        for i in range where bytes[i] != 0x20 && bytes[i] != 0x09 { return false }
        return true
    }

    static func isNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var digits = 0
        for byte in bytes[range] {
            if byte >= 0x30 && byte <= 0x39 { digits += 1 } else if byte != 0x20 && byte != 0x09 { return false }
        }
        return digits > 0
    }

    private static let signature = Array("WEBVTT".utf8)
    private static let skippedKeywords = [("NOTE", "note_skipped"), ("STYLE", "style_skipped"), ("REGION", "region_skipped")]
        .map { (Array($0.0.utf8), $0.1) }

    static func isWebVTTSignature(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard range.count >= 6 else { return false }
        for (k, byte) in signature.enumerated() where bytes[range.lowerBound + k] != byte { return false }
        return range.count == 6 || bytes[range.lowerBound + 6] == 0x20 || bytes[range.lowerBound + 6] == 0x09
    }

    /// `note_skipped`, `style_skipped` or `region_skipped` when a WebVTT block starts with that keyword.
    static func skippedBlock(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        let first = bytes[range.lowerBound]
        guard first == UInt8(ascii: "N") || first == UInt8(ascii: "S") || first == UInt8(ascii: "R") else { return nil }
        for (word, event) in skippedKeywords where range.count >= word.count {
            var matches = true
            for (k, byte) in word.enumerated() where bytes[range.lowerBound + k] != byte { matches = false; break }
            if matches && (range.count == word.count || bytes[range.lowerBound + word.count] == 0x20 || bytes[range.lowerBound + word.count] == 0x09) {
                return event
            }
        }
        return nil
    }
}
