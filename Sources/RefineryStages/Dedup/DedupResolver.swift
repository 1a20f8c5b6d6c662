/// The decision about one record.
public enum DedupDecision: Sendable, Equatable {
    case keep
    /// The same normalised text as `matched`; `of` is its group's survivor (the same record unless
    /// `keep: best_quality` chose another, or `matched` itself joined the group as a near duplicate).
    case exactDuplicate(of: Int, matched: Int)
    /// Similar to `matched` (Jaccard similarity `jaccard`, exact or estimated, see ``DedupResolver``); `of` is its
    /// group's survivor.
    case nearDuplicate(of: Int, matched: Int, jaccard: Double)
    /// A duplicate of a record an earlier version of the dataset published (``PublishedIndex``).
    case publishedDuplicate(PublishedMatch)
}

/// A record and an earlier one that shares an LSH bucket with it, to be judged on their exact similarity.
public struct CandidatePair: Sendable, Equatable {
    /// The earlier record's ordinal.
    public var candidate: Int
    /// The record's ordinal.
    public var record: Int

    public init(candidate: Int, record: Int) {
        self.candidate = candidate
        self.record = record
    }
}

/// Reads every record's keys in canonical order and groups duplicates; one per run, on one thread.
///
/// With a ``PublishedIndex``, each record is first looked up among what earlier versions published: a match is
/// dropped as a duplicate of that record and takes no further part (a later record like it meets the same published
/// record, or, if it only resembles this one, stays).
public struct DedupResolver {
    public let stage: DedupStage
    public private(set) var published: PublishedIndex?
    private var publishedMatches: [Int: PublishedMatch] = [:]
    private var firstByExact: [UInt64: Int32] = [:]
    /// Where candidates come from: band hashes, or the bucket numbers of a dedup phase (one of the two is set).
    private var index: LSHIndex?
    private var numbered: NumberedLSHIndex?
    private var groups = UnionFind()
    /// Per ordinal: the earlier record it matched (-1: none), whether as a near duplicate, and the similarity.
    private var matched: [Int32] = []
    private var near: [Bool] = []
    private var jaccard: [Float] = []
    /// Whether candidates close enough by their sketches' estimate wait in ``pendingPairs`` for the caller to measure
    /// their exact similarity (``settle(similarities:)``) instead of being judged by the estimate (`verify: exact`; the
    /// engine makes the shingle sets again from the records' spilled text, once every record is added).
    public var defersVerification = false
    /// The candidate pairs waiting for their exact similarity, in the order the records were added (each record's
    /// candidates in ascending order).
    public private(set) var pendingPairs: [CandidatePair] = []
    /// Candidate pairs measured exactly (the others' sketch estimate was too low to be worth it).
    public private(set) var verifiedPairs = 0
    private var quality: [Float] = []
    /// Every record's sketch, back to back (``MinHasher/permutations`` bytes each; zeros for records without).
    private var sketches: [UInt8] = []
    private var candidates: [Int] = []
    /// Whether ``finishAdding()`` let go of the tables.
    private var addingFinished = false

    /// A resolver whose LSH index is built here from the records' band hashes, sized for `expectedRecords` at once.
    public init(stage: DedupStage, published: PublishedIndex? = nil, expectedRecords: Int = 0) {
        self.stage = stage
        self.published = published
        index = LSHIndex(bands: stage.hasher.bands)
        reserveCapacity(records: expectedRecords)
    }

    /// Sizes the index, the sketches, the exact-hash table and the per-record arrays for `records` records in all,
    /// so that adding them does not regrow them (nothing where there is room already). Regrowing copies an array or
    /// rehashes a table into memory the kernel must clear first, and holds the old and the new copy at once; on one
    /// thread beside the map, what is left of it when the map ends is done while the other cores wait (on the 1 GB
    /// benchmark corpus, 1.7-1.8 s after the map doubling as it goes, 1.1-1.2 s reserving from the map's estimate,
    /// 0.5-0.8 s reserving the exact count). Decisions do not depend on it.
    ///
    /// The arrays get an eighth more than `records`: an array one record short doubles, and a count estimated a
    /// little low (the 5 GB benchmark's by 0.08 %) would double every array at the very end, holding both copies at
    /// the run's peak. Pages an array never reaches are never touched, so the margin costs address space, not
    /// memory. The tables get `records` alone: their sizes are powers of two with room to spare, and a margin could
    /// double them outright.
    public mutating func reserveCapacity(records: Int) {
        guard records > groups.count else { return }
        index?.reserveCapacity(records: records)
        if stage.exact { firstByExact.reserveCapacity(records) }
        let room = records + records / 8
        groups.reserveCapacity(room)
        matched.reserveCapacity(room)
        near.reserveCapacity(room)
        jaccard.reserveCapacity(room)
        quality.reserveCapacity(room)
        sketches.reserveCapacity(room * stage.hasher.permutations)
    }

    /// A resolver over buckets a dedup phase numbered (``BandBucketNumbering``, one count per band): each record's
    /// bucket numbers come with it to ``add(_:buckets:quality:id:)``. Decides as the other does.
    public init(stage: DedupStage, published: PublishedIndex? = nil, bucketCounts: [Int]) {
        precondition(bucketCounts.count == stage.hasher.bands, "\(bucketCounts.count) bucket counts for \(stage.hasher.bands) bands")
        self.stage = stage
        self.published = published
        numbered = NumberedLSHIndex(bucketCounts: bucketCounts)
    }

    /// Adds the next record (ordinals are 0, 1, 2… in canonical order); `nil` keys: a record that is nobody's
    /// duplicate. `id` tells a published record from the same record published again.
    public mutating func add(_ keys: DedupKeys?, quality score: Double?, id: String) {
        add(keys, buckets: nil, quality: score, id: id)
    }

    /// ``add(_:quality:id:)`` with the record's bucket numbers, one per band, for a resolver made with bucket
    /// counts (ignored otherwise; `nil` only for a record without band hashes).
    public mutating func add(_ keys: DedupKeys?, buckets: [UInt32]?, quality score: Double?, id: String) {
        guard let keys else { return addWithoutKeys(quality: score) }
        keys.bands.withUnsafeBufferPointer { bands in
            keys.sketch.withUnsafeBufferPointer { sketch in
                add(exact: keys.exact, bands: bands, sketch: sketch, buckets: buckets, quality: score, id: { id })
            }
        }
    }

    /// Adds the next record, one without keys: nobody's duplicate.
    public mutating func addWithoutKeys(quality score: Double?) {
        _ = appendState(quality: score, sketch: nil)
    }

    /// ``add(_:buckets:quality:id:)`` with the record's keys as views (`bands` empty without near-duplicate
    /// detection) and its id made only when a published record is to be told from it: the dedup feed reads them
    /// straight out of the spilled entries' bytes, making no arrays or strings.
    public mutating func add(exact: UInt64, bands: UnsafeBufferPointer<UInt64>, sketch: UnsafeBufferPointer<UInt8>, buckets: [UInt32]?,
                             quality score: Double?, id: () -> String) {
        let ordinal = appendState(quality: score, sketch: sketch)
        if published != nil, let match = published!.match(exact: exact, bands: bands, sketch: sketch, id: id) {
            publishedMatches[ordinal] = match
            return
        }
        if stage.exact {
            if let first = firstByExact[exact] {
                _ = groups.union(Int(first), ordinal)
                matched[ordinal] = first
                return
            }
            firstByExact[exact] = Int32(ordinal)
        }
        guard stage.near, !bands.isEmpty else { return }
        if numbered != nil {
            guard let buckets else { preconditionFailure("a resolver over numbered buckets needs each record's bucket numbers") }
            numbered!.insertOrMatch(ordinal: ordinal, buckets: buckets, into: &candidates)
        } else {
            index!.insertOrMatch(ordinal: ordinal, bands: bands, into: &candidates)
        }
        let width = stage.hasher.permutations
        var best: (ordinal: Int, jaccard: Double)?
        for candidate in candidates {
            let similarity = sketches.withUnsafeBufferPointer {
                DedupKeys.estimatedJaccard(sketch, UnsafeBufferPointer(rebasing: $0[(candidate * width)..<((candidate + 1) * width)]))
            }
            if defersVerification {
                // The estimate's spread is ±0.04 at 112 permutations: a pair 0.15 below the threshold is out
                // (more than three spreads); anything closer is decided on the shingle sets themselves.
                if similarity >= stage.threshold - 0.15 { pendingPairs.append(CandidatePair(candidate: candidate, record: ordinal)) }
                continue
            }
            if similarity >= stage.threshold && similarity > (best?.jaccard ?? -1) { best = (candidate, similarity) }
        }
        if let best { link(ordinal, to: best.ordinal, jaccard: best.jaccard) }
    }

    /// Gives the next record its per-record state (not matched, its quality, its sketch or zeros); returns its ordinal.
    private mutating func appendState(quality score: Double?, sketch: UnsafeBufferPointer<UInt8>?) -> Int {
        precondition(!addingFinished, "a record added after finishAdding()")
        let ordinal = groups.count
        groups.extend(to: ordinal + 1)
        matched.append(-1)
        near.append(false)
        jaccard.append(1)
        quality.append(Float(score ?? 0))
        let width = stage.hasher.permutations
        if let sketch, sketch.count == width {
            sketches.append(contentsOf: sketch)
        } else {
            sketches.append(contentsOf: repeatElement(0, count: width))
        }
        return ordinal
    }

    /// Records `ordinal` as a near duplicate of `other`.
    private mutating func link(_ ordinal: Int, to other: Int, jaccard similarity: Double) {
        _ = groups.union(other, ordinal)
        matched[ordinal] = Int32(other)
        near[ordinal] = true
        jaccard[ordinal] = Float(similarity)
    }

    /// Decides the ``pendingPairs`` on their exact similarities, as ``add(_:buckets:quality:id:)`` would have had it
    /// known them: each record joins the group of its most similar candidate at or above the threshold (ties to the
    /// earlier candidate). The order of the joins does not change any decision (``UnionFind``).
    /// - Parameter similarities: one per pending pair, in order.
    public mutating func settle(similarities: [Double]) {
        precondition(similarities.count == pendingPairs.count, "\(similarities.count) similarities for \(pendingPairs.count) pending pairs")
        var next = 0
        while next < pendingPairs.count {
            let record = pendingPairs[next].record
            var best: (ordinal: Int, jaccard: Double)?
            while next < pendingPairs.count && pendingPairs[next].record == record {
                let similarity = similarities[next]
                if similarity >= stage.threshold && similarity > (best?.jaccard ?? -1) { best = (pendingPairs[next].candidate, similarity) }
                next += 1
            }
            if let best { link(record, to: best.ordinal, jaccard: best.jaccard) }
        }
        verifiedPairs += pendingPairs.count
        pendingPairs = []
    }

    /// Lets go of what only adding records needs — the LSH tables, the exact-hash table and the sketches, most of the
    /// resolver's memory — before the pending pairs are measured and the decisions made, which need none of it: what
    /// those allocate then comes out of that memory instead of adding to the run's peak (the 5 GB benchmark's peak
    /// RSS: 2,494 MiB against 2,684). No record can be added after.
    public mutating func finishAdding() {
        index = nil
        numbered = nil
        firstByExact = [:]
        sketches = []
        candidates = []
        addingFinished = true
    }

    /// Bytes the LSH index holds per record (reported by the run).
    public var indexBytesPerRecord: Double { numbered?.bytesPerRecord ?? index?.bytesPerRecord ?? 0 }

    /// Everything the resolver holds per record added, as allocated: the LSH tables (``indexBytesPerRecord``), the
    /// sketches, the exact-hash table, the groups and the per-record arrays (match, similarity, quality).
    public var stateBytesPerRecord: Double {
        let records = groups.count
        guard records > 0 else { return 0 }
        let arrays = sketches.capacity + matched.capacity * MemoryLayout<Int32>.stride + near.capacity
            + (jaccard.capacity + quality.capacity) * MemoryLayout<Float>.stride
        // A dictionary stores its keys and values in two arrays of its capacity, plus a bit per slot.
        let exact = firstByExact.capacity * (MemoryLayout<UInt64>.stride + MemoryLayout<Int32>.stride) + firstByExact.capacity / 8
        return indexBytesPerRecord + Double(arrays + exact + groups.memoryBytes) / Double(records)
    }

    /// The decision for every record added, in order.
    /// - Precondition: no pair waits for its similarity (``settle(similarities:)``).
    public mutating func decisions() -> DedupDecisions {
        precondition(pendingPairs.isEmpty, "\(pendingPairs.count) candidate pairs wait for their similarity: settle them first")
        let count = groups.count
        var survivorOfGroup = [Int32](repeating: -1, count: count)
        for i in 0..<count {
            let root = groups.find(i)
            let current = survivorOfGroup[root]
            if current < 0 {
                survivorOfGroup[root] = Int32(i)
            } else if stage.survivor == .bestQuality && quality[i] > quality[Int(current)] {
                survivorOfGroup[root] = Int32(i)
            }
        }
        // Each record's survivor, in place of its group's root (roots are found before any is overwritten).
        var survivors = [Int32](repeating: 0, count: count)
        for i in 0..<count { survivors[i] = survivorOfGroup[groups.find(i)] }
        return DedupDecisions(survivors: survivors, matched: matched, near: near, jaccard: jaccard, publishedMatches: publishedMatches)
    }
}

/// The resolver's decisions, made one at a time from what it holds (4 more bytes a record, each record's survivor),
/// not held as an array of ``DedupDecision`` (48 bytes a record, the largest part of memory at the end of dedup).
public struct DedupDecisions: RandomAccessCollection, Equatable, Sendable {
    private let survivors: [Int32]
    private let matched: [Int32]
    private let near: [Bool]
    private let jaccard: [Float]
    private let publishedMatches: [Int: PublishedMatch]

    init(survivors: [Int32], matched: [Int32], near: [Bool], jaccard: [Float], publishedMatches: [Int: PublishedMatch]) {
        self.survivors = survivors
        self.matched = matched
        self.near = near
        self.jaccard = jaccard
        self.publishedMatches = publishedMatches
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { survivors.count }

    public subscript(i: Int) -> DedupDecision {
        if let match = publishedMatches[i] { return .publishedDuplicate(match) }
        let survivor = Int(survivors[i])
        if survivor == i { return .keep }
        if matched[i] < 0 {
            // The group's first record, outranked by `keep: best_quality`: it is what the survivor matched.
            return near[survivor] ? .nearDuplicate(of: survivor, matched: survivor, jaccard: Double(jaccard[survivor]))
                : .exactDuplicate(of: survivor, matched: survivor)
        }
        return near[i] ? .nearDuplicate(of: survivor, matched: Int(matched[i]), jaccard: Double(jaccard[i]))
            : .exactDuplicate(of: survivor, matched: Int(matched[i]))
    }

    public static func == (a: DedupDecisions, b: DedupDecisions) -> Bool { a.elementsEqual(b) }
}
