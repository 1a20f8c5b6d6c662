import Foundation
import RefineryRecords
import RefinerySpec

/// `kind: bilingual_subtitles` — pairs of subtitle files of the same title in two languages, matched by a naming
/// rule (`Title.en.srt` / `Title.fr.srt`), aligned by time (``CueAligner``), and emitted as translation chats:
/// user "Translate to French: <line>", assistant "<the French line>", with `scores.alignment`, `lang` the target
/// language and `meta` `{from, to, target_file, target_line, start_ms, end_ms}`. Id: `source/<from file>:LINE`
/// of the group's first source cue.
///
/// Options: `from`, `to` (language codes, required); `pair_by` (default `"{title}.{lang}.{ext}"`, matched against
/// the path relative to the glob's folder; `{title}` any text, `{lang}` a code like `fr` or `pt-BR`, `{ext}` a
/// subtitle extension, optionally followed by `.zst`); `min_alignment` (default 0.5); `prompt` (default
/// `"Translate to {language}: {text}"`, `{language}` the English name of `to`); `max_document_bytes`
/// (default 16MiB); and those of ``SubtitleDecoder``.
///
/// Rejects: `low_alignment` (a group below `min_alignment`, or a source line with no partner), `unpaired_file`
/// (a file whose name does not match, whose language is neither `from` nor `to`, or whose title lacks the other
/// file), and the parsers' reasons for malformed cues in either file. Events: `target_cue_unaligned`.
public struct BilingualSubtitleFormat: RecordFormat {
    /// A record pairs or gathers lines of several files: the whole source is one work unit.
    public var unitsSpanFiles: Bool { true }

    var decoder: SubtitleDecoder
    var aligner = CueAligner()
    public var from: String
    public var to: String
    public var minAlignment = 0.5
    public var maxDocumentBytes = 16 << 20
    /// The naming rule as a regular expression (compiled where used: `Regex` is not `Sendable`).
    var pattern: String
    var prompt: (before: String, after: String)
    var language: String

    public init(options: SpecNode?) throws {
        guard let options else {
            throw RefineryError(.spec, "bilingual_subtitles needs options: from and to (language codes)")
        }
        let table = try options.table(allowed: SubtitleDecoder.optionKeys + ["from", "to", "pair_by", "min_alignment", "prompt", "max_document_bytes"])
        decoder = try SubtitleDecoder(options: table)
        from = try table.require("from").string()
        to = try table.require("to").string()
        if from == to { throw options.error("from and to are both '\(from)'") }
        if let node = table.optional("min_alignment") {
            minAlignment = try node.double()
            guard minAlignment > 0, minAlignment <= 1 else { throw node.error("must be above 0 and at most 1, found \(minAlignment)") }
        }
        maxDocumentBytes = try table.optional("max_document_bytes")?.byteSize() ?? maxDocumentBytes
        let rule = try table.optional("pair_by")?.string() ?? "{title}.{lang}.{ext}"
        guard rule.contains("{title}") && rule.contains("{lang}") else {
            throw (table.optional("pair_by") ?? options).error("pair_by must contain {title} and {lang}, found '\(rule)'")
        }
        pattern = Self.regex(for: rule)
        _ = try Regex(pattern)
        let template = try table.optional("prompt")?.string() ?? "Translate to {language}: {text}"
        guard let textRange = template.range(of: "{text}") else {
            throw (table.optional("prompt") ?? options).error("prompt must contain {text}, found '\(template)'")
        }
        language = Locale(identifier: "en").localizedString(forLanguageCode: to) ?? to
        prompt = (String(template[..<textRange.lowerBound]).replacingOccurrences(of: "{language}", with: language),
                  String(template[textRange.upperBound...]).replacingOccurrences(of: "{language}", with: language))
    }

    /// The naming rule as a regular expression: literals escaped, placeholders as named captures.
    static func regex(for rule: String) -> String {
        var out = "^"
        var rest = Substring(rule)
        let placeholders = ["{title}": "(?<title>.+)", "{lang}": "(?<lang>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,4})?)",
                            "{ext}": "(?:srt|vtt|ass|ssa|SRT|VTT|ASS|SSA)"]
        while !rest.isEmpty {
            if let (key, value) = placeholders.first(where: { rest.hasPrefix($0.key) }) {
                out += value
                rest = rest.dropFirst(key.count)
            } else {
                let c = rest.removeFirst()
                out += c.isLetter || c.isNumber ? String(c) : "\\" + String(c)
            }
        }
        return out + "(?:\\.zst)?$"
    }

    public func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> LineSplitter.Counts {
        // Only reached through splitSource, which pairs files first.
        try splitSource([], into: builder)
    }

    public func splitSource(_ files: [SourceFile], into builder: BatchBuilder) throws -> LineSplitter.Counts {
        var counts = LineSplitter.Counts()
        var titles: [String] = []
        var byTitle: [String: (from: SourceFile?, to: SourceFile?)] = [:]
        func unpaired(_ file: SourceFile, _ detail: String) throws {
            counts.lines += 1
            try builder.add([], fileIndex: file.index, line: 1,
                            problem: .rejected(DecodeFailure(reason: "unpaired_file", detail: detail)))
        }
        let regex = try Regex(pattern)
        for file in files {
            guard let match = try? regex.wholeMatch(in: file.file.relativePath),
                  let title = match["title"]?.substring.map(String.init), let lang = match["lang"]?.substring.map(String.init)
            else {
                try unpaired(file, "'\(file.file.relativePath)' does not match pair_by")
                continue
            }
            guard lang == from || lang == to else {
                try unpaired(file, "language '\(lang)' is neither from (\(from)) nor to (\(to))")
                continue
            }
            if byTitle[title] == nil { titles.append(title) }
            var pair = byTitle[title] ?? (nil, nil)
            if (lang == from ? pair.from : pair.to) != nil {
                try unpaired(file, "a second '\(lang)' file for title '\(title)'; each title pairs one \(from) file with one \(to) file")
                continue
            }
            if lang == from { pair.from = file } else { pair.to = file }
            byTitle[title] = pair
        }
        for title in titles {
            let pair = byTitle[title]!
            guard let source = pair.from, let target = pair.to else {
                let lone = (pair.from ?? pair.to)!
                try unpaired(lone, "no \(pair.from == nil ? from : to) file for title '\(title)'")
                continue
            }
            let streamA = try source.open(), streamB = try target.open()
            let a = WholeFile.read(streamA, limit: maxDocumentBytes)
            let b = WholeFile.read(streamB, limit: maxDocumentBytes)
            counts.bytes += streamA.bytesRead + streamB.bytesRead
            counts.lines += 1
            if a.problem != nil || b.problem != nil {
                // Each file is accounted for: the unreadable one with its problem, its partner as unpaired.
                for (side, read, other) in [(source, a, target), (target, b, source)] {
                    if let problem = read.problem {
                        try builder.add(read.bytes, fileIndex: side.index, line: 1, problem: problem)
                    } else {
                        try unpaired(side, "its partner '\(other.file.relativePath)' could not be read")
                    }
                }
                counts.lines += 1
                continue
            }
            try builder.add(PairUnit.encode(targetRelativePath: target.file.relativePath, targetPath: target.file.path,
                                            source: a.bytes, target: b.bytes),
                            fileIndex: source.index, line: 1, inputBytes: a.bytes.count + b.bytes.count)
        }
        return counts
    }

    public func decodeUnit(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext, into output: inout DecodedUnit) {
        guard let unit = PairUnit.decode(bytes) else {
            output.reject(DecodeFailure(reason: "decode_error", detail: "internal: malformed pair unit"), context: context, raw: "")
            return
        }
        let rejectsBefore = output.rejects.count
        var targetContext = context
        targetContext.relativePath = unit.targetRelativePath
        targetContext.path = unit.targetPath
        var sides: [ParsedSubtitles] = []
        for (side, at) in [(unit.source, context), (unit.target, targetContext)] {
            do {
                let kind = try decoder.kind(of: at.relativePath)
                var parsed = try side.withUnsafeBufferPointer { buffer throws(DecodeFailure) in try decoder.decode(buffer, kind: kind) }
                for (event, count) in parsed.events { output.note(event, count: count) }
                for problem in parsed.problems { output.reject(problem.failure, context: at, line: problem.line, raw: problem.raw) }
                parsed.cues = parsed.cues.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
                sides.append(parsed)
            } catch {
                output.reject(error, context: at, raw: String(decoding: side.prefix(LineSplitter.previewBytes), as: UTF8.self))
                return
            }
        }
        let source = sides[0].cues, target = sides[1].cues
        let (groups, unaligned) = aligner.align(source, target)
        output.note("target_cue_unaligned", count: unaligned)
        if groups.isEmpty && output.rejects.count == rejectsBefore {
            output.reject(DecodeFailure(reason: "no_cues", detail: "no \(from) cue with text to align"), context: context, raw: "")
        }
        for group in groups {
            let sourceText = group.source.map { sides[0].string(source[$0]) }.joined(separator: "\n")
            var at = context
            at.line = source[group.source[0]].line
            guard !group.target.isEmpty, group.score >= minAlignment else {
                let detail = group.target.isEmpty
                    ? "no \(to) cue overlaps this \(from) line"
                    : String(format: "alignment %.3f below min_alignment %.3g", group.score, minAlignment)
                let targetText = group.target.map { sides[1].string(target[$0]) }.joined(separator: "\n")
                output.reject(DecodeFailure(reason: "low_alignment", detail: detail), context: at,
                              raw: targetText.isEmpty ? sourceText : sourceText + "\n=>\n" + targetText)
                continue
            }
            let cues = group.source.map { source[$0] } + group.target.map { target[$0] }
            var record = at.makeRecord()
            record.lang = to
            record.messages = [
                Message(role: "user", content: prompt.before + sourceText + prompt.after),
                Message(role: "assistant", content: group.target.map { sides[1].string(target[$0]) }.joined(separator: "\n")),
            ]
            record.setScore("alignment", (group.score * 1000).rounded() / 1000)
            record.meta = [
                ("from", .string(from)), ("to", .string(to)), ("target_file", .string(unit.targetRelativePath)),
                ("target_line", .number("\(target[group.target[0]].line)")),
                ("start_ms", .number("\(cues.map(\.start).min()!)")), ("end_ms", .number("\(cues.map(\.end).max()!)")),
            ]
            output.records.append(record)
        }
    }
}

/// The unit of a file pair: both files' bytes and where the target file is, length-prefixed.
enum PairUnit {
    static func encode(targetRelativePath: String, targetPath: String, source: [UInt8], target: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(source.count + target.count + 64)
        for field in [Array(targetRelativePath.utf8), Array(targetPath.utf8), source] {
            withUnsafeBytes(of: UInt64(field.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: field)
        }
        out.append(contentsOf: target)
        return out
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> (targetRelativePath: String, targetPath: String, source: [UInt8], target: [UInt8])? {
        var position = 0
        var fields: [[UInt8]] = []
        for _ in 0..<3 {
            guard position + 8 <= bytes.count else { return nil }
            var length: UInt64 = 0
            for k in 0..<8 { length |= UInt64(bytes[position + k]) << (8 * UInt64(k)) }
            position += 8
            guard length <= UInt64(bytes.count - position) else { return nil }
            fields.append(Array(bytes[position..<(position + Int(length))]))
            position += Int(length)
        }
        return (String(decoding: fields[0], as: UTF8.self), String(decoding: fields[1], as: UTF8.self), fields[2], Array(bytes[position...]))
    }
}
