import RefineryRecords
import RefinerySpec

/// `kind: subtitles` — SRT, WebVTT and ASS/SSA files, one unit per file, decoded into dialogue windows: one
/// record per run of consecutive cues (see ``DialogueWindower``), id `source/path:LINE` of the window's first
/// cue, `text` the cue lines, and `meta` `{start, end, start_ms, end_ms, cues, subtitle_format}`.
///
/// Options: those of ``SubtitleDecoder`` (`format`, `encoding`, `hearing_impaired`, `collapse_repeats`), and
/// `max_gap` (seconds of silence that end a window, default 4), `max_window_chars` (bytes, default 2000),
/// `max_window_cues` (default 100), `max_document_bytes` (default 16MiB).
///
/// Rejects: the parsers' (`missing_timestamps`, `invalid_timestamp`, `truncated_cue`, `missing_webvtt_header`,
/// `wrong_column_count`, `missing_events`), `undecodable_text`, `unknown_subtitle_format`, and `no_cues` for a
/// file with nothing to read.
public struct SubtitleFormat: RecordFormat {
    var decoder: SubtitleDecoder
    var windower = DialogueWindower()
    public var maxDocumentBytes = 16 << 20

    public init(options: SpecNode?) throws {
        let table = try options?.table(allowed: SubtitleDecoder.optionKeys + ["max_gap", "max_window_chars", "max_window_cues", "max_document_bytes"])
        decoder = try SubtitleDecoder(options: table)
        windower.collapseRepeats = decoder.collapseRepeats
        if let node = table?.optional("max_gap") {
            let seconds = try node.double()
            guard seconds >= 0, seconds <= 86_400 * 365 else { throw node.error("must be from 0 to 31536000 seconds, found \(seconds)") }
            windower.maxGap = Int(seconds * 1000)
        }
        windower.maxCharacters = try table?.optional("max_window_chars")?.int() ?? windower.maxCharacters
        windower.maxCues = try table?.optional("max_window_cues")?.int() ?? windower.maxCues
        maxDocumentBytes = try table?.optional("max_document_bytes")?.byteSize() ?? maxDocumentBytes
    }

    public func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> LineSplitter.Counts {
        let (content, problem) = WholeFile.read(stream, limit: maxDocumentBytes)
        var counts = LineSplitter.Counts()
        counts.bytes = stream.bytesRead
        counts.lines = 1
        try builder.add(content, fileIndex: fileIndex, line: 1, problem: problem)
        return counts
    }

    public func decodeUnit(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext, into output: inout DecodedUnit) {
        let kind: SubtitleKind
        let parsed: ParsedSubtitles
        do {
            kind = try decoder.kind(of: context.relativePath)
            parsed = try decoder.decode(bytes, kind: kind)
        } catch {
            output.reject(error, context: context, raw: UnsafeBufferPointer(rebasing: bytes.prefix(LineSplitter.previewBytes)))
            return
        }
        for (event, count) in parsed.events { output.note(event, count: count) }
        for problem in parsed.problems {
            output.reject(problem.failure, context: context, line: problem.line, raw: problem.raw)
        }
        var events: [String: Int] = [:]
        let windows = windower.windows(parsed.cues, arena: parsed.arena, events: &events)
        for (event, count) in events { output.note(event, count: count) }
        if windows.isEmpty && parsed.problems.isEmpty {
            output.reject(DecodeFailure(reason: "no_cues", detail: "no cue with text in this \(kind.rawValue) file"),
                          context: context, raw: UnsafeBufferPointer(rebasing: bytes.prefix(LineSplitter.previewBytes)))
        }
        for window in windows {
            var at = context
            at.line = window.line
            var record = at.makeRecord()
            record.text = window.text
            record.meta = [
                ("start", .string(SubtitleTime.format(window.start))), ("end", .string(SubtitleTime.format(window.end))),
                ("start_ms", .number("\(window.start)")), ("end_ms", .number("\(window.end)")),
                ("cues", .number("\(window.cues)")), ("subtitle_format", .string(kind.rawValue)),
            ]
            output.records.append(record)
        }
    }
}
