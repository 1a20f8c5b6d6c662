/// The LSH index split by band across processes: the dedup phase of a phased run (issue 11).
///
/// A band's buckets are independent of every other band's, so the band hashes (32 bits each) of all records can be turned
/// into bucket numbers by several tasks at once, each over its own bands (``BandBucketNumbering``). A bucket's number
/// is its order of first appearance among the records in canonical order, so numbers are dense, from 0, per band.
/// The resolver then needs, per band, only the first record filed under each number (``NumberedLSHIndex``): a flat
/// array of 4 bytes per bucket instead of a hash table of 8-byte slots at most 80 % full, and the band hashes never
/// meet in one process.
///
/// The decisions are the same as with ``LSHIndex``: two records share a bucket number exactly when they share the
/// band hash, and the resolver files and matches records in the same order.

/// Numbers one band's buckets: band hash → dense number, in order of first appearance. Fed every record, in
/// canonical order, on one thread.
public struct BandBucketNumbering: Sendable {
    private var table: LSHIndex.BandTable
    /// Buckets numbered so far (the next number).
    public private(set) var buckets = 0

    public init(expectedBuckets: Int = 0) {
        table = LSHIndex.BandTable(minimumCapacity: expectedBuckets)
    }

    /// The bucket number of a band hash (a new one when the hash is new).
    public mutating func number(_ hash: UInt64) -> UInt32 {
        let next = UInt32(truncatingIfNeeded: buckets)
        if let existing = table.firstOrInsert(hash, ordinal: next) { return existing }
        buckets += 1
        return next
    }

    /// Bytes the table holds.
    public var memoryBytes: Int { table.capacity * LSHIndex.BandTable.bytesPerSlot }
}

/// The LSH index over bucket numbers: per band, the first record filed under each number. The counterpart of
/// ``LSHIndex`` when a dedup phase numbered the buckets (``BandBucketNumbering``).
public struct NumberedLSHIndex: Sendable {
    /// Per band, the first record of each bucket, or -1.
    private var firsts: [ContiguousArray<Int32>]
    /// Records filed.
    public private(set) var count = 0

    /// An empty index for bands with these bucket counts (``BandBucketNumbering/buckets`` of each band).
    public init(bucketCounts: [Int]) {
        firsts = bucketCounts.map { ContiguousArray(repeating: -1, count: $0) }
    }

    public var bands: Int { firsts.count }

    /// Files a record under its bucket numbers and returns the earlier records it shares a bucket with, as
    /// ``LSHIndex/insertOrMatch(ordinal:bands:into:)`` does with band hashes (distinct ordinals, ascending).
    public mutating func insertOrMatch(ordinal: Int, buckets: [UInt32], into matches: inout [Int]) {
        precondition(buckets.count == firsts.count, "\(buckets.count) bucket numbers for an index of \(firsts.count) bands")
        matches.removeAll(keepingCapacity: true)
        for band in 0..<firsts.count {
            let bucket = Int(buckets[band])
            precondition(bucket < firsts[band].count, "bucket \(bucket) of band \(band) beyond its \(firsts[band].count) buckets")
            let first = firsts[band][bucket]
            if first < 0 {
                firsts[band][bucket] = Int32(ordinal)
            } else if !matches.contains(Int(first)) {
                matches.append(Int(first))
            }
        }
        if matches.count > 1 { matches.sort() }
        count += 1
    }

    /// Bytes held.
    public var memoryBytes: Int { firsts.reduce(0) { $0 + $1.count * 4 } }

    public var bytesPerRecord: Double { count == 0 ? 0 : Double(memoryBytes) / Double(count) }
}
