import RefineryCodecs
import Foundation
@testable import RefineryReaders
import RefineryRecords
import RefinerySpec
import Testing

@Suite struct SubtitleTests {
    /// Decodes one subtitle file (named `name`, which decides the format) with `options`.
    static func decode(_ bytes: [UInt8], name: String = "film.srt", options: String = "{}") throws -> DecodedUnit {
        let format = try SubtitleFormat(options: try ReaderTests.options(options))
        let context = UnitContext(source: "subs", category: "subtitles", lang: nil, relativePath: name, path: "/in/\(name)", line: 1)
        var decoded = DecodedUnit()
        bytes.withUnsafeBufferPointer { format.decodeUnit($0, context: context, into: &decoded) }
        return decoded
    }

    static func decode(_ text: String, name: String = "film.srt", options: String = "{}") throws -> DecodedUnit {
        try decode(Array(text.utf8), name: name, options: options)
    }

    static func meta(_ record: Record, _ key: String) -> String? {
        guard let value = record.meta.first(where: { $0.key == key })?.value else { return nil }
        switch value {
        case .string(let text): return text
        case .number(let lexeme): return lexeme
        default: return nil
        }
    }

    static let srt = """
        1
        00:00:01,000 --> 00:00:02,500
        <i>Hello there.</i>

        2
        00:00:03.000 --> 00:00:04,000
        <font color="#ffff00">How are</font>
        you?

        00:00:20,000 --> 00:00:21,000
        Later.

        """

    @Test func srtCuesBecomeDialogueWindowsSplitAtGaps() throws {
        let decoded = try Self.decode(Self.srt)
        #expect(decoded.rejects.isEmpty)
        #expect(decoded.records.map(\.text) == ["Hello there.\nHow are\nyou?", "Later."])
        #expect(decoded.records.map(\.id) == ["subs/film.srt:1", "subs/film.srt:10"])
        let first = decoded.records[0]
        #expect(Self.meta(first, "start") == "00:00:01.000")
        #expect(Self.meta(first, "end_ms") == "4000")
        #expect(Self.meta(first, "cues") == "2")
        #expect(Self.meta(first, "subtitle_format") == "srt")
        #expect(first.location.line == 1)
    }

    @Test func lineEndsAndBOMsDoNotChangeTheRecords() throws {
        let plain = try Self.decode(Self.srt).records
        let crlf = try Self.decode(Self.srt.replacingOccurrences(of: "\n", with: "\r\n")).records
        let cr = try Self.decode(Self.srt.replacingOccurrences(of: "\n", with: "\r")).records
        let bom = try Self.decode([0xEF, 0xBB, 0xBF] + Array(Self.srt.utf8)).records
        let le = try Self.decode([0xFF, 0xFE] + Self.srt.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let be = try Self.decode([0xFE, 0xFF] + Self.srt.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        let bomless = try Self.decode(Self.srt.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        for other in [crlf, cr, bom, le.records, be.records, bomless.records] {
            #expect(other.map(\.text) == plain.map(\.text))
            #expect(other.map(\.id) == plain.map(\.id))
        }
        #expect(le.events["subtitle_utf16"] == 1)
    }

    @Test func legacyFilesAreRedecodedFromTheDeclaredEncodingAndCounted() throws {
        // "Été à Noël – ça va" in windows-1252, and "Привет" in windows-1251.
        let cp1252: [UInt8] = Array("1\n00:00:01,000 --> 00:00:02,000\n".utf8) + [0xC9, 0x74, 0xE9, 0x20, 0xE0, 0x20, 0x4E, 0x6F, 0xEB, 0x6C, 0x20, 0x96, 0x20, 0xE7, 0x61, 0x20, 0x76, 0x61, 0x0A]
        let decoded = try Self.decode(cp1252)
        #expect(decoded.records.map(\.text) == ["Été à Noël – ça va"])
        #expect(decoded.events["subtitle_redecoded"] == 1)
        let cp1251: [UInt8] = Array("1\n00:00:01,000 --> 00:00:02,000\n".utf8) + [0xCF, 0xF0, 0xE8, 0xE2, 0xE5, 0xF2, 0x0A]
        #expect(try Self.decode(cp1251, options: "{encoding: windows-1251}").records.map(\.text) == ["Привет"])
        #expect(try Self.decode(Self.srt).events["subtitle_redecoded"] == nil)
        #expect(throws: RefineryError.self) { try Self.decode(cp1251, options: "{encoding: klingon}") }
    }

    @Test func hearingImpairedMarkupIsRemovedOrKeptAsTheSpecSays() throws {
        let text = """
            1
            00:00:01,000 --> 00:00:03,000
            {\\an8}[door slams]
            MAN: Who's there?

            2
            00:00:03,500 --> 00:00:05,000
            - (SIGHS) Nobody.
            - I'm here (for now).

            3
            00:00:05,500 --> 00:00:07,000
            ♪ La la la ♪

            4
            00:00:07,500 --> 00:00:08,000
            (MAN:)

            """
        let removed = try Self.decode(text)
        #expect(removed.records.map(\.text) == ["Who's there?\n- Nobody.\n- I'm here (for now)."])
        #expect(removed.events["hearing_impaired_removed"] == 4)
        #expect(removed.events["cue_emptied"] == 2)
        let kept = try Self.decode(text, options: "{hearing_impaired: keep}")
        #expect(kept.records.map(\.text) == ["[door slams]\nMAN: Who's there?\n- (SIGHS) Nobody.\n- I'm here (for now).\n♪ La la la ♪\n(MAN:)"])
    }

    @Test func malformedSRTEndsInNamedReasonsWithLinesAndTheRestIsKept() throws {
        let text = """
            1
            00:00:01,000 --> 00:00:02,000
            Good one.

            2
            just text, no timing

            3
            00:00:0x,000 --> 00:00:04,000
            Bad time.

            4
            00:00:05,000 --> 00:00:06,000
            Also good.

            5
            00:00:07,000 --> 00:00:08,000
            """
        let decoded = try Self.decode(text)
        #expect(decoded.records.map(\.text) == ["Good one.\nAlso good."])
        #expect(decoded.rejects.map(\.failure.reason) == ["missing_timestamps", "invalid_timestamp", "truncated_cue"])
        #expect(decoded.rejects.map(\.location.line) == [5, 8, 16])
        #expect(decoded.rejects.allSatisfy { $0.location.file == "/in/film.srt" })
        #expect(decoded.rejects[1].raw.contains("Bad time."))
    }

    @Test func srtWithoutBlankLinesBetweenCuesIsStillRead() throws {
        let text = "1\n00:00:01,000 --> 00:00:02,000\nOne\n2\n00:00:02,500 --> 00:00:03,000\nTwo\n00:00:03,500 --> 00:00:04,000\nThree\n"
        let decoded = try Self.decode(text, options: "{collapse_repeats: false}")
        #expect(decoded.rejects.isEmpty)
        #expect(decoded.records.map(\.text) == ["One\nTwo\nThree"])
        #expect(Self.meta(decoded.records[0], "cues") == "3")
    }

    @Test func timingErrorsAreCountedAndRepairedNotFatal() throws {
        let text = """
            1
            00:00:05,000 --> 00:00:06,000
            Second.

            2
            00:00:01,000 --> 00:00:02,000
            First.

            3
            00:00:09,000 --> 00:00:08,000
            Backwards.

            4
            00:00:09,500 --> 00:00:11,000
            Four.

            5
            00:00:10,000 --> 00:00:12,000
            Five overlaps four.

            """
        let decoded = try Self.decode(text)
        #expect(decoded.rejects.isEmpty)
        #expect(decoded.records.map(\.text) == ["First.\nSecond.\nBackwards.\nFour.\nFive overlaps four."])
        #expect(decoded.events["cue_out_of_order"] == 1)
        #expect(decoded.events["cue_end_before_start"] == 1)
        #expect(decoded.events["cue_overlap"] == 1)
    }

    @Test func windowsAreBoundedBySize() throws {
        var text = ""
        for i in 0..<10 { text += "\(i + 1)\n00:00:\(10 + i),000 --> 00:00:\(10 + i),900\nLine number \(i) here.\n\n" }
        let decoded = try Self.decode(text, options: "{max_window_cues: 4}")
        #expect(decoded.records.map { Self.meta($0, "cues") } == ["4", "4", "2"])
        let bySize = try Self.decode(text, options: "{max_window_chars: 40}")
        #expect(bySize.records.allSatisfy { $0.text!.utf8.count <= 40 })
        #expect(bySize.records.count == 5)
        let oneGap = try Self.decode(text, options: "{max_gap: 0}")
        #expect(oneGap.records.count == 10)
    }

    @Test func webVTTBlocksSpansAndRollingCaptions() throws {
        let text = """
            WEBVTT - Episode 1
            Kind: captions

            NOTE translator's note
            spanning lines

            STYLE
            ::cue { color: yellow }

            REGION
            id:fred width:40%

            intro
            00:01.000 --> 00:02.000 align:start position:10%
            <v Bob>Hi <c.yellow>there</c></v>

            00:00:02.000 --> 00:00:03.000
            Hi there
            how <00:00:02.500>are you

            00:00:03.000 --> 00:00:04.000
            how are you
            fine &amp; you?

            00:00:04.000 --> 00:00:04.010
            fine &amp; you?

            """
        let decoded = try Self.decode(text, name: "ep.vtt")
        #expect(decoded.rejects.isEmpty)
        #expect(decoded.records.map(\.text) == ["Hi there\nhow are you\nfine & you?"])
        #expect(decoded.records[0].id == "subs/ep.vtt:13")
        #expect(decoded.events["rolling_repeat_collapsed"] == 3)
        #expect(decoded.events["note_skipped"] == 1 && decoded.events["style_skipped"] == 1 && decoded.events["region_skipped"] == 1)
        #expect(Self.meta(decoded.records[0], "end") == "00:00:04.010")
    }

    @Test func aWebVTTCueRightAfterTheHeaderLineIsRead() throws {
        let decoded = try Self.decode("WEBVTT\n00:00:00.000 --> 00:00:01.000\nFirst\n\n00:00:02.000 --> 00:00:03.000\nSecond\n", name: "a.vtt")
        #expect(decoded.records.map(\.text) == ["First\nSecond"])
        #expect(decoded.records.first?.id == "subs/a.vtt:2")
    }

    @Test func aBadTimingLineAfterACueWithoutABlankLineTakesItsNumber() throws {
        let decoded = try Self.decode("1\n00:00:01,000 --> 00:00:02,000\nHello\n2\n00:00:0X,000 --> 00:00:04,000\nWorld\n")
        #expect(decoded.records.map(\.text) == ["Hello"])
        #expect(decoded.rejects.map(\.failure.reason) == ["invalid_timestamp"])
        #expect(decoded.rejects.map(\.location.line) == [4])
        #expect(decoded.rejects.first?.raw == "2\n00:00:0X,000 --> 00:00:04,000\nWorld")
    }

    @Test func outOfRangeOptionsAreSpecErrors() throws {
        #expect(throws: RefineryError.self) { try Self.decode(Self.srt, options: "{max_gap: 1e300}") }
        #expect(throws: RefineryError.self) { try Self.decode(Self.srt, options: "{max_gap: -1}") }
    }

    @Test func webVTTWithoutItsHeaderIsRejected() throws {
        let decoded = try Self.decode("00:01.000 --> 00:02.000\nHi\n", name: "ep.vtt")
        #expect(decoded.records.isEmpty)
        #expect(decoded.rejects.map(\.failure.reason) == ["missing_webvtt_header"])
    }

    @Test func assDialogueFollowsTheFormatLine() throws {
        let text = """
            [Script Info]
            Title: Test

            [V4+ Styles]
            Format: Name, Fontname
            Style: Default,Arial

            [Events]
            Format: Layer, Style, Start, End, Name, MarginL, MarginR, MarginV, Effect, Text
            Dialogue: 0,Default,0:00:01.00,0:00:02.50,,0,0,0,,{\\i1}Hello, world{\\i0}\\Nsecond\\hline
            Comment: 0,Default,0:00:03.00,0:00:04.00,,0,0,0,,not shown
            Dialogue: 0,Default,0:00:03.00
            Dialogue: 0,Default,0:00:0x.00,0:00:04.00,,0,0,0,,bad
            Dialogue: 0,Default,0:00:04.00,0:00:05.20,,0,0,0,,{\\pos(10,10)}Third, with commas, kept
            """
        let decoded = try Self.decode(text, name: "show.ass")
        #expect(decoded.records.map(\.text) == ["Hello, world\nsecond line\nThird, with commas, kept"])
        #expect(decoded.records[0].id == "subs/show.ass:10")
        #expect(decoded.rejects.map(\.failure.reason) == ["wrong_column_count", "invalid_timestamp"])
        #expect(decoded.rejects.map(\.location.line) == [12, 13])
        #expect(decoded.events["comment_skipped"] == 1)
        #expect(Self.meta(decoded.records[0], "end_ms") == "5200")
        let noEvents = try Self.decode("[Script Info]\nTitle: x\n", name: "x.ssa")
        #expect(noEvents.rejects.map(\.failure.reason) == ["missing_events"])
    }

    @Test func garbageNeverCrashesAndEveryRejectIsNamed() throws {
        var generator = SplitMix64(seed: 42)
        let pieces = ["1\n", "00:00:01,000 --> 00:00:02,000\n", "-->", "\n\n", "<i>", "{\\an8}", "WEBVTT\n", "[Events]\n",
                      "Dialogue: 0,0:00:01.00,0:00:02.00,,,,,,,x\n", "Format: Text\n", "é", "\r", "[", "(", "♪", "&amp"]
        for name in ["g.srt", "g.vtt", "g.ass"] {
            for _ in 0..<300 {
                var bytes: [UInt8] = []
                for _ in 0..<Int.random(in: 0..<40, using: &generator) {
                    if Bool.random(using: &generator) {
                        bytes += Array(pieces.randomElement(using: &generator)!.utf8)
                    } else {
                        bytes.append(UInt8.random(in: 0...255, using: &generator))
                    }
                }
                let decoded = try Self.decode(bytes, name: name)
                #expect(!decoded.records.isEmpty || !decoded.rejects.isEmpty, "a file always yields a record or a reject")
                for reject in decoded.rejects {
                    #expect(!reject.failure.reason.isEmpty && (reject.location.line ?? 0) >= 1)
                }
                for record in decoded.records {
                    #expect(Int(Self.meta(record, "start_ms")!)! <= Int(Self.meta(record, "end_ms")!)!)
                }
            }
        }
    }

    @Test func theUTF8ValidatorAgreesWithTheStandardLibrary() {
        var generator = SplitMix64(seed: 7)
        let pieces: [[UInt8]] = [Array("a".utf8), Array("é".utf8), Array("Ж".utf8), Array("中".utf8), Array("😀".utf8),
                                 [0x80], [0xC0, 0x80], [0xC3], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                                 [0xFF], Array("plain ascii text ".utf8)]
        for _ in 0..<3000 {
            var bytes: [UInt8] = []
            let invalid = Int.random(in: 0..<4, using: &generator) == 0
            for _ in 0..<Int.random(in: 0..<60, using: &generator) {
                let piece = Int.random(in: 0..<(invalid ? pieces.count : 5), using: &generator)
                bytes += pieces[piece == 5 || piece == 6 ? 12 : piece]
                if !invalid && piece >= 5 { bytes += pieces[12] }
            }
            bytes.withUnsafeBufferPointer { buffer in
                #expect(SubtitleText.isValidUTF8(buffer) == SubtitleText.isValidUTF8Reference(buffer), "\(bytes)")
            }
        }
    }

    @Test func anEmptyFileOrUnknownExtensionIsANamedReject() throws {
        #expect(try Self.decode("", name: "e.srt").rejects.map(\.failure.reason) == ["no_cues"])
        #expect(try Self.decode(Self.srt, name: "film.txt").rejects.map(\.failure.reason) == ["unknown_subtitle_format"])
        #expect(try Self.decode(Self.srt, name: "film.txt", options: "{format: srt}").records.count == 2)
    }
}
