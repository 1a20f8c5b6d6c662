import RefineryCodecs

/// The per-record kernels of deduplication: the exact hash of a record's normalised text, its word shingles for
/// MinHash, and both at once (``fingerprint(_:using:)``), all read from the shared ``TextView`` rather than by
/// re-splitting the text.
///
/// A value with reusable scratch buffers, so the hot path allocates nothing per record but its results: give each
/// worker its own `DedupText` (it is `Sendable`, and holds no shared mutable state).
///
/// ```swift
/// var dedup = DedupText()                               // one per worker
/// let hasher = MinHasher(seed: 42)                      // shared, immutable
/// let fingerprint = dedup.fingerprint(view, using: hasher)
/// let bands = hasher.bandHashes(fingerprint.signature)  // for LSHIndex, on the index thread
/// ```
public struct DedupText: Sendable {
    /// What counts as the same text.
    public let normalization: DedupNormalization
    /// Words per shingle (n of the n-grams); characters per shingle in scripts written without spaces, where each
    /// character is a word.
    public let shingleSize: Int

    /// The normalised text of the last record; its first `normalizedCount` bytes are valid.
    var normalized: ContiguousArray<UInt8> = []
    var normalizedCount = 0
    /// XXH3 of each normalised word of the last record (when asked for); the first `wordCount` are valid.
    var wordHashes: ContiguousArray<UInt64> = []
    var wordCount = 0
    /// Shingle hashes of the last record.
    private var shingleHashes: ContiguousArray<UInt32> = []

    /// Creates the kernels for one worker.
    /// - Parameters:
    ///   - normalization: what counts as the same text (default: lowercase, collapse whitespace, strip punctuation).
    ///   - shingleSize: words per shingle, at least 1 (default 5).
    public init(normalization: DedupNormalization = .default, shingleSize: Int = 5) {
        precondition(shingleSize >= 1, "shingleSize must be at least 1")
        self.normalization = normalization
        self.shingleSize = shingleSize
    }

    /// The XXH3-64 hash (seed 0) of the view's text normalised by ``normalization``: equal texts, after
    /// normalisation, have equal hashes. For a chat, the text is its turns joined by a blank line.
    /// - Complexity: O(n) in the text's UTF-8 length.
    public mutating func exactHash(_ view: TextView) -> UInt64 {
        normalize(view, hashingWords: false)
        return normalized.withUnsafeBytes { XXH3.hash(UnsafeRawBufferPointer(rebasing: $0[0..<normalizedCount])) }
    }

    /// The normalised text that ``exactHash(_:)`` hashes, for reports and tests.
    public mutating func normalizedText(_ view: TextView) -> String {
        normalize(view, hashingWords: false)
        return String(decoding: normalized[0..<normalizedCount], as: UTF8.self)
    }

    /// The shingle hashes of the view: one per run of ``shingleSize`` consecutive words, in order (repeats
    /// included); a text with fewer words has one shingle of all its words, and a text without words has none.
    /// - Complexity: O(n) in the text's UTF-8 length.
    public mutating func shingles(_ view: TextView) -> [UInt32] {
        withShingles(view) { Array($0) }
    }

    /// Calls `body` with the shingle hashes of the view (see ``shingles(_:)``) without copying them out.
    /// - Warning: the buffer is scratch space of this value: do not let it escape `body`.
    public mutating func withShingles<Result>(_ view: TextView,
                                              _ body: (UnsafeBufferPointer<UInt32>) throws -> Result) rethrows -> Result {
        normalize(view, hashingWords: true)
        makeShingles()
        return try shingleHashes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<shingleCount])) }
    }

    /// The exact hash and the MinHash signature of the view, from one pass of normalisation.
    /// - Parameters:
    ///   - view: the record's text.
    ///   - hasher: the permutations; every record of a run must use the same one.
    /// - Returns: ``exactHash(_:)`` and the signature of ``shingles(_:)``.
    public mutating func fingerprint(_ view: TextView, using hasher: MinHasher) -> DedupFingerprint {
        var signature: [UInt32] = []
        let (exact, shingles) = fingerprint(view, using: hasher, into: &signature)
        return DedupFingerprint(exactHash: exact, signature: signature, shingleCount: shingles)
    }

    /// ``fingerprint(_:using:)`` into a caller's signature buffer (resized to ``MinHasher/permutations``), for
    /// loops that reuse it.
    /// - Returns: the exact hash and the number of shingles.
    public mutating func fingerprint(_ view: TextView, using hasher: MinHasher,
                                     into signature: inout [UInt32]) -> (exactHash: UInt64, shingleCount: Int) {
        normalize(view, hashingWords: true)
        let exact = normalized.withUnsafeBytes { XXH3.hash(UnsafeRawBufferPointer(rebasing: $0[0..<normalizedCount])) }
        makeShingles()
        let count = shingleCount
        shingleHashes.withUnsafeBufferPointer {
            hasher.signature(of: UnsafeBufferPointer(rebasing: $0[0..<count]), into: &signature)
        }
        return (exact, count)
    }

    // MARK: - Shingles

    /// How many shingles the last normalised record has.
    private var shingleCount: Int { wordCount == 0 ? 0 : max(1, wordCount - shingleSize + 1) }

    /// Combines each run of `shingleSize` word hashes into a shingle hash: the polynomial `Σ w·K^(n−1−j)` mod 2⁶⁴
    /// over the run's words (so order matters), rolled from one run to the next with two multiplications, then a
    /// 64-bit finaliser, keeping the high 32 bits. 32 bits are enough for MinHash: two texts of 1,000 shingles each
    /// share a false shingle with probability 1000² / 2³² ≈ 2·10⁻⁴, far below the estimator's own error, and 32-bit
    /// keys halve the multiplications of the signature (see ``MinHasher``).
    private mutating func makeShingles() {
        let count = shingleCount
        guard count > 0 else { return }
        let n = min(shingleSize, wordCount)
        if shingleHashes.count < count {
            shingleHashes = ContiguousArray(repeating: 0, count: max(count, 2 * shingleHashes.count))
        }
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        var top: UInt64 = 1  // K^(n−1), the weight of the word that leaves the window
        for _ in 1..<max(n, 1) { top &*= k }
        wordHashes.withUnsafeBufferPointer { words in
            shingleHashes.withUnsafeMutableBufferPointer { shingles in
                var h: UInt64 = 0
                for j in 0..<n { h = h &* k &+ words[j] }
                shingles[0] = UInt32(truncatingIfNeeded: Self.finalize(h) >> 32)
                for start in 1..<count {
                    h = (h &- words[start - 1] &* top) &* k &+ words[start + n - 1]
                    shingles[start] = UInt32(truncatingIfNeeded: Self.finalize(h) >> 32)
                }
            }
        }
    }

    /// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
    @inline(__always)
    static func finalize(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}

/// What a worker computes for one record: the exact hash and the MinHash signature.
public struct DedupFingerprint: Sendable, Hashable {
    /// XXH3-64 of the normalised text (``DedupText/exactHash(_:)``).
    public var exactHash: UInt64
    /// The MinHash signature of the record's shingles (``MinHasher/signature(of:)``).
    public var signature: [UInt32]
    /// The number of shingles; 0 for a text without words, whose signature matches every other empty text's.
    public var shingleCount: Int

    /// Creates a fingerprint from its parts.
    public init(exactHash: UInt64, signature: [UInt32], shingleCount: Int) {
        self.exactHash = exactHash
        self.signature = signature
        self.shingleCount = shingleCount
    }
}
