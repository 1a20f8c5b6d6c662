/// The LSH index of near-duplicate detection: for each band, which record first had each band hash.
///
/// Records go in one at a time, in canonical order, on one thread; ``insertOrMatch(ordinal:bands:)`` returns the
/// earlier records that share a band bucket with the new one and files the new one under the buckets it opens. Each
/// bucket keeps only its first record: with a first-survivor policy the first is the one that matters, and every
/// later member is linked to it (union-find joins the chains).
///
/// ## Memory
/// One open-addressing table per band, in one flat array of 8-byte slots: the low 32 bits of the band hash beside the
/// ordinal of the bucket's first record, linear probing, at most 80 % full (doubling when full, so 40–80 % between
/// doublings; ``reserveCapacity(records:)`` avoids the doublings when the count is known). A record adds one entry per
/// band whose bucket it opens: 14 for a record unlike any before it, fewer for a near-duplicate. So a unique record
/// costs 14 × 8 B = 112 B at full tables, 140–280 B as the tables are (``bytesPerRecord`` reports it). A slot's
/// position is recomputed from its key when a table grows.
///
/// 32 bits of a band hash are what a published segment keeps too (``PublishedIndexFile/key(_:)``). At n records a
/// stranger's bucket has the same 32 bits with probability about n/2³² per band (3·10⁻⁴ at 1.2 million records): such
/// a candidate is ruled out by its sketch like any other below the threshold, and the record then opens no bucket of
/// its own in that band. Full 64-bit keys in 12-byte slots held half as much again for that (357 MiB of tables on
/// the 1 GB benchmark corpus against 238).
public struct LSHIndex: Sendable {
    /// Bands per record.
    public let bands: Int
    private var tables: [BandTable]
    /// Records inserted.
    public private(set) var count = 0

    /// Creates an empty index (``reserveCapacity(records:)`` sizes it).
    /// - Parameter bands: band hashes per record (``MinHasher/bands``, default 14).
    public init(bands: Int = 14) {
        precondition(bands >= 1, "bands must be at least 1")
        self.bands = bands
        tables = Array(repeating: BandTable(minimumCapacity: 0), count: bands)
    }

    /// Sizes every band table for `records` distinct bucket openings, so that inserting them does not rehash.
    public mutating func reserveCapacity(records: Int) {
        for band in 0..<bands { tables[band].reserve(records) }
    }

    /// Files a record and returns the earlier records it shares a bucket with.
    /// - Parameters:
    ///   - ordinal: the record's position in canonical order, in `0..<Int32.max`; ordinals go in increasing.
    ///   - bands: its band hashes (``MinHasher/bandHashes(_:)``), ``bands`` of them.
    /// - Returns: the distinct ordinals of the first records of the buckets it shares, ascending; empty for a record
    ///   unlike any before it.
    /// - Complexity: O(bands) expected.
    public mutating func insertOrMatch(ordinal: Int, bands hashes: [UInt64]) -> [Int] {
        var matches: [Int] = []
        insertOrMatch(ordinal: ordinal, bands: hashes, into: &matches)
        return matches
    }

    /// ``insertOrMatch(ordinal:bands:)`` into a caller's buffer (emptied first), for loops that reuse it.
    public mutating func insertOrMatch(ordinal: Int, bands hashes: [UInt64], into matches: inout [Int]) {
        hashes.withUnsafeBufferPointer { insertOrMatch(ordinal: ordinal, bands: $0, into: &matches) }
    }

    /// ``insertOrMatch(ordinal:bands:into:)`` with the band hashes in place.
    public mutating func insertOrMatch(ordinal: Int, bands hashes: UnsafeBufferPointer<UInt64>, into matches: inout [Int]) {
        precondition(hashes.count == bands, "\(hashes.count) band hashes for an index of \(bands) bands")
        precondition(ordinal >= 0 && ordinal < Int(Int32.max), "ordinal \(ordinal) out of 0..<2^31-1")
        matches.removeAll(keepingCapacity: true)
        // Every band's first probe is loaded before any is looked at: the loads miss the cache (the tables outgrow
        // it), and issued together their misses overlap instead of waiting on one another's branches.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: bands) { probes in
            for band in 0..<bands { probes[band] = tables[band].firstProbe(hashes[band]) }
            for band in 0..<bands {
                if let first = tables[band].firstOrInsert(hashes[band], ordinal: UInt32(ordinal), firstProbe: probes[band]) {
                    let first = Int(first)
                    if !matches.contains(first) { matches.append(first) }
                }
            }
        }
        if matches.count > 1 { matches.sort() }
        count += 1
    }

    /// The first records of the buckets these band hashes fall in, without filing anything: for checking records
    /// against an index of earlier dataset versions.
    /// - Returns: distinct ordinals, ascending.
    public func matches(bands hashes: [UInt64]) -> [Int] {
        precondition(hashes.count == bands, "\(hashes.count) band hashes for an index of \(bands) bands")
        var matches: [Int] = []
        for band in 0..<bands {
            if let first = tables[band].first(hashes[band]) {
                let first = Int(first)
                if !matches.contains(first) { matches.append(first) }
            }
        }
        return matches.sorted()
    }

    /// Bucket entries across all bands.
    public var entries: Int { tables.reduce(0) { $0 + $1.count } }

    /// Bytes held by the tables (slots allocated, full or not).
    public var memoryBytes: Int { tables.reduce(0) { $0 + $1.capacity * BandTable.bytesPerSlot } }

    /// ``memoryBytes`` per record inserted (0 when empty).
    public var bytesPerRecord: Double { count == 0 ? 0 : Double(memoryBytes) / Double(count) }
}

extension LSHIndex {
    /// One band's buckets: band hash → ordinal of the bucket's first record, open addressing with linear probing.
    ///
    /// A slot is one 64-bit word, the hash's low half and the ordinal side by side, so that opening a bucket or
    /// finding one touches one cache line, not one in a table of hashes and another in a table of ordinals: most
    /// records open a bucket in every band, and the tables outgrow the caches. (On the 1.13 million subtitle windows
    /// of the 1 GB benchmark, inserting took 4.0 % of the run's CPU in two tables, 3.7 % in one.)
    struct BandTable: Sendable {
        /// Per slot, one word: the band hash's low 32 bits (0: a free slot; 0 is stored as 1) in its low half, the
        /// ordinal of the bucket's first record in its high half.
        private var slots: ContiguousArray<UInt64>
        private var mask: Int
        private(set) var count = 0

        static let bytesPerSlot = MemoryLayout<UInt64>.stride

        init(minimumCapacity: Int) {
            let capacity = Self.capacity(for: minimumCapacity)
            slots = ContiguousArray(repeating: 0, count: capacity)
            mask = capacity - 1
        }

        var capacity: Int { mask + 1 }

        /// The power of two that holds `entries` at most 80 % full (at least 16).
        private static func capacity(for entries: Int) -> Int {
            var capacity = 16
            while entries * 5 > capacity * 4 { capacity <<= 1 }
            return capacity
        }

        /// The key a band hash is filed under: its low 32 bits, 0 made 1.
        @inline(__always)
        static func key(_ band: UInt64) -> UInt64 {
            let low = band & 0xFFFF_FFFF
            return low == 0 ? 1 : low
        }

        /// The first ordinal of `band`'s bucket, or nil after opening the bucket with `ordinal`.
        @inline(__always)
        mutating func firstOrInsert(_ band: UInt64, ordinal: UInt32) -> UInt32? {
            let probe = firstProbe(band)
            return firstOrInsert(band, ordinal: ordinal, firstProbe: probe)
        }

        /// Makes room for one more entry, and returns the slot where `band`'s probe starts, for
        /// ``firstOrInsert(_:ordinal:firstProbe:)``.
        @inline(__always)
        mutating func firstProbe(_ band: UInt64) -> UInt64 {
            if (count + 1) * 5 > capacity * 4 { grow(to: capacity * 2) }
            let slot = Int(truncatingIfNeeded: Self.key(band)) & mask
            return slots.withUnsafeBufferPointer { $0[slot] }
        }

        /// The first ordinal of `band`'s bucket, or nil after opening the bucket with `ordinal`. `firstProbe`: what
        /// ``firstProbe(_:)`` returned for `band`, with nothing inserted into this table since.
        @inline(__always)
        mutating func firstOrInsert(_ band: UInt64, ordinal: UInt32, firstProbe: UInt64) -> UInt32? {
            let key = Self.key(band)
            let mask = mask
            let inserted: UInt32? = slots.withUnsafeMutableBufferPointer { slots in
                var slot = Int(truncatingIfNeeded: key) & mask
                var found = firstProbe
                while true {
                    if found & 0xFFFF_FFFF == key { return UInt32(truncatingIfNeeded: found >> 32) }
                    if found == 0 {
                        slots[slot] = UInt64(ordinal) << 32 | key
                        return nil
                    }
                    slot = (slot + 1) & mask
                    found = slots[slot]
                }
            }
            if inserted == nil { count += 1 }
            return inserted
        }

        /// The first ordinal of `band`'s bucket, if it is open.
        func first(_ band: UInt64) -> UInt32? {
            let key = Self.key(band)
            return slots.withUnsafeBufferPointer { slots in
                var slot = Int(truncatingIfNeeded: key) & mask
                while true {
                    let found = slots[slot]
                    if found & 0xFFFF_FFFF == key { return UInt32(truncatingIfNeeded: found >> 32) }
                    if found == 0 { return nil }
                    slot = (slot + 1) & mask
                }
            }
        }

        mutating func reserve(_ entries: Int) {
            let capacity = Self.capacity(for: entries)
            if capacity > self.capacity { grow(to: capacity) }
        }

        /// Moves every entry into a table of `capacity` slots (a power of two).
        private mutating func grow(to capacity: Int) {
            let old = slots
            slots = ContiguousArray(repeating: 0, count: capacity)
            mask = capacity - 1
            let mask = mask
            slots.withUnsafeMutableBufferPointer { slots in
                for entry in old where entry != 0 {
                    var slot = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) & mask
                    while slots[slot] != 0 { slot = (slot + 1) & mask }
                    slots[slot] = entry
                }
            }
        }
    }
}
