import Foundation
import RefineryCodecs
import Testing

@Suite struct CodecTests {
    /// SplitMix64: a fixed-seed generator so "random" inputs are the same on every run.
    struct SeededBytes {
        var generator: SplitMix64

        init(state: UInt64) { generator = SplitMix64(seed: state) }

        mutating func next() -> UInt64 { generator.next() }

        /// Text-like bytes (compressible): words from a small alphabet, spaces and newlines.
        mutating func text(count: Int) -> [UInt8] {
            let alphabet = Array("abcdefghij klmnop\n".utf8)
            return (0..<count).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
        }

        /// Incompressible bytes.
        mutating func noise(count: Int) -> [UInt8] {
            (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
        }
    }

    /// The frame content size a zstd frame header declares, or `nil` when the header has none
    /// (RFC 8878, section 3.1.1.1). Parsed by hand because libzstd's ZSTD_getFrameContentSize is not exposed.
    static func declaredContentSize(_ frame: [UInt8]) throws -> UInt64? {
        try #require(frame.count >= 6)
        #expect(Array(frame[0..<4]) == [0x28, 0xB5, 0x2F, 0xFD], "zstd magic number")
        let descriptor = frame[4]
        let sizeFlag = Int(descriptor >> 6)
        let singleSegment = descriptor & 0x20 != 0
        let dictionaryIDBytes = [0, 1, 2, 4][Int(descriptor & 0x03)]
        let sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag]
        if sizeBytes == 0 { return nil }
        var offset = 5 + (singleSegment ? 0 : 1) + dictionaryIDBytes
        var value: UInt64 = 0
        for shift in 0..<sizeBytes {
            value |= UInt64(frame[offset]) << (8 * UInt64(shift))
            offset += 1
        }
        return sizeBytes == 2 ? value + 256 : value
    }

    static func compressFrame(_ input: [UInt8], level: Int32 = 3) throws -> [UInt8] {
        let compressor = try ZstdCompressor(level: level)
        var out: [UInt8] = []
        try compressor.compressFrame(input, into: &out)
        return out
    }

    // MARK: zstd

    @Test("compressFrame then decompressAll gives the input back", arguments: [0, 1, 100, 70_000, 300_000])
    func roundTrip(size: Int) throws {
        var random = SeededBytes(state: UInt64(size))
        let input = random.text(count: size)
        let frame = try Self.compressFrame(input)
        #expect(try ZstdDecompressor.decompressAll(frame) == input)
    }

    @Test("decompressAll gives the bytes back whether the frames record their size or not, past 64 to 1, several together")
    func decompressAllPaths() throws {
        var random = SeededBytes(state: 5)
        let text = random.text(count: 80_000), zeros = [UInt8](repeating: 0, count: 1 << 20)
        let compressor = try ZstdCompressor()
        var sized: [UInt8] = [], streamed: [UInt8] = [], both: [UInt8] = []
        try compressor.compressFrame(text, into: &sized)
        try compressor.begin()
        try text.withUnsafeBytes { try compressor.write($0, into: &streamed) }
        try compressor.finish(into: &streamed)
        var sparse: [UInt8] = []
        try compressor.compressFrame(zeros, into: &sparse)
        #expect(sparse.count * 64 < zeros.count)
        // A frame whose output is a whole number of the streaming decompressor's buffers (1 MiB: 8 of 128 KiB) ends
        // where the stream ends, not cut off.
        let streaming = try ZstdDecompressor()
        var out: [UInt8] = []
        try sparse.withUnsafeBytes { try streaming.decompress($0, into: &out) }
        try streaming.finish()
        #expect(out == zeros)
        both = sized + sparse + streamed + sized
        #expect(try ZstdDecompressor.decompressAll(sized) == text)
        #expect(try ZstdDecompressor.decompressAll(streamed) == text)
        #expect(try ZstdDecompressor.decompressAll(sparse) == zeros)
        #expect(try ZstdDecompressor.decompressAll(both) == text + zeros + text + text)
        #expect(try ZstdDecompressor.decompressAll([]) == [])
        // Damage: a flipped byte in the block, and a frame cut short, both refused.
        var flipped = sized
        flipped[flipped.count / 2] ^= 0xFF
        #expect(throws: CodecError.self) { try ZstdDecompressor.decompressAll(flipped) }
        #expect(throws: CodecError.self) { try ZstdDecompressor.decompressAll(Array(sized.dropLast(7))) }
    }

    @Test("incompressible input round trips at the fastest and the smallest level", arguments: [Int32(1), 19])
    func roundTripNoise(level: Int32) throws {
        var random = SeededBytes(state: 7)
        let input = random.noise(count: 50_000)
        let frame = try Self.compressFrame(input, level: level)
        #expect(try ZstdDecompressor.decompressAll(frame) == input)
    }

    @Test("concatenated frames decompress as one stream, in any input chunking", arguments: [1, 7, 4096, 1 << 20])
    func multiFrame(chunk: Int) throws {
        var random = SeededBytes(state: 42)
        let parts = [random.text(count: 1000), [], random.text(count: 200_000), random.noise(count: 3000)]
        let compressor = try ZstdCompressor()
        var stream: [UInt8] = []
        for part in parts { try compressor.compressFrame(part, into: &stream) }

        let decompressor = try ZstdDecompressor()
        var out: [UInt8] = []
        var start = 0
        while start < stream.count {
            let end = min(start + chunk, stream.count)
            try stream[start..<end].withUnsafeBytes { try decompressor.decompress($0, into: &out) }
            start = end
        }
        try decompressor.finish()
        #expect(out == parts.flatMap { $0 })
        #expect(decompressor.consumed == stream.count)
    }

    @Test("a frame streamed with begin/write/finish round trips and mixes with whole frames")
    func streamedFrame() throws {
        var random = SeededBytes(state: 3)
        let pieces = (0..<5).map { random.text(count: 10_000 * ($0 + 1)) }
        let whole = random.text(count: 5000)
        let compressor = try ZstdCompressor()
        var out: [UInt8] = []
        try compressor.compressFrame(whole, into: &out)
        try compressor.begin()
        for piece in pieces { try piece.withUnsafeBytes { try compressor.write($0, into: &out) } }
        try compressor.finish(into: &out)
        try compressor.compressFrame(whole, into: &out)
        #expect(try ZstdDecompressor.decompressAll(out) == whole + pieces.flatMap { $0 } + whole)
    }

    @Test("compressFrame and a pledged begin write the content size into the frame header", arguments: [0, 1, 255, 256, 65_791, 65_792, 1_000_000])
    func contentSizeInHeader(size: Int) throws {
        var random = SeededBytes(state: 11)
        let input = random.text(count: size)
        #expect(try Self.declaredContentSize(Self.compressFrame(input)) == UInt64(size))

        let compressor = try ZstdCompressor()
        var streamed: [UInt8] = []
        try compressor.begin(pledgedSize: size)
        try input.withUnsafeBytes { try compressor.write($0, into: &streamed) }
        try compressor.finish(into: &streamed)
        #expect(try Self.declaredContentSize(streamed) == UInt64(size))
        #expect(try ZstdDecompressor.decompressAll(streamed) == input)
    }

    @Test("frames are found from their headers and runs of them decompress apart; a streamed or cut frame gives no list")
    func framesApart() throws {
        var random = SeededBytes(state: 5)
        let texts = [0, 1, 70_000, 300, 5000].map { random.text(count: $0) }
        let compressor = try ZstdCompressor()
        var out: [UInt8] = []
        for text in texts { try compressor.compressFrame(text, into: &out) }
        let frames = try #require(out.withUnsafeBytes { ZstdFrames.list($0) })
        #expect(frames.map(\.size) == texts.map(\.count))
        #expect(frames.first?.compressed.lowerBound == 0 && frames.last?.compressed.upperBound == out.count)
        #expect(zip(frames, frames.dropFirst()).allSatisfy { $0.compressed.upperBound == $1.compressed.lowerBound })
        let run = frames[1].compressed.lowerBound..<frames[3].compressed.upperBound
        let size = frames[1...3].map(\.size).reduce(0, +)
        #expect(try out.withUnsafeBytes { try ZstdFrames.decompress(UnsafeRawBufferPointer(rebasing: $0[run]), size: size) }
            == texts[1...3].flatMap { $0 })
        #expect(throws: CodecError.self) {
            try out.withUnsafeBytes { try ZstdFrames.decompress(UnsafeRawBufferPointer(rebasing: $0[run]), size: size + 1) }
        }
        #expect(out.dropLast().withUnsafeBytes { ZstdFrames.list($0) } == nil, "truncated")
        try compressor.begin()
        try texts[3].withUnsafeBytes { try compressor.write($0, into: &out) }
        try compressor.finish(into: &out)
        #expect(out.withUnsafeBytes { ZstdFrames.list($0) } == nil, "a frame without its size")
    }

    @Test("a frame begun without a pledged size has no content size in its header")
    func noContentSizeWhenUnknown() throws {
        let compressor = try ZstdCompressor()
        var out: [UInt8] = []
        try compressor.begin()
        try Array("hello\n".utf8).withUnsafeBytes { try compressor.write($0, into: &out) }
        try compressor.finish(into: &out)
        #expect(try Self.declaredContentSize(out) == nil)
    }

    @Test("writing fewer bytes than pledged fails with zstdCompress")
    func pledgeMismatch() throws {
        let compressor = try ZstdCompressor()
        var out: [UInt8] = []
        try compressor.begin(pledgedSize: 100)
        try Array(repeating: UInt8(ascii: "a"), count: 10).withUnsafeBytes { try compressor.write($0, into: &out) }
        let error = #expect(throws: CodecError.self) { try compressor.finish(into: &out) }
        #expect(error?.code == .zstdCompress)
        // The compressor is usable again after begin.
        var again: [UInt8] = []
        try compressor.compressFrame([1, 2, 3], into: &again)
        #expect(try ZstdDecompressor.decompressAll(again) == [1, 2, 3])
    }

    @Test("the zstd command line tool reads a multi-frame file and reports the content size",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zstd")))
    func zstdCommandLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-codec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        var random = SeededBytes(state: 5)
        let first = random.text(count: 12_345)
        let second = random.text(count: 200_000)
        let compressor = try ZstdCompressor(level: 5)
        var single: [UInt8] = []
        try compressor.compressFrame(first, into: &single)
        var multi = single
        try compressor.compressFrame(second, into: &multi)
        let singlePath = folder.appendingPathComponent("one.zst")
        let multiPath = folder.appendingPathComponent("two.zst")
        try Data(single).write(to: singlePath)
        try Data(multi).write(to: multiPath)

        func zstd(_ arguments: [String]) throws -> (status: Int32, output: Data) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }

        let decoded = try zstd(["-dc", multiPath.path])
        #expect(decoded.status == 0)
        #expect([UInt8](decoded.output) == first + second)

        let listing = try zstd(["-lv", singlePath.path])
        #expect(listing.status == 0)
        let text = String(decoding: listing.output, as: UTF8.self)
        #expect(text.contains("Decompressed Size:") && text.contains("(12345 B)"), "zstd -lv said: \(text)")
    }

    @Test("input that is not zstd throws zstdDecompress", arguments: [
        Array("definitely not zstd".utf8),
        [0x28, 0xB5, 0x2F, 0xFD] + [UInt8](repeating: 0xFF, count: 32),
    ])
    func corruptInput(bytes: [UInt8]) throws {
        let error = #expect(throws: CodecError.self) { try ZstdDecompressor.decompressAll(bytes) }
        #expect(error?.code == .zstdDecompress)
    }

    @Test("a damaged byte inside a checksummed frame throws zstdDecompress", arguments: [0.3, 0.6, 0.9])
    func damagedFrame(position: Double) throws {
        var random = SeededBytes(state: 9)
        var frame = try Self.compressFrame(random.text(count: 50_000))
        let index = 12 + Int(Double(frame.count - 16) * position)
        frame[index] ^= 0x5A
        let error = #expect(throws: CodecError.self) { try ZstdDecompressor.decompressAll(frame) }
        #expect(error?.code == .zstdDecompress)
    }

    @Test("input cut inside a frame decompresses what it can, then finish() throws zstdTruncated",
          arguments: [1, 4, 6, 100, -1])
    func truncatedInput(cut: Int) throws {
        var random = SeededBytes(state: 13)
        let good = try Self.compressFrame(random.text(count: 2000))
        let last = try Self.compressFrame(random.text(count: 300_000))
        let keep = cut > 0 ? cut : last.count + cut
        let data = good + last[0..<keep]

        let decompressor = try ZstdDecompressor()
        var out: [UInt8] = []
        try data.withUnsafeBytes { try decompressor.decompress($0, into: &out) }
        #expect(out.count >= 2000, "the first, whole frame is decoded")
        let error = #expect(throws: CodecError.self) { try decompressor.finish() }
        #expect(error?.code == .zstdTruncated)
        #expect(error?.description.contains("truncated") == true)
    }

    @Test("an empty chunk after a whole frame does not make the input look truncated")
    func emptyChunkAfterFrame() throws {
        let frame = try Self.compressFrame(Array("one frame\n".utf8))
        let decompressor = try ZstdDecompressor()
        var out: [UInt8] = []
        try frame.withUnsafeBytes { try decompressor.decompress($0, into: &out) }
        try [UInt8]().withUnsafeBytes { try decompressor.decompress($0, into: &out) }
        try decompressor.finish()
        #expect(out == Array("one frame\n".utf8))
    }

    @Test("a compression level outside libzstd's bounds throws zstdContext", arguments: [Int32(23), 100, Int32.min, Int32.max])
    func invalidLevel(level: Int32) throws {
        let error = #expect(throws: CodecError.self) { try ZstdCompressor(level: level) }
        #expect(error?.code == .zstdContext)
        #expect(error?.message.contains("\(level)") == true)
    }

    @Test("the linked libzstd reports a dotted version")
    func libraryVersion() {
        #expect(Zstd.libraryVersion.split(separator: ".").count == 3)
    }

    // MARK: XXH3

    /// Inputs for the known-answer table: name and bytes.
    static let knownInputs: [(name: String, bytes: [UInt8])] = [
        ("empty", []),
        ("a", Array("a".utf8)),
        ("abc", Array("abc".utf8)),
        ("hello world\\n", Array("hello world\n".utf8)),
        ("i % 251, 1000 bytes", (0..<1000).map { UInt8($0 % 251) }),
        ("(i * 31 + 7) % 256, 100000 bytes", (0..<100_000).map { UInt8(($0 * 31 + 7) % 256) }),
    ]

    // Expected values were verified with `xxhsum -H3` (xxHash 0.8.1) on files holding exactly these bytes.
    @Test("XXH3-64 matches known answers from xxhsum -H3", arguments: zip(knownInputs.map(\.name), [
        0x2d06_8005_38d3_94c2 as UInt64,
        0xe6c6_32b6_1e96_4e1f,
        0x78af_5f94_892f_3950,
        0xd42f_7ed4_b73c_6bde,
        0x33ef_703f_b2b2_0ed1,
        0xccf9_0df7_e7e3_7036,
    ]))
    func xxh3KnownAnswers(name: String, expected: UInt64) throws {
        let bytes = try #require(Self.knownInputs.first { $0.name == name }).bytes
        #expect(XXH3.hash(bytes) == expected)
        #expect(bytes.withUnsafeBytes { XXH3.hash($0) } == expected)
    }

    @Test("hashing a string hashes its UTF-8 bytes")
    func xxh3String() {
        // Verified with `xxhsum -H3` on a file holding the string's UTF-8 bytes.
        #expect(XXH3.hash("héllo wörld 🌍") == 0x6776_5386_f465_5b0f)
        #expect(XXH3.hash("abc") == XXH3.hash(Array("abc".utf8)))
    }

    @Test("a seed changes the hash")
    func xxh3Seed() {
        #expect(XXH3.hash(Array("abc".utf8), seed: 1) != XXH3.hash(Array("abc".utf8)))
        #expect(XXH3.hash(Array("abc".utf8), seed: 0) == 0x78af_5f94_892f_3950)
    }

    @Test("the streaming hasher equals the one-shot hash in any chunking", arguments: [1, 7, 240, 4096, 65_536, 100_000])
    func xxh3Streaming(chunk: Int) throws {
        let bytes = Self.knownInputs[5].bytes
        let hasher = try XXH3Hasher()
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            bytes[start..<end].withUnsafeBytes { hasher.update($0) }
            start = end
        }
        #expect(hasher.digest == XXH3.hash(bytes))
        #expect(hasher.digest == 0xccf9_0df7_e7e3_7036)
    }

    @Test("digest can be read mid-stream without disturbing the hash")
    func xxh3DigestMidStream() throws {
        let hasher = try XXH3Hasher()
        #expect(hasher.digest == 0x2d06_8005_38d3_94c2)
        hasher.update(Array("ab".utf8))
        #expect(hasher.digest == XXH3.hash(Array("ab".utf8)))
        hasher.update(Array("c".utf8))
        #expect(hasher.digest == 0x78af_5f94_892f_3950)
    }

    @Test("hex gives 16 lower-case digits", arguments: [
        (UInt64(0), "0000000000000000"),
        (1, "0000000000000001"),
        (0x2d06_8005_38d3_94c2, "2d06800538d394c2"),
        (UInt64.max, "ffffffffffffffff"),
    ])
    func hex(value: UInt64, expected: String) {
        #expect(XXH3.hex(value) == expected)
    }
}
