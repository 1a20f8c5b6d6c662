import RefinerySpec

/// The subtitle file formats.
public enum SubtitleKind: String, Sendable, CaseIterable {
    case srt, vtt, ass

    /// The format a file name implies (`.srt`, `.vtt`, `.ass`/`.ssa`, optionally followed by `.zst`).
    public init?(fileName: String) {
        var name = fileName.lowercased()
        if name.hasSuffix(".zst") { name.removeLast(4) }
        if name.hasSuffix(".srt") { self = .srt } else if name.hasSuffix(".vtt") { self = .vtt }
        else if name.hasSuffix(".ass") || name.hasSuffix(".ssa") { self = .ass } else { return nil }
    }
}

/// From a subtitle file's bytes to clean cues: text decoding, parsing by format, cleaning. Shared by
/// ``SubtitleFormat`` and ``BilingualSubtitleFormat``, configured by the same options:
///
/// - `format`: `auto` (by file extension, the default), `srt`, `vtt` or `ass`.
/// - `encoding`: how to read files that are not UTF-8 or UTF-16 (default `windows-1252`; see
///   ``SubtitleText/Legacy/names``). Every such file counts a `subtitle_redecoded` event.
/// - `hearing_impaired`: `remove` (default) or `keep`.
/// - `collapse_repeats`: merge rolling-caption repeats (default true).
struct SubtitleDecoder: Sendable {
    static let optionKeys = ["format", "encoding", "hearing_impaired", "collapse_repeats"]

    var kind: SubtitleKind?
    var legacy: SubtitleText.Legacy = .windows1252
    var removeHearingImpaired = true
    var collapseRepeats = true

    init(options table: SpecTable?) throws {
        if let node = table?.optional("format") {
            let name = try node.string()
            if name != "auto" {
                guard let kind = SubtitleKind(rawValue: name) else { throw node.error("must be auto, srt, vtt or ass; found '\(name)'") }
                self.kind = kind
            }
        }
        if let node = table?.optional("encoding") {
            guard let legacy = SubtitleText.Legacy(name: try node.string()) else {
                throw node.error("unknown encoding '\(try node.string())'; known: \(SubtitleText.Legacy.names.joined(separator: ", "))")
            }
            self.legacy = legacy
        }
        if let node = table?.optional("hearing_impaired") {
            switch try node.string() {
            case "remove": removeHearingImpaired = true
            case "keep": removeHearingImpaired = false
            default: throw node.error("must be 'remove' or 'keep', found '\(try node.string())'")
            }
        }
        collapseRepeats = try table?.optional("collapse_repeats")?.bool() ?? true
    }

    /// The format of a file, or a failure naming the file when its extension says nothing and `format` is `auto`.
    func kind(of relativePath: String) throws(DecodeFailure) -> SubtitleKind {
        if let kind { return kind }
        guard let kind = SubtitleKind(fileName: relativePath) else {
            throw DecodeFailure(reason: "unknown_subtitle_format",
                                detail: "cannot tell the format of '\(relativePath)' from its extension; set options.format to srt, vtt or ass")
        }
        return kind
    }

    /// Clean, non-empty cues in file order (texts in `arena`), with problems and events.
    func decode(_ bytes: UnsafeBufferPointer<UInt8>, kind: SubtitleKind) throws(DecodeFailure) -> ParsedSubtitles {
        switch try SubtitleText.decode(bytes, legacy: legacy) {
        case .inPlace(let offset):
            return clean(parse(UnsafeBufferPointer(rebasing: bytes[offset...]), kind: kind), kind: kind)
        case .transcoded(let text, let origin):
            var parsed = text.withUnsafeBufferPointer { clean(parse($0, kind: kind), kind: kind) }
            switch origin {
            case .legacy: parsed.note("subtitle_redecoded")
            case .utf16le, .utf16be: parsed.note("subtitle_utf16")
            case .utf32: parsed.note("subtitle_utf32")
            case .utf8: break
            }
            return parsed
        }
    }

    private func parse(_ text: UnsafeBufferPointer<UInt8>, kind: SubtitleKind) -> (ParsedSubtitles, UnsafeBufferPointer<UInt8>) {
        let parsed = switch kind {
        case .srt: CueBlockParser(webVTT: false).parse(text)
        case .vtt: CueBlockParser(webVTT: true).parse(text)
        case .ass: ASSParser().parse(text)
        }
        return (parsed, text)
    }

    /// Cleans every cue into the arena; drops cues left empty.
    private func clean(_ input: (ParsedSubtitles, UnsafeBufferPointer<UInt8>), kind: SubtitleKind) -> ParsedSubtitles {
        var parsed = input.0
        let buffer = input.1
        let cleaner = CueCleaner(removeHearingImpaired: removeHearingImpaired, assMarkup: kind == .ass)
        var kept: [Cue] = []
        kept.reserveCapacity(parsed.cues.count)
        var scratch = CueCleaner.Scratch()
        parsed.arena.reserveCapacity(buffer.count)
        for var cue in parsed.cues {
            let begin = parsed.arena.count
            if cleaner.clean(buffer, cue.text, into: &parsed.arena, scratch: &scratch) { parsed.note("hearing_impaired_removed") }
            if parsed.arena.count == begin {
                parsed.note("cue_emptied")
                continue
            }
            cue.text = begin..<parsed.arena.count
            kept.append(cue)
        }
        parsed.cues = kept
        return parsed
    }
}
