import CRefineryXXHash

/// XXH3-64 hashing: shard checksums, record-id hashes, input fingerprints.
public enum XXH3 {
    /// The XXH3-64 hash of `bytes` with seed 0.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        XXH3_64bits_withSeed(bytes.baseAddress, bytes.count, seed)
    }

    /// The XXH3-64 hash of a byte array.
    @inlinable
    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// The XXH3-64 hash of a string's UTF-8 bytes.
    @inlinable
    public static func hash(_ string: String, seed: UInt64 = 0) -> UInt64 {
        var copy = string
        return copy.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// `value` as 16 lower-case hex digits, the form written into manifests.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// A streaming XXH3-64 hasher over one `XXH3_state_t`, for files too large to hold.
/// Not `Sendable`: one hasher per stream.
public final class XXH3Hasher {
    private let state: OpaquePointer

    /// Creates a hasher with seed 0.
    /// - Throws: ``CodecError`` when the state cannot be allocated.
    public init() throws {
        guard let state = XXH3_createState() else {
            throw CodecError(.xxhashState, "XXH3_createState returned NULL (out of memory)")
        }
        self.state = state
        guard XXH3_64bits_reset(state) == XXH_OK else {
            XXH3_freeState(state)
            throw CodecError(.xxhashState, "XXH3_64bits_reset failed")
        }
    }

    deinit { XXH3_freeState(state) }

    /// Adds bytes to the hash.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        // XXH3_64bits_update only fails on a NULL state, which init rules out.
        _ = XXH3_64bits_update(state, bytes.baseAddress, bytes.count)
    }

    /// Adds a byte array to the hash.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The hash of everything added so far.
    public var digest: UInt64 { XXH3_64bits_digest(state) }
}
