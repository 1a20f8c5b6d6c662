import Foundation
import RefineryCodecs
@testable import RefineryReaders
import RefineryRecords
import RefinerySpec
import Testing

@Suite struct ReaderTests {
    /// A unit as a test sees it: its bytes copied out of the batch.
    struct Unit {
        var line: Int
        var bytes: [UInt8]
        var problem: RawUnit.Problem?
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Collects what a ``BatchBuilder`` hands on.
    final class Collector {
        var batches: [Batch] = []

        var units: [Unit] {
            batches.flatMap { batch in
                batch.units.map { Unit(line: $0.line, bytes: Array(batch.buffer[$0.range]), problem: $0.problem) }
            }
        }
    }

    /// Writes `bytes` to a temporary file named `name` (`.zst` names are read through zstd), splits it with
    /// `format`, and returns the units and counts.
    static func split(_ bytes: [UInt8], name: String = "in.jsonl", with format: any RecordFormat)
        throws -> (units: [Unit], counts: LineSplitter.Counts)
    {
        let scratch = try TemporaryFolder("refinery-readers")
        defer { scratch.cleanup() }
        let path = try scratch.write(name, bytes)
        let collector = Collector()
        let builder = BatchBuilder(maxRecords: 1 << 20, maxBytes: Int.max) { collector.batches.append($0) }
        let stream = try ByteStream(path: path, zstd: name.hasSuffix(".zst"))
        let counts = try format.split(stream, fileIndex: 3, into: builder)
        try builder.flush()
        #expect(collector.batches.allSatisfy { batch in batch.units.allSatisfy { $0.fileIndex == 3 } })
        return (collector.units, counts)
    }

    static func split(_ text: String, name: String = "in.jsonl", maxLineBytes: Int = 64 << 20)
        throws -> (units: [Unit], counts: LineSplitter.Counts)
    {
        try split(Array(text.utf8), name: name, with: Lines(splitter: LineSplitter(maxLineBytes: maxLineBytes)))
    }

    /// A format that only splits lines, to test ``LineSplitter`` with any limit.
    struct Lines: SingleRecordFormat {
        var splitter: LineSplitter
        func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> LineSplitter.Counts {
            try splitter.split(stream, fileIndex: fileIndex, into: builder)
        }
        func decode(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext) throws(DecodeFailure) -> Record {
            context.makeRecord()
        }
    }

    /// A source's `options` node, read through a spec as the engine does.
    static func options(_ flow: String) throws -> SpecNode? {
        let spec = try PipelineSpec.parse(yaml: """
            name: t
            sources:
              - name: s
                kind: jsonl
                glob: g
                options: \(flow)
            output: {dir: o}
            """, file: "t.yaml", baseDirectory: "/tmp")
        return spec.sources[0].options
    }

    static let context = UnitContext(source: "src", category: "cat", lang: nil, relativePath: "sub/a.jsonl",
                                     path: "/in/sub/a.jsonl", line: 7)

    static func decode(_ format: some SingleRecordFormat, _ bytes: [UInt8]) -> Result<Record, DecodeFailure> {
        bytes.withUnsafeBufferPointer { buffer in
            do throws(DecodeFailure) {
                return .success(try format.decode(buffer, context: context))
            } catch {
                return .failure(error)
            }
        }
    }

    static func decode(_ format: some SingleRecordFormat, _ line: String) -> Result<Record, DecodeFailure> {
        decode(format, Array(line.utf8))
    }

    /// The failure decoding `line` gives; records an issue when it decodes.
    static func failure(_ format: some SingleRecordFormat, _ line: String,
                        sourceLocation: Testing.SourceLocation = #_sourceLocation) -> DecodeFailure? {
        switch decode(format, line) {
        case .success(let record):
            Issue.record("expected a failure, decoded \(record.jsonString)", sourceLocation: sourceLocation)
            return nil
        case .failure(let failure):
            return failure
        }
    }

    /// `count` bytes of "abc…xyzabc…", built by doubling (a per-byte loop is slow in debug builds).
    static func alphabet(count: Int) -> [UInt8] {
        var bytes = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        while bytes.count < count { bytes += bytes }
        return Array(bytes.prefix(count))
    }

    static let chat = #""messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]"#

    // MARK: Glob

    @Test("globs match within a folder, across folders with **, sorted by path bytes")
    func glob() throws {
        let scratch = try TemporaryFolder("refinery-readers")
        defer { scratch.cleanup() }
        for file in ["b.jsonl", "a.jsonl", "B.jsonl", "c.txt", "sub.jsonl", "sub/d.jsonl", "sub/deeper/e.jsonl",
                     "sub/deeper/f.txt", "other/g.jsonl", ".hidden/h.jsonl", ".i.jsonl", "sub/.j.jsonl"] {
            try scratch.write(file, "{}\n")
        }
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("dir.jsonl"), withIntermediateDirectories: true)
        let root = scratch.path

        func relative(_ pattern: String) -> [String] { Glob.expand(root + "/" + pattern).map(\.relativePath) }

        #expect(relative("*.jsonl") == ["B.jsonl", "a.jsonl", "b.jsonl", "sub.jsonl"])
        #expect(relative("**/*.jsonl")
            == ["B.jsonl", "a.jsonl", "b.jsonl", "other/g.jsonl", "sub.jsonl", "sub/d.jsonl", "sub/deeper/e.jsonl"])
        #expect(relative("sub/**/*.jsonl") == ["d.jsonl", "deeper/e.jsonl"])
        #expect(relative("**/deeper/*") == ["sub/deeper/e.jsonl", "sub/deeper/f.txt"])
        #expect(relative("*/d.jsonl") == ["sub/d.jsonl"])
        #expect(relative("[ab].jsonl") == ["a.jsonl", "b.jsonl"])
        #expect(relative("?.txt") == ["c.txt"])
        #expect(relative("*.csv").isEmpty)
        #expect(relative("missing/**/*.jsonl").isEmpty)

        let matches = Glob.expand(root + "/**/*.jsonl")
        #expect(matches.map(\.path) == matches.map(\.path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(matches.first?.path == root + "/B.jsonl")
        #expect(matches.allSatisfy { $0.path == root + "/" + $0.relativePath })
    }

    @Test("a pattern without wildcards names one regular file")
    func globLiteral() throws {
        let scratch = try TemporaryFolder("refinery-readers")
        defer { scratch.cleanup() }
        let path = try scratch.write("sub/one.jsonl", "{}\n")
        let matches = Glob.expand(path)
        #expect(matches.map(\.path) == [path])
        #expect(matches.map(\.relativePath) == ["one.jsonl"])
        #expect(Glob.expand(scratch.path + "/sub").isEmpty, "a folder is not a match")
        #expect(Glob.expand(scratch.path + "/sub/none.jsonl").isEmpty)
    }

    // MARK: ByteStream

    @Test("ByteStream reads plain and zstd files to the same bytes, and counts bytes read from disk")
    func byteStream() throws {
        let scratch = try TemporaryFolder("refinery-readers")
        defer { scratch.cleanup() }
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 % 97 + 10) }
        let compressor = try ZstdCompressor()
        var compressed: [UInt8] = []
        try compressor.compressFrame(Array(content[..<100_000]), into: &compressed)
        try compressor.compressFrame(Array(content[100_000...]), into: &compressed)

        for (name, bytes, zstd) in [("p.bin", content, false), ("z.bin.zst", compressed, true)] {
            let path = try scratch.write(name, bytes)
            let stream = try ByteStream(path: path, zstd: zstd)
            var out: [UInt8] = []
            while try stream.next(into: &out) {}
            #expect(out == content)
            #expect(stream.bytesRead == bytes.count)
            #expect(try stream.next(into: &out) == false, "stays at the end")
        }
    }

    @Test("opening a missing file is an input error naming it")
    func byteStreamMissing() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("none-\(UUID().uuidString)").path
        let error = try #require(#expect(throws: RefineryError.self) { try ByteStream(path: path, zstd: false) })
        #expect(error.code == .input)
        #expect(error.location?.file == path)
    }

    // MARK: LineSplitter

    @Test("lines keep their numbers; BOM, CR and blank lines are handled", arguments: [
        ("a\nb\nc\n", ["a", "b", "c"], [1, 2, 3], 3, 0),
        ("\u{FEFF}{\"a\":1}\n{\"b\":2}\n", ["{\"a\":1}", "{\"b\":2}"], [1, 2], 2, 0),
        ("a\r\nb\r\n", ["a", "b"], [1, 2], 2, 0),
        ("a\n\n   \n\t\r\nb\n", ["a", "b"], [1, 5], 5, 3),
        ("a\nlast", ["a", "last"], [1, 2], 2, 0),
        ("a\nlast\r", ["a", "last"], [1, 2], 2, 0),
        ("\n\nx", ["x"], [3], 3, 2),
        ("  indented \n", ["  indented "], [1], 1, 0),
        ("mid\rline\n", ["mid\rline"], [1], 1, 0),
        ("\u{FEFF}", [], [], 0, 0),
        ("\u{FEFF}\n", [], [], 1, 1),
        ("\n", [], [], 1, 1),
    ] as [(String, [String], [Int], Int, Int)])
    func lines(input: String, texts: [String], numbers: [Int], lines: Int, blank: Int) throws {
        let (units, counts) = try Self.split(input)
        #expect(units.map(\.text) == texts)
        #expect(units.map(\.line) == numbers)
        #expect(units.allSatisfy { $0.problem == nil })
        #expect(counts.lines == lines)
        #expect(counts.blankLines == blank)
        #expect(counts.bytes == input.utf8.count)
    }

    @Test("an empty file gives no units", arguments: ["in.jsonl", "in.jsonl.zst"])
    func emptyFile(name: String) throws {
        let (units, counts) = try Self.split([], name: name, with: Lines(splitter: LineSplitter(maxLineBytes: 100)))
        #expect(units.isEmpty)
        #expect(counts.lines == 0 && counts.blankLines == 0 && counts.bytes == 0)
    }

    @Test("a zstd frame of nothing gives no units")
    func emptyFrame() throws {
        var frame: [UInt8] = []
        try ZstdCompressor().compressFrame([], into: &frame)
        let (units, counts) = try Self.split(frame, name: "in.jsonl.zst", with: Lines(splitter: LineSplitter(maxLineBytes: 100)))
        #expect(units.isEmpty)
        #expect(counts.lines == 0)
    }

    @Test("a line over max_line_bytes becomes a lineTooLong unit holding only its start", arguments: [false, true])
    func lineTooLong(lastLineHasNewline: Bool) throws {
        let long = String(decoding: Self.alphabet(count: 10_000), as: UTF8.self)
        let input = "short one\n" + long + "\nshort two" + (lastLineHasNewline ? "\n" : "")
        let (units, counts) = try Self.split(input, maxLineBytes: 100)
        try #require(units.count == 3)
        #expect(units[0].text == "short one" && units[0].problem == nil)
        #expect(units[1].line == 2)
        #expect(units[1].problem == .lineTooLong(bytes: 10_000, limit: 100))
        #expect(units[1].bytes == Array(long.utf8.prefix(LineSplitter.previewBytes)))
        #expect(units[2].text == "short two" && units[2].line == 3 && units[2].problem == nil)
        #expect(counts.lines == 3)
    }

    @Test("a line over the limit as the last line without a newline is still cut")
    func lastLineTooLong() throws {
        let (units, counts) = try Self.split("ok\n" + String(repeating: "x", count: 500), maxLineBytes: 100)
        #expect(units.map(\.line) == [1, 2])
        #expect(units[1].problem == .lineTooLong(bytes: 500, limit: 100))
        #expect(units[1].bytes.count == 500)
        #expect(counts.lines == 2)
    }

    @Test("a line longer than the read chunk is dropped as it streams, not held", arguments: [false, true])
    func lineTooLongAcrossChunks(zstd: Bool) throws {
        let length = 3 * ByteStream.chunkSize + 12_345
        var content = Array("first\n".utf8)
        content += Self.alphabet(count: length)
        content += Array("\nlast\n".utf8)
        var bytes = content
        if zstd {
            bytes = []
            try ZstdCompressor(level: 1).compressFrame(content, into: &bytes)
        }
        let (units, counts) = try Self.split(bytes, name: zstd ? "in.jsonl.zst" : "in.jsonl",
                                             with: Lines(splitter: LineSplitter(maxLineBytes: 100)))
        try #require(units.count == 3)
        #expect(units[0].text == "first")
        #expect(units[1].line == 2)
        #expect(units[1].problem == .lineTooLong(bytes: length, limit: 100))
        #expect(units[1].bytes == Array(content[6..<(6 + LineSplitter.previewBytes)]))
        #expect(units[2].text == "last" && units[2].line == 3)
        #expect(counts.lines == 3)
    }

    @Test("a 20 MB line under the default limit is read whole")
    func twentyMegabyteLine() throws {
        var line = [UInt8](repeating: UInt8(ascii: "a"), count: 20_000_000)
        for i in stride(from: 0, to: line.count, by: 999_983) { line[i] = UInt8(ascii: "b") }
        let format = try JSONLFormat(options: nil)
        let (units, counts) = try Self.split(line + [0x0A] + Array("tail\n".utf8), with: format)
        try #require(units.count == 2)
        #expect(units[0].problem == nil)
        #expect(units[0].bytes.count == line.count)
        #expect(units[0].bytes == line)
        #expect(units[1].text == "tail" && units[1].line == 2)
        #expect(counts.lines == 2)
    }

    @Test("a truncated .zst gives the whole lines read, then one truncated unit")
    func truncatedFrames() throws {
        let compressor = try ZstdCompressor()
        var bytes: [UInt8] = []
        try compressor.compressFrame(Array("one\ntwo\nthree\n".utf8), into: &bytes)
        var last: [UInt8] = []
        // Repetitive, so its one block is compressed (a raw block would stream out partly before the cut).
        try compressor.compressFrame(Array((4...40).map { "line \($0)\n" }.joined().utf8), into: &last)
        // Cut inside that block, so nothing of it can be decoded.
        bytes += last.dropLast(8)

        let (units, counts) = try Self.split(bytes, name: "in.jsonl.zst", with: Lines(splitter: LineSplitter(maxLineBytes: 1000)))
        try #require(units.count == 4)
        #expect(units[0..<3].map(\.text) == ["one", "two", "three"])
        #expect(units[0..<3].allSatisfy { $0.problem == nil })
        #expect(units[3].line == 4)
        #expect(units[3].bytes.isEmpty)
        guard case .truncated(let detail) = units[3].problem else {
            Issue.record("expected a truncated unit, found \(String(describing: units[3].problem))")
            return
        }
        #expect(detail.contains("zstd_truncated"))
        #expect(counts.lines == 4)
        #expect(counts.bytes == bytes.count)
    }

    @Test("a truncated single large frame keeps every complete line before the cut", arguments: [1, 50, 5000])
    func truncatedLargeFrame(cut: Int) throws {
        let lines = (1...6000).map { "{\"n\":\($0),\"pad\":\"\(String(repeating: "x", count: $0 % 90))\"}\n" }
        let content = Array(lines.joined().utf8)
        var compressed: [UInt8] = []
        try ZstdCompressor(level: 1).compressFrame(content, into: &compressed)
        compressed.removeLast(cut)

        let (units, _) = try Self.split(compressed, name: "in.jsonl.zst", with: Lines(splitter: LineSplitter(maxLineBytes: 1000)))
        let last = try #require(units.last)
        guard case .truncated = last.problem else {
            Issue.record("the last unit should be truncated, found \(String(describing: last.problem))")
            return
        }
        let good = units.dropLast()
        #expect(good.count > 0, "blocks before the cut are decoded")
        #expect(good.allSatisfy { $0.problem == nil })
        #expect(good.enumerated().allSatisfy { $0.element.line == $0.offset + 1 && $0.element.text + "\n" == lines[$0.offset] })
        #expect(last.line == good.count + 1)
        if good.count < lines.count {
            // The truncated unit holds the start of the unfinished line.
            #expect(lines[good.count].utf8.starts(with: last.bytes))
        } else {
            // Only the frame's checksum was cut: every line was decoded, the tail is empty.
            #expect(last.bytes.isEmpty)
        }
    }

    @Test("a corrupt .zst keeps the lines before the damage and ends in a truncated unit")
    func corruptZstd() throws {
        var bytes: [UInt8] = []
        let compressor = try ZstdCompressor()
        try compressor.compressFrame(Array("good\n".utf8), into: &bytes)
        bytes += Array("this is not zstd at all, but it is long enough to be a frame header".utf8)
        let (units, _) = try Self.split(bytes, name: "x.zst", with: Lines(splitter: LineSplitter(maxLineBytes: 100)))
        #expect(units.map(\.text).first == "good")
        guard case .truncated(let detail) = units.last?.problem else {
            Issue.record("expected a truncated unit last")
            return
        }
        #expect(detail.contains("zstd_decompress"))
    }

    // MARK: BatchBuilder

    @Test("batches close at the record and byte limits and when the source changes")
    func batchBuilder() throws {
        let collector = Collector()
        let builder = BatchBuilder(maxRecords: 3, maxBytes: 10) { collector.batches.append($0) }
        try builder.begin(sourceIndex: 0)
        for text in ["a", "b", "c", "d"] { try builder.add(Array(text.utf8), fileIndex: 0, line: 1) }
        try builder.add(Array("0123456789".utf8), fileIndex: 0, line: 5)
        try builder.add(Array("far over ten bytes".utf8), fileIndex: 0, line: 6)
        try builder.begin(sourceIndex: 1)
        try builder.add(Array("x".utf8), fileIndex: 1, line: 1)
        try builder.flush()
        try builder.flush()

        let shapes = collector.batches.map { batch in
            (batch.index, batch.sourceIndex, batch.units.map { String(decoding: batch.buffer[$0.range], as: UTF8.self) })
        }
        try #require(shapes.count == 5)
        #expect(shapes.map(\.0) == [0, 1, 2, 3, 4])
        #expect(shapes.map(\.1) == [0, 0, 0, 0, 1])
        #expect(shapes.map(\.2) == [["a", "b", "c"], ["d"], ["0123456789"], ["far over ten bytes"], ["x"]])
    }

    @Test("a buffer handed back is filled again, emptied first; one still held is copied, not overwritten; a full pool drops the rest")
    func batchBuffersAreReused() throws {
        let buffers = BatchBuffers(limit: 1)
        // A buffer of a capacity no batch here asks for, with bytes in it, as a processed batch's would be.
        var large: [UInt8] = [9, 9, 9]
        large.reserveCapacity(1 << 20)
        buffers.recycle(large)
        var held: [Batch] = []
        let builder = BatchBuilder(maxRecords: 2, maxBytes: 1 << 20, buffers: buffers) { batch in
            held.append(batch)              // still referenced when its buffer is taken again
            buffers.recycle(batch.buffer)   // as a worker does once it is done with the batch
            buffers.recycle([1, 2, 3])      // the pool holds one: this one is dropped
        }
        try builder.begin(sourceIndex: 0)
        for text in ["first", "second", "third", "fourth", "fifth"] { try builder.add(Array(text.utf8), fileIndex: 0, line: 1) }
        try builder.flush()
        let texts = held.map { batch in batch.units.map { String(decoding: batch.buffer[$0.range], as: UTF8.self) } }
        #expect(texts == [["first", "second"], ["third", "fourth"], ["fifth"]])
        // The second batch was filled in the large buffer (taken as the first was handed on), emptied first.
        #expect(held[1].buffer.capacity >= 1 << 20 && held[1].buffer.count == "thirdfourth".utf8.count)
        #expect(held[0].buffer.capacity < 1 << 20)
        // A pool of one keeps the first buffer handed back and drops the next.
        let pool = BatchBuffers(limit: 1)
        pool.recycle(large)
        pool.recycle([1, 2, 3])
        #expect(pool.take().map { $0.isEmpty && $0.capacity >= 1 << 20 } == true)
        #expect(pool.take() == nil)
    }

    // MARK: JSONLFormat

    @Test("a jsonl line fills the record; unknown fields, id and source go to meta in order")
    func jsonlDocument() throws {
        let format = try JSONLFormat(options: nil)
        let record = try Self.decode(format, #"""
            {"id":"orig-1","text":"hello","source":"elsewhere","lang":"fr","url":"http://x","reward":0.25,"scores":{"q":0.5},"pii":{"email":2},"meta":{"k":1}}
            """#).get()
        #expect(record.id == "src/sub/a.jsonl:7")
        #expect(record.source == "src")
        #expect(record.category == "cat")
        #expect(record.lang == "fr")
        #expect(record.text == "hello")
        #expect(record.messages == nil)
        #expect(record.reward == 0.25)
        #expect(record.scores.map(\.key) == ["q"] && record.scores.map(\.value) == [0.5])
        #expect(record.pii.map(\.key) == ["email"] && record.pii.map(\.value) == [2])
        #expect(JSONValue.object(record.meta)
            == .object([("id", .string("orig-1")), ("source", .string("elsewhere")), ("url", .string("http://x")),
                        ("k", .number("1"))]))
        #expect(record.location == RefineryRecords.SourceLocation(file: "/in/sub/a.jsonl", line: 7))
        #expect(record.utf8Repairs == 0)
    }

    @Test("a jsonl line's own category replaces the source's; a null reward is no reward")
    func jsonlOverrides() throws {
        let record = try Self.decode(try JSONLFormat(options: nil), #"{"category":"own","reward":null,"text":"t"}"#).get()
        #expect(record.category == "own")
        #expect(record.reward == nil)
    }

    @Test("a jsonl chat line reads its messages")
    func jsonlChat() throws {
        let record = try Self.decode(try JSONLFormat(options: nil), "{\(Self.chat)}").get()
        #expect(record.messages == [Message(role: "user", content: "hi"), Message(role: "assistant", content: "hello")])
        #expect(record.kind == .chat)
    }

    @Test("invalid UTF-8 in a jsonl line is repaired and counted")
    func jsonlRepairs() throws {
        let bytes = Array(#"{"text":"a"#.utf8) + [0xFF, 0xC3] + Array(#"b"}"#.utf8)
        let record = try Self.decode(try JSONLFormat(options: nil), bytes).get()
        #expect(record.utf8Repairs == 2)
        #expect(record.text == "a\u{FFFD}\u{FFFD}b")
    }

    @Test("jsonl lines of the wrong shape fail with a named reason", arguments: [
        (#"{"text":"a","#, "invalid_json", "at byte"),
        (#"["text"]"#, "wrong_shape", "expected a JSON object per line, found array"),
        (#""text""#, "wrong_shape", "found string"),
        (#"{"text":5}"#, "wrong_shape", "'text' must be a string, found number"),
        (#"{"text":"t","messages":[]}"#, "wrong_shape", "a record holds 'text' or 'messages', not both"),
        (#"{"lang":1}"#, "wrong_shape", "'lang' must be a string"),
        (#"{"category":[]}"#, "wrong_shape", "'category' must be a string, found array"),
        (#"{"reward":1.5}"#, "invalid_reward", "'reward' must be in [0, 1], found 1.5"),
        (#"{"reward":-0.1}"#, "invalid_reward", "found -0.1"),
        (#"{"reward":"high"}"#, "wrong_shape", "'reward' must be a number, found string"),
        (#"{"scores":[1]}"#, "wrong_shape", "'scores' must be an object"),
        (#"{"scores":{"q":"x"}}"#, "wrong_shape", "scores.q must be a number"),
        (#"{"pii":{"email":1.5}}"#, "wrong_shape", "pii.email must be a whole number"),
        (#"{"pii":{"email":-1}}"#, "wrong_shape", "pii.email must be a whole number"),
        (#"{"meta":"x"}"#, "wrong_shape", "'meta' must be an object or a string holding a JSON object"),
        (#"{"messages":{}}"#, "wrong_shape", "'messages' must be an array, found object"),
        (#"{"messages":["hi"]}"#, "wrong_shape", "messages[0] must be an object, found string"),
        (#"{"messages":[{"content":"hi"}]}"#, "wrong_shape", "messages[0] has no role"),
        (#"{"messages":[{"role":"user"}]}"#, "wrong_shape", "messages[0] has no content"),
        (#"{"messages":[{"role":"user","content":1}]}"#, "wrong_shape", "messages[0].content must be a string, found number"),
        (#"{"messages":[{"role":7,"content":"x"}]}"#, "wrong_shape", "messages[0].role must be a string"),
        (#"{"messages":[{"role":"user","content":"x","name":"n"}]}"#, "wrong_shape", "messages[0] has unsupported key 'name'"),
        (#"{"messages":[{"role":"user","content":"x"},{"role":"bot","content":"y"}]}"#, "wrong_shape",
         "messages[1].role 'bot' is not one of system, user, assistant, tool"),
    ])
    func jsonlFailures(line: String, reason: String, detail: String) throws {
        let failure = try #require(Self.failure(try JSONLFormat(options: nil), line))
        #expect(failure.reason == reason)
        #expect(failure.detail.contains(detail), "detail: \(failure.detail)")
    }

    @Test("jsonl takes max_line_bytes from its options and rejects unknown options")
    func jsonlOptions() throws {
        let format = try JSONLFormat(options: Self.options("{max_line_bytes: 512KiB}"))
        #expect(format.splitter.maxLineBytes == 512 << 10)
        #expect(try JSONLFormat(options: nil).splitter.maxLineBytes == 64 << 20)
        let error = try #require(#expect(throws: RefineryError.self) {
            try JSONLFormat(options: Self.options("{max_line_byte: 5}"))
        })
        #expect(error.message.contains("unknown key 'max_line_byte' (did you mean 'max_line_bytes'?)"))
    }

    // MARK: ChatJSONLFormat

    @Test("a rating maps onto reward in [0, 1]; booleans are thumbs; null is no reward", arguments: [
        ("1", 0.0 as Double?),
        ("5", 1),
        ("3", 0.5),
        ("4", 0.75),
        ("2.5", 0.375),
        ("4.0e0", 0.75),
        ("true", 1),
        ("false", 0),
        ("null", nil),
    ])
    func chatRating(rating: String, reward: Double?) throws {
        let format = try ChatJSONLFormat(options: nil)
        let record = try Self.decode(format, "{\(Self.chat),\"rating\":\(rating)}").get()
        if let reward {
            let got = try #require(record.reward)
            #expect(abs(got - reward) < 1e-12)
        } else {
            #expect(record.reward == nil)
        }
        #expect(record.meta.last?.key == "rating", "the rating is kept in meta")
        #expect(record.meta.last.map { Self.write($0.value) } == rating)
    }

    static func write(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.value(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test("rating_field, rating_min and rating_max come from the options", arguments: [
        ("0", 0.0), ("7", 0.7), ("10", 1), ("true", 1),
    ])
    func chatRatingOptions(score: String, reward: Double) throws {
        let format = try ChatJSONLFormat(options: Self.options("{rating_field: score, rating_min: 0, rating_max: 10}"))
        let record = try Self.decode(format, "{\(Self.chat),\"score\":\(score),\"rating\":99}").get()
        let got = try #require(record.reward)
        #expect(abs(got - reward) < 1e-12)
        // The default field name means nothing here: it is an unknown field, kept in meta.
        #expect(record.meta.map(\.key) == ["rating", "score"])
    }

    @Test("a rating outside [rating_min, rating_max] is invalid_rating", arguments: ["0", "0.999", "5.5", "-1", "6", "1e3"])
    func chatInvalidRating(rating: String) throws {
        let failure = try #require(Self.failure(try ChatJSONLFormat(options: nil), "{\(Self.chat),\"rating\":\(rating)}"))
        #expect(failure.reason == "invalid_rating")
        #expect(failure.detail.contains("is outside [1.0, 5.0]"), "detail: \(failure.detail)")
    }

    @Test("chat lines of the wrong shape fail with wrong_shape", arguments: [
        ("{\(chat),\"rating\":\"5\"}", "'rating' must be a number or a boolean, found string"),
        ("{\(chat),\"rating\":[5]}", "'rating' must be a number or a boolean, found array"),
        ("{\(chat),\"text\":\"both\"}", "a chat line holds 'messages', not 'text'"),
        ("{\"text\":\"only text\"}", "a chat line needs 'messages'"),
        ("{}", "a chat line needs 'messages'"),
        (#"{"messages":[{"role":"robot","content":"beep"}]}"#, "messages[0].role 'robot' is not one of system, user, assistant, tool"),
        (#"{"messages":[{"role":"User","content":"hi"}]}"#, "messages[0].role 'User' is not one of"),
    ])
    func chatWrongShape(line: String, detail: String) throws {
        let failure = try #require(Self.failure(try ChatJSONLFormat(options: nil), line))
        #expect(failure.reason == "wrong_shape")
        #expect(failure.detail.contains(detail), "detail: \(failure.detail)")
    }

    @Test("a chat line with both a rating and a reward is wrong_shape, whichever comes first", arguments: [
        ("{\(chat),\"rating\": 3, \"reward\": 0.2}", "{}"),
        ("{\(chat),\"reward\": 0.2, \"rating\": true}", "{}"),
        ("{\(chat),\"score\": 7, \"reward\": 1}", "{rating_field: score, rating_min: 0, rating_max: 10}"),
    ])
    func chatRatingAndReward(line: String, options: String) throws {
        let format = try ChatJSONLFormat(options: Self.options(options))
        let failure = try #require(Self.failure(format, line))
        #expect(failure.reason == "wrong_shape")
        #expect(failure.detail.contains("both") && failure.detail.contains("'reward'") && failure.detail.contains("give one"),
                "detail: \(failure.detail)")
    }

    @Test("a chat line's reward alone is read as it is, and a null rating or reward beside the other is no conflict", arguments: [
        ("\"reward\": 0.2", 0.2),
        ("\"reward\": 0.2, \"rating\": null", 0.2),
        ("\"rating\": 3, \"reward\": null", 0.5),
    ])
    func chatRewardWithoutRating(fields: String, reward: Double) throws {
        let record = try Self.decode(try ChatJSONLFormat(options: nil), "{\(Self.chat),\(fields)}").get()
        let got = try #require(record.reward)
        #expect(abs(got - reward) < 1e-12)
    }

    @Test("a chat line keeps unknown fields in meta, in order, with the rating last")
    func chatMeta() throws {
        let record = try Self.decode(try ChatJSONLFormat(options: nil),
                                     "{\"conv_id\":\"c1\",\(Self.chat),\"rating\":4,\"tags\":[\"a\"],\"lang\":\"en\"}").get()
        #expect(JSONValue.object(record.meta)
            == .object([("conv_id", .string("c1")), ("tags", .array([.string("a")])), ("rating", .number("4"))]))
        #expect(record.lang == "en")
        #expect(record.messages?.count == 2)
        #expect(record.id == "src/sub/a.jsonl:7")
    }

    @Test("rating_max must be above rating_min")
    func chatBadRange() throws {
        let error = try #require(#expect(throws: RefineryError.self) {
            try ChatJSONLFormat(options: Self.options("{rating_min: 5, rating_max: 5}"))
        })
        #expect(error.message.contains("rating_max (5.0) must be greater than rating_min (5.0)"))
    }

    // MARK: TextFormat

    @Test("split: file makes one unit per file at line 1, without the BOM")
    func textFile() throws {
        let format = try TextFormat(options: nil)
        #expect(format.mode == .file)
        let input = "\u{FEFF}# Title\n\nBody line.\n"
        let (units, counts) = try Self.split(Array(input.utf8), name: "a.md", with: format)
        #expect(units.map(\.text) == ["# Title\n\nBody line.\n"])
        #expect(units.map(\.line) == [1])
        #expect(counts.lines == 1 && counts.blankLines == 0)
    }

    @Test("split: file counts a blank file and makes no unit", arguments: ["", "  \n\n\t\r\n", "\u{FEFF}\n"])
    func textBlankFile(input: String) throws {
        let (units, counts) = try Self.split(Array(input.utf8), name: "a.md", with: try TextFormat(options: nil))
        #expect(units.isEmpty)
        #expect(counts.blankLines == 1)
    }

    @Test("split: paragraph cuts at blank lines and numbers each document by its first line", arguments: [
        ("para one\nline two\n\n\npara two\n   \npara three", ["para one\nline two", "para two", "para three"], [1, 5, 7], 7, 3),
        ("para one\nline two\n\n\npara two\n   \npara three\n", ["para one\nline two", "para two", "para three"], [1, 5, 7], 7, 3),
        ("\u{FEFF}\n\nfirst\n", ["first"], [3], 3, 2),
        ("a\r\nb\r\n\r\nc\r\n", ["a\r\nb", "c"], [1, 4], 4, 1),
        ("only\n", ["only"], [1], 1, 0),
        ("\n \n", [], [], 2, 2),
        ("", [], [], 0, 0),
    ] as [(String, [String], [Int], Int, Int)])
    func textParagraphs(input: String, texts: [String], numbers: [Int], lines: Int, blank: Int) throws {
        let format = try TextFormat(options: Self.options("{split: paragraph}"))
        let (units, counts) = try Self.split(Array(input.utf8), name: "a.md", with: format)
        #expect(units.map(\.text) == texts)
        #expect(units.map(\.line) == numbers)
        #expect(counts.lines == lines)
        #expect(counts.blankLines == blank)
    }

    @Test("split: file quarantines a document over max_document_bytes, keeping its start", arguments: [500, 5000])
    func textTooLong(size: Int) throws {
        let format = try TextFormat(options: Self.options("{max_document_bytes: 100}"))
        let input = Self.alphabet(count: size)
        let (units, counts) = try Self.split(input, name: "a.md", with: format)
        try #require(units.count == 1)
        #expect(units[0].problem == .documentTooLong(bytes: size, limit: 100))
        #expect(units[0].bytes == Array(input.prefix(LineSplitter.previewBytes)))
        #expect(counts.lines == 1)
    }

    @Test("split: file keeps only the start of a document over the limit, whatever the size of its last chunk")
    func textTooLongLastChunk() throws {
        // Chunks of 1 MiB: over the limit after the second, and the third (0.3 MiB) alone is under it.
        let format = try TextFormat(options: Self.options("{max_document_bytes: 1536KiB}"))
        let size = 2 * ByteStream.chunkSize + 300_000
        let input = Self.alphabet(count: size)
        let (units, _) = try Self.split(input, name: "a.md", with: format)
        try #require(units.count == 1)
        #expect(units[0].problem == .documentTooLong(bytes: size, limit: 1536 << 10))
        // Compared as a count and a Bool: a failure prints no megabytes.
        #expect(units[0].bytes.count == LineSplitter.previewBytes)
        #expect(units[0].bytes.elementsEqual(input.prefix(LineSplitter.previewBytes)))
    }

    @Test("text decodes to a document, repairing invalid UTF-8")
    func textDecode() throws {
        let format = try TextFormat(options: nil)
        let record = try Self.decode(format, Array("caf".utf8) + [0xC3] + Array(" ok".utf8)).get()
        #expect(record.text == "caf\u{FFFD} ok")
        #expect(record.utf8Repairs == 1)
        #expect(record.id == "src/sub/a.jsonl:7")
        #expect(record.category == "cat")
        let clean = try Self.decode(format, "plain").get()
        #expect(clean.text == "plain" && clean.utf8Repairs == 0)
    }

    @Test("text rejects an unknown split mode")
    func textBadSplit() throws {
        let error = try #require(#expect(throws: RefineryError.self) { try TextFormat(options: Self.options("{split: sentence}")) })
        #expect(error.message.contains("must be 'file' or 'paragraph', found 'sentence'"))
    }

    // MARK: Registry

    @Test("the registry builds each known kind and names the known kinds for an unknown one")
    func registry() throws {
        let spec = try PipelineSpec.parse(yaml: """
            name: t
            sources:
              - {name: a, kind: jsonl, glob: g}
              - {name: b, kind: chat_jsonl, glob: g}
              - {name: c, kind: text, glob: g, options: {split: paragraph}}
              - {name: d, kind: parquet, glob: g}
            output: {dir: o}
            """, file: "t.yaml", baseDirectory: "/tmp")
        #expect(try ReaderRegistry.format(for: spec.sources[0]) is JSONLFormat)
        #expect(try ReaderRegistry.format(for: spec.sources[1]) is ChatJSONLFormat)
        #expect((try ReaderRegistry.format(for: spec.sources[2]) as? TextFormat)?.mode == .paragraph)
        let error = try #require(#expect(throws: RefineryError.self) { try ReaderRegistry.format(for: spec.sources[3]) })
        #expect(error.message.contains("unknown source kind 'parquet'; known kinds: jsonl, chat_jsonl, text, subtitles, bilingual_subtitles, metadata_csv, interactions"))
        #expect(error.location?.line == 6)
    }

    @Test("a CRLF line ending does not count toward max_line_bytes")
    func crlfNotCounted() throws {
        let scratch = try TemporaryFolder("refinery-readers")
        defer { scratch.cleanup() }
        let line = "{\"text\":\"" + String(repeating: "x", count: 100) + "\"}"
        let path = try scratch.write("a.jsonl", line + "\n" + line + "\r\n")
        let splitter = LineSplitter(maxLineBytes: line.utf8.count)
        var problems: [RawUnit.Problem?] = []
        let builder = BatchBuilder(maxRecords: 100, maxBytes: 1 << 20) { batch in problems += batch.units.map(\.problem) }
        _ = try splitter.split(ByteStream(path: path, zstd: false), fileIndex: 0, into: builder)
        try builder.flush()
        #expect(problems.count == 2)
        #expect(problems.allSatisfy { $0 == nil })
    }

    @Test("a pii count too large for an integer is a wrong shape, not a crash")
    func hugePIICount() throws {
        let format = try JSONLFormat(options: nil)
        let context = UnitContext(source: "s", category: nil, lang: nil, relativePath: "a.jsonl", path: "a.jsonl", line: 1)
        let line = Array(#"{"text":"hello there","pii":{"email":1e300}}"#.utf8)
        let error = try #require(throws: DecodeFailure.self) {
            try line.withUnsafeBufferPointer { bytes throws(DecodeFailure) in _ = try format.decode(bytes, context: context) }
        }
        #expect(error.reason == "wrong_shape")
    }
}
