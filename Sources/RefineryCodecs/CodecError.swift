/// A failure inside libzstd or libxxhash, with the library's own words.
public struct CodecError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is. New codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// libzstd could not allocate or configure a context.
        public static let zstdContext = Code("zstd_context")
        /// libzstd reported an error while compressing.
        public static let zstdCompress = Code("zstd_compress")
        /// libzstd reported an error while decompressing: the input is corrupt or not zstd.
        public static let zstdDecompress = Code("zstd_decompress")
        /// The input ended in the middle of a zstd frame.
        public static let zstdTruncated = Code("zstd_truncated")
        /// libxxhash could not allocate its state.
        public static let xxhashState = Code("xxhash_state")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
