import Testing

/// Timestamps on a timing line: the shapes real files use are read to the millisecond, and one cut short (no
/// fraction) or garbled is an `invalid_timestamp` reject, never read as another time.
@Suite struct SubtitleTimestampTests {
    /// A file of `format` (`srt`, `vtt` or `ass`) holding one cue from `start` to `end`.
    static func file(_ format: String, _ start: String, _ end: String) -> String {
        switch format {
        case "vtt": "WEBVTT\n\n\(start) --> \(end)\nHello there.\n"
        case "ass": "[Events]\nFormat: Layer, Start, End, Text\nDialogue: 0,\(start),\(end),Hello there.\n"
        default: "1\n\(start) --> \(end)\nHello there.\n"
        }
    }

    @Test("the timestamp shapes of real files are read to the millisecond", arguments: [
        ("srt", "00:00:01,000", "00:00:02,500", 1000, 2500),
        ("srt", "00:00:01.000", "01:02:03,004", 1000, 3_723_004),
        ("srt", "0:00:01,000", "0:00:02,000", 1000, 2000),  // one-digit hours
        ("srt", "00:00:01,5", "00:00:01,75", 1500, 1750),  // fewer fraction digits: tenths, hundredths
        ("vtt", "00:00:01.000", "00:00:02.500", 1000, 2500),
        ("vtt", "00:01.000", "01:02.345", 1000, 62_345),  // hours left out
        ("vtt", "1:00:00.000", "1:00:01.000", 3_600_000, 3_601_000),
        ("ass", "0:00:01.00", "0:00:02.50", 1000, 2500),
        ("ass", "10:00:01.05", "10:00:02.99", 36_001_050, 36_002_990),
        // Minutes and seconds of one digit, as hand-written files and some tools have them (webvtt-py reads them too).
        ("srt", "1:2:3.4", "1:2:5.000", 3_723_400, 3_725_000),
        ("vtt", "0:3.000", "0:5.000", 3000, 5000),
        ("ass", "0:0:3.00", "0:0:5.00", 3000, 5000),
    ])
    func validTimestamps(format: String, start: String, end: String, startMs: Int, endMs: Int) throws {
        let decoded = try SubtitleTests.decode(Self.file(format, start, end), name: "t.\(format)")
        #expect(decoded.rejects.isEmpty, "\(decoded.rejects.map(\.failure))")
        let record = try #require(decoded.records.first)
        #expect(SubtitleTests.meta(record, "start_ms") == "\(startMs)")
        #expect(SubtitleTests.meta(record, "end_ms") == "\(endMs)")
    }

    @Test("a timestamp cut short or garbled is invalid_timestamp, and the cue is not kept", arguments: [
        ("srt", "00:00:03,000", "00:00:0"),  // the end cut in the seconds
        ("srt", "00:00:0", "00:00:09.000"),  // the start cut in the seconds
        ("srt", "00:00:03,000", "00:00:05"),  // no fraction
        ("srt", "00:00:03,000", "00:00:05,"),
        ("srt", "00:03,000", "00:05,000"),  // SRT always has hours
        ("srt", "00:00:03,0000", "00:00:05,000"),  // four fraction digits
        ("srt", "00:00:003,000", "00:00:05,000"),
        ("srt", "00:60:00,000", "00:61:00,000"),
        ("vtt", "00:00:03.000", "00:00:0"),
        ("vtt", "00:03", "00:05"),
        ("ass", "0:00:03.00", "0:00:0"),
        ("ass", "0:00:03", "0:00:05.00"),  // no centiseconds
        ("ass", "0:00:03.0", "0:00:05.00"),  // one digit of centiseconds
        ("ass", "0:00:03.000", "0:00:05.00"),
        ("ass", "0:00:03,00", "0:00:05.00"),
        ("ass", "00:03.00", "00:05.00"),
    ])
    func invalidTimestamps(format: String, start: String, end: String) throws {
        let decoded = try SubtitleTests.decode(Self.file(format, start, end), name: "t.\(format)")
        #expect(decoded.records.isEmpty, "read as \(decoded.records.map { (SubtitleTests.meta($0, "start"), SubtitleTests.meta($0, "end")) })")
        #expect(decoded.rejects.map(\.failure.reason) == ["invalid_timestamp"])
        #expect(decoded.events["cue_end_before_start"] == nil)
    }

    @Test("the reject's detail names the shape its format expects", arguments: [
        ("srt", "HH:MM:SS,mmm --> HH:MM:SS,mmm"),
        ("vtt", "[HH:]MM:SS.mmm --> [HH:]MM:SS.mmm"),
        ("ass", "H:MM:SS.cc"),
    ])
    func rejectDetail(format: String, shape: String) throws {
        let decoded = try SubtitleTests.decode(Self.file(format, "00:00:0", "00:00:01.000"), name: "t.\(format)")
        let detail = try #require(decoded.rejects.first?.failure.detail)
        #expect(detail.contains(shape), "\(detail)")
    }
}
