import RefineryCodecs
import RefineryRecords
import RefinerySpec

/// Stage 6: exact and near-duplicate removal across the whole run.
///
/// Unlike stages 1–5 it cannot decide one record at a time: the engine computes each surviving record's
/// ``DedupKeys`` on the workers (``keys(of:view:)``: the exact hash of the normalised text, and the MinHash
/// signature of its word 5-grams — character n-grams for scripts without spaces — with its LSH band hashes),
/// spills the records, and one ``DedupResolver`` then reads the keys in canonical input order: a record whose
/// exact hash was seen is an `exact_duplicate`; one sharing an LSH bucket with an earlier record whose estimated
/// Jaccard similarity is at least `threshold` is a `near_duplicate`; groups are joined by union-find. The
/// survivor of a group is its first record in input order (`keep: first`, the default) or the one with the
/// highest `scores.quality` (`keep: best_quality`, ties to the first), so the same inputs give the same survivors
/// whatever the number of workers. Interaction histories have no text and are never duplicates.
///
/// With the default 14 bands × 8 rows (112 permutations), a pair becomes a candidate with probability
/// 1 − (1 − s⁸)¹⁴: 92 % at s = 0.8, 56 % at 0.7, 5 % at 0.5, 50 % at s ≈ 0.685 (see ``MinHasher``); candidates are then verified
/// against `threshold` (default 0.8) by the signatures' agreement.
///
/// Across runs, records are also matched against what earlier versions of the same dataset published
/// (``PublishedIndex``; `across_versions`, default true).
///
/// Per record the keys weigh 24 bytes inline (in the spill entry) plus two heap arrays of about 150 bytes each
/// (a 32-byte header and 14 × 8 bytes of band hashes, 32 bits of each kept; the same and 112 sketch bytes), and take about 16 µs of a core
/// per KB of text (60 MB/s, the signature kernel included; tools/bench/DedupBench measures both). A worker computing
/// many records should reuse a ``Scratch`` (``keys(of:view:scratch:)``).
///
/// Parameters: `exact` (default true), `near` (default true), `threshold` (0.8), `bands` (14), `rows` (8),
/// `shingle` (5 words), `seed`, `keep` (`first` | `best_quality`), `normalize: {lowercase, whitespace,
/// punctuation, digits}`, `across_versions` (true). Reasons `exact_duplicate`, `near_duplicate`; the reject names the kept record in
/// `kept_id`.
public struct DedupStage: Sendable {
    /// Which member of a duplicate group survives.
    public enum Survivor: String, Sendable, CaseIterable {
        case first
        case bestQuality = "best_quality"
    }

    public let name = "dedup"
    public var exact = true
    public var near = true
    public var threshold = 0.8
    public var survivor = Survivor.first
    public var normalization = DedupNormalization.default
    public var shingle = 5
    public var hasher = MinHasher(bands: 14, rows: 8, seed: 0x5EED_0F_DED0)
    /// Whether records are also checked against what earlier versions of the dataset published
    /// (``PublishedIndex``), and this version's records filed for later ones.
    public var acrossVersions = true
    /// How candidate pairs are judged against `threshold`.
    public enum Verification: String, Sendable, CaseIterable {
        /// The Jaccard similarity of the two records' shingle sets (made again from their spilled text once every
        /// record's keys are in, for the pairs whose estimate comes within 0.15 of the threshold).
        case exact
        /// The share of equal one-byte MinHash values (±0.04 at 112 permutations; no shingles kept).
        case estimate
    }
    public var verify = Verification.exact

    public init() {}

    /// Reads the parameters from the spec (see the type's documentation).
    /// - Throws: ``RefineryError`` at the offending key.
    public init(parameters: SpecNode) throws {
        let table = try parameters.table(allowed: ["exact", "near", "threshold", "bands", "rows", "shingle", "seed", "keep", "normalize",
                                                            "across_versions", "verify"])
        exact = try table.optional("exact")?.bool() ?? exact
        near = try table.optional("near")?.bool() ?? near
        acrossVersions = try table.optional("across_versions")?.bool() ?? acrossVersions
        verify = try table.optional("verify")?.choice(Verification.self, named: "verify") ?? verify
        if let node = table.optional("threshold") {
            threshold = try node.double()
            guard (0...1).contains(threshold) else { throw node.error("threshold is a Jaccard similarity in [0, 1], found \(threshold)") }
        }
        var bands = 14, rows = 8
        var seed: UInt64 = 0x5EED_0F_DED0
        for (key, value) in [("bands", 0), ("rows", 1), ("shingle", 2)] {
            guard let node = table.optional(key) else { continue }
            let number = try node.int()
            guard (1...64).contains(number) else { throw node.error("\(key) must be between 1 and 64, found \(number)") }
            switch value {
            case 0: bands = number
            case 1: rows = number
            default: shingle = number
            }
        }
        if let node = table.optional("seed") { seed = UInt64(truncatingIfNeeded: try node.int()) }
        hasher = MinHasher(bands: bands, rows: rows, seed: seed)
        survivor = try table.optional("keep")?.choice(Survivor.self, named: "keep") ?? survivor
        if let node = table.optional("normalize") {
            let normalize = try node.table(allowed: ["lowercase", "whitespace", "punctuation", "digits"])
            normalization.lowercase = try normalize.optional("lowercase")?.bool() ?? normalization.lowercase
            normalization.collapseWhitespace = try normalize.optional("whitespace")?.bool() ?? normalization.collapseWhitespace
            normalization.stripPunctuation = try normalize.optional("punctuation")?.bool() ?? normalization.stripPunctuation
            normalization.digitsToZero = try normalize.optional("digits")?.bool() ?? normalization.digitsToZero
        }
        if !exact && !near { throw parameters.error("exact and near are both off; remove the dedup stage instead") }
    }

    /// A worker's reusable buffers for ``keys(of:view:scratch:)``: the normalised text, word, shingle and signature
    /// buffers of one record at a time, grown to the largest record seen and never shrunk.
    ///
    /// Not shared: give each worker (or each batch) its own, from ``makeScratch()``.
    public struct Scratch: Sendable {
        var text: DedupText
        var signature: [UInt32] = []
    }

    /// Buffers for ``keys(of:view:scratch:)`` with this stage's normalisation and shingle size.
    public func makeScratch() -> Scratch {
        Scratch(text: DedupText(normalization: normalization, shingleSize: shingle))
    }

    /// The keys of one record (a worker computes them; they travel with the spill); `nil` for an interaction
    /// history, which has no text and is never a duplicate.
    ///
    /// Allocates its scratch buffers on every call; a loop over records should use ``keys(of:view:scratch:)``.
    public func keys(of record: Record, view: inout RecordView) -> DedupKeys? {
        var scratch = makeScratch()
        return keys(of: record, view: &view, scratch: &scratch)
    }

    /// ``keys(of:view:)`` with a worker's reusable buffers: allocates nothing but the keys' two arrays (band hashes
    /// and sketch).
    /// - Parameters:
    ///   - record: the record.
    ///   - view: its text view, built here if no earlier stage did.
    ///   - scratch: from this stage's ``makeScratch()`` (another stage's settings would give other keys).
    /// - Returns: the keys; `nil` for an interaction history.
    /// - Complexity: O(n) in the text's UTF-8 length, plus O(shingles × ``MinHasher/permutations``).
    public func keys(of record: Record, view: inout RecordView, scratch: inout Scratch) -> DedupKeys? {
        if record.kind == .interactions { return nil }
        precondition(scratch.text.normalization == normalization && scratch.text.shingleSize == shingle,
                     "scratch made for another dedup stage")
        let (exact, shingleCount) = scratch.text.fingerprint(view.text(of: record), using: hasher, into: &scratch.signature)
        // No shingle (no words): every such text has the same signature, so it is matched by its exact hash only.
        guard near, shingleCount > 0 else { return DedupKeys(exact: exact, bands: [], sketch: []) }
        // One byte of each permutation's minimum is enough to estimate similarity (b-bit MinHash): 112 bytes a record.
        let signature = scratch.signature
        let sketch = [UInt8](unsafeUninitializedCapacity: signature.count) { bytes, count in
            for k in 0..<signature.count { bytes[k] = UInt8(truncatingIfNeeded: signature[k]) }
            count = signature.count
        }
        // Each band hash as the LSH index files it (its low 32 bits, 0 made 1; see ``LSHIndex``), all the index and
        // the published segments keep, so that bucket numbers (``BandBuckets``) and the index agree on every value.
        var bands = hasher.bandHashes(signature)
        for band in bands.indices { bands[band] = LSHIndex.BandTable.key(bands[band]) }
        return DedupKeys(exact: exact, bands: bands, sketch: sketch)
    }

    /// The set of a text's shingle hashes, sorted, each once: what `verify: exact` compares (``jaccard(_:_:)``).
    /// - Parameters:
    ///   - view: the text, as ``keys(of:view:scratch:)`` saw it.
    ///   - scratch: from this stage's ``makeScratch()``.
    public func shingleSet(of view: TextView, scratch: inout Scratch) -> [UInt32] {
        precondition(scratch.text.normalization == normalization && scratch.text.shingleSize == shingle,
                     "scratch made for another dedup stage")
        var set = scratch.text.withShingles(view) { Array($0) }
        set.sort()
        var unique = 0
        for index in set.indices where unique == 0 || set[unique - 1] != set[index] {
            set[unique] = set[index]
            unique += 1
        }
        set.removeLast(set.count - unique)
        return set
    }

    /// The Jaccard similarity of two sorted sets (``shingleSet(of:scratch:)``); 1 for two empty sets.
    public static func jaccard(_ a: [UInt32], _ b: [UInt32]) -> Double {
        guard !a.isEmpty || !b.isEmpty else { return 1 }
        var i = 0, j = 0, common = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                common += 1
                i += 1
                j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return Double(common) / Double(a.count + b.count - common)
    }
}

/// What the resolver needs of one record, computed on a worker.
public struct DedupKeys: Sendable {
    /// XXH3-64 of the normalised text.
    public var exact: UInt64
    /// LSH band hashes (empty when near-duplicate detection is off): their low 32 bits (0 made 1), what the index
    /// files them by and the spill keeps of them.
    public var bands: [UInt64]
    /// The low byte of each MinHash value, to verify candidates.
    public var sketch: [UInt8]

    public init(exact: UInt64, bands: [UInt64] = [], sketch: [UInt8] = []) {
        self.exact = exact
        self.bands = bands
        self.sketch = sketch
    }

    /// Jaccard similarity estimated from two sketches: the share of equal bytes, corrected for the 1/256 of
    /// chance agreements of one-byte minima.
    public static func estimatedJaccard(_ a: [UInt8], _ b: [UInt8]) -> Double {
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in estimatedJaccard(a, b) } }
    }

    /// ``estimatedJaccard(_:_:)`` of two sketches in place.
    public static func estimatedJaccard(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        var equal = 0
        for i in 0..<a.count where a[i] == b[i] { equal += 1 }
        let share = Double(equal) / Double(a.count)
        return max(0, (share - 1.0 / 256) / (1 - 1.0 / 256))
    }
}
