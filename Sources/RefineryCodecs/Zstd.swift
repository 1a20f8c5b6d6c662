import CRefineryZstd

/// Namespace for zstd facts that do not need a context.
public enum Zstd {
    /// The version of the linked libzstd, for example `"1.5.4"`.
    public static var libraryVersion: String { String(cString: ZSTD_versionString()) }

    /// Throws when `code` is a zstd error code.
    @usableFromInline
    static func check(_ code: Int, _ errorCode: CodecError.Code, _ action: String) throws -> Int {
        if ZSTD_isError(code) != 0 {
            throw CodecError(errorCode, "\(action): \(String(cString: ZSTD_getErrorName(code)))")
        }
        return code
    }
}

/// A streaming zstd compressor over one `ZSTD_CCtx`.
///
/// Each call to ``compressFrame(_:into:)`` writes one complete zstd frame with its content size in the
/// header; ``begin(pledgedSize:)``, ``write(_:into:)`` and ``finish(into:)`` stream a frame of unknown or
/// known size piece by piece. Frames concatenate: `zstd -dc` reads a file of many frames as one stream.
/// Not `Sendable`: give each worker its own compressor.
public final class ZstdCompressor {
    private let context: OpaquePointer
    /// The compression level this compressor was created with.
    public let level: Int32
    private var output: [UInt8]

    /// Creates a compressor.
    /// - Parameters:
    ///   - level: zstd level within libzstd's bounds (negative = faster, up to 22 = smaller); 3 is zstd's default.
    ///     Pipeline specs allow 1 to 19.
    ///   - checksum: whether each frame carries zstd's own content checksum.
    /// - Throws: ``CodecError`` when the context cannot be made or the level is out of range.
    public init(level: Int32 = 3, checksum: Bool = true) throws {
        guard let context = ZSTD_createCCtx() else {
            throw CodecError(.zstdContext, "ZSTD_createCCtx returned NULL (out of memory)")
        }
        self.context = context
        self.level = level
        self.output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        let bounds = ZSTD_cParam_getBounds(ZSTD_c_compressionLevel)
        guard ZSTD_isError(bounds.error) == 0, Int(level) >= Int(bounds.lowerBound), Int(level) <= Int(bounds.upperBound)
        else {
            throw CodecError(.zstdContext, "zstd level \(level) is outside \(bounds.lowerBound)...\(bounds.upperBound)")
        }
        _ = try Zstd.check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), .zstdContext, "set level")
        _ = try Zstd.check(
            ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0), .zstdContext, "set checksum flag")
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Starts a new frame, dropping any unfinished one.
    /// - Parameter pledgedSize: the exact number of bytes the frame will hold, written into its header, or `nil`.
    public func begin(pledgedSize: Int? = nil) throws {
        _ = try Zstd.check(ZSTD_CCtx_reset(context, ZSTD_reset_session_only), .zstdContext, "reset session")
        let size = pledgedSize.map { UInt64($0) } ?? ZSTD_CONTENTSIZE_UNKNOWN
        _ = try Zstd.check(ZSTD_CCtx_setPledgedSrcSize(context, size), .zstdContext, "pledge source size")
    }

    /// Compresses `input` into the current frame and appends whatever output is ready to `sink`.
    public func write(_ input: UnsafeRawBufferPointer, into sink: inout [UInt8]) throws {
        try drive(input, mode: ZSTD_e_continue, into: &sink)
    }

    /// Ends the current frame and appends the rest of it to `sink`.
    public func finish(into sink: inout [UInt8]) throws {
        try drive(UnsafeRawBufferPointer(start: nil, count: 0), mode: ZSTD_e_end, into: &sink)
    }

    /// Compresses `input` as one whole frame, with its size in the header, appended to `sink`.
    public func compressFrame(_ input: [UInt8], into sink: inout [UInt8]) throws {
        try begin(pledgedSize: input.count)
        do {
            try input.withUnsafeBytes { (raw) throws in
                try drive(raw, mode: ZSTD_e_end, into: &sink)
            }
        }
    }

    private func drive(_ input: UnsafeRawBufferPointer, mode: ZSTD_EndDirective, into sink: inout [UInt8])
        throws
    {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        let capacity = output.count
        while true {
            var remaining = 0
            let produced: Int = try output.withUnsafeMutableBytes { (out) throws -> Int in
                var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: capacity, pos: 0)
                remaining = try Zstd.check(
                    ZSTD_compressStream2(context, &outBuffer, &inBuffer, mode), .zstdCompress, "compress")
                return outBuffer.pos
            }
            if produced > 0 { sink.append(contentsOf: output[0..<produced]) }
            let done: Bool
            if mode == ZSTD_e_end {
                done = remaining == 0
            } else {
                done = inBuffer.pos == inBuffer.size
            }
            if done { return }
        }
    }
}

/// A streaming zstd decompressor over one `ZSTD_DCtx`.
///
/// Feed compressed bytes with ``decompress(_:into:)`` in any chunking; at the end call ``finish()``, which
/// throws when the input stopped in the middle of a frame (a truncated file). Files of many frames are read
/// as one stream. Not `Sendable`: give each reader its own.
public final class ZstdDecompressor {
    private let context: OpaquePointer
    private var output: [UInt8]
    private var inFrame = false
    /// Bytes of compressed input consumed so far.
    public private(set) var consumed = 0

    /// Creates a decompressor.
    /// - Throws: ``CodecError`` when the context cannot be made.
    public init() throws {
        guard let context = ZSTD_createDCtx() else {
            throw CodecError(.zstdContext, "ZSTD_createDCtx returned NULL (out of memory)")
        }
        self.context = context
        self.output = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decompresses a chunk of input and appends everything it yields to `sink`.
    /// - Throws: ``CodecError`` with code `zstdDecompress` on corrupt input.
    public func decompress(_ input: UnsafeRawBufferPointer, into sink: inout [UInt8]) throws {
        // Nothing to feed, and the last call left nothing to flush: asking libzstd anyway would return the next
        // frame's header size as a hint and make a stream that ended on a frame boundary look truncated.
        guard input.count > 0 else { return }
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        let capacity = output.count
        while true {
            var hint = 0
            let produced: Int = try output.withUnsafeMutableBytes { (out) throws -> Int in
                var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: capacity, pos: 0)
                let before = inBuffer.pos
                hint = try Zstd.check(
                    ZSTD_decompressStream(context, &outBuffer, &inBuffer), .zstdDecompress,
                    "decompress at compressed byte \(consumed + before)")
                consumed += inBuffer.pos - before
                return outBuffer.pos
            }
            if produced > 0 { sink.append(contentsOf: output[0..<produced]) }
            inFrame = hint != 0
            // Stop once all input is consumed and nothing is left to flush: the output buffer was not filled, or the
            // frame ended (0). A frame that ended exactly filling the buffer was asked again for more, which answered
            // with the next frame's header size and made the input look cut off.
            if inBuffer.pos == inBuffer.size && (produced < capacity || hint == 0) { return }
        }
    }

    /// Checks that the input ended on a frame boundary.
    /// - Throws: ``CodecError`` with code `zstdTruncated` when the last frame is incomplete.
    public func finish() throws {
        if inFrame {
            throw CodecError(.zstdTruncated, "input ended inside a zstd frame after \(consumed) compressed bytes (file truncated?)")
        }
    }

    /// Decompresses a whole buffer of one or more frames.
    ///
    /// Frames that record their size, as ``ZstdCompressor/compressFrame(_:into:)``'s do, are decompressed in one call
    /// straight into an array of that size (up to 64 × the input): no streaming context, no staging buffer, no
    /// regrowth. Others (a streamed frame, damaged or cut-off input) go through the streaming decompressor, which says
    /// where they fail.
    /// - Parameter expectedSize: the decompressed size, when known (a manifest's): reserved at once, so the output
    ///   is not regrown and copied on the way; a hint only, held to at most 64 × the input.
    public static func decompressAll(_ data: [UInt8], expectedSize: Int = 0) throws -> [UInt8] {
        if data.isEmpty { return [] }
        let recorded = data.withUnsafeBytes { raw in ZstdFrames.list(raw).map { $0.reduce(0) { $0 + $1.size } } }
        if let size = recorded, size <= data.count * 64 {
            return try data.withUnsafeBytes { try ZstdFrames.decompress($0, size: size) }
        }
        let decompressor = try ZstdDecompressor()
        var out: [UInt8] = []
        out.reserveCapacity(min(max(0, expectedSize), data.count * 64))
        try data.withUnsafeBytes { (raw) throws in
            try decompressor.decompress(raw, into: &out)
        }
        try decompressor.finish()
        return out
    }
}

/// The frames of a buffer of zstd frames one after another (a shard: one frame per batch), found from their headers
/// without decompressing, so that runs of them can be decompressed apart, on several threads.
public enum ZstdFrames {
    /// One frame: where it is in the buffer, and how many bytes it decompresses to (as its header records it).
    public struct Frame: Sendable, Equatable {
        public var compressed: Range<Int>
        public var size: Int
    }

    /// Every frame of `data`, in order; nil when one does not record its decompressed size (a streamed frame), or
    /// `data` is not whole frames (corrupt or truncated: the streaming ``ZstdDecompressor`` then says where).
    public static func list(_ data: UnsafeRawBufferPointer) -> [Frame]? {
        guard let base = data.baseAddress else { return [] }
        var frames: [Frame] = []
        var offset = 0
        while offset < data.count {
            let length = ZSTD_findFrameCompressedSize(base + offset, data.count - offset)
            guard ZSTD_isError(length) == 0, length > 0 else { return nil }
            let size = ZSTD_getFrameContentSize(base + offset, length)
            guard size != ZSTD_CONTENTSIZE_UNKNOWN, size != ZSTD_CONTENTSIZE_ERROR, size <= UInt64(Int.max) else { return nil }
            frames.append(Frame(compressed: offset..<(offset + length), size: Int(size)))
            offset += length
        }
        return frames
    }

    /// Decompresses whole frames (a run of ``list(_:)``'s) straight into an array of the `size` bytes they hold.
    /// - Throws: ``CodecError`` with code `zstdDecompress` when they are corrupt or hold another size.
    public static func decompress(_ frames: UnsafeRawBufferPointer, size: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            let written = try Zstd.check(ZSTD_decompress(buffer.baseAddress, size, frames.baseAddress, frames.count),
                                         .zstdDecompress, "decompress \(frames.count) compressed bytes")
            guard written == size else {
                throw CodecError(.zstdDecompress, "frames recording \(size) bytes decompressed to \(written)")
            }
            initialized = written
        }
    }
}
