/// An open-addressing table from 64-bit hashes to a count and the index of their first occurrence, reused from
/// pass to pass. Keys are hashes already, so no second hash (Swift's `Set` and `Dictionary` run SipHash on every
/// insert, which was most of the quality stage's time).
///
/// Hot loops insert through ``withInserter(_:)``, which reaches the slots through a pointer: inserting through the
/// array itself paid a uniqueness check and bounds checks on every probe (`swift_isUniquelyReferenced` alone was
/// 5% of the stage).
struct HashCounter {
    /// One key's entry; a slot whose `key` is 0 is free (a key of 0 is stored as 1).
    struct Slot {
        var key: UInt64
        var count: Int32
        var first: Int32
    }

    /// At least `mask + 1` (and at least 16) slots; a table after a larger one uses a prefix of them.
    private var slots: ContiguousArray<Slot> = []
    private var mask = 0
    /// How many leading slots may hold keys (the size of the largest table inserted into since they were all
    /// free): the rest are all free, so emptying the table clears only these, and only as many of them as the next
    /// table uses. (The n-gram passes go from a table for every word to tables for a few candidates: clearing the
    /// whole first table for the second had been 7% of their time.)
    private var used = 0

    /// An empty table sized for `items` insertions.
    init(for items: Int) {
        reset(for: items)
    }

    /// A table without storage, to be sized by ``reset(for:)`` before it is used (a worker's buffers start so).
    init() {}

    /// Empties the table, sized for `items` insertions. The storage is kept when it is large enough.
    mutating func reset(for items: Int) {
        var capacity = 16
        while capacity < items * 2 { capacity <<= 1 }
        if slots.count < capacity {
            slots = ContiguousArray(repeating: Slot(key: 0, count: 0, first: 0), count: capacity)
            used = 0
        } else if used > 0 {
            let dirty = min(used, capacity)
            slots.withUnsafeMutableBufferPointer { slots in
                for i in 0..<dirty { slots[i].key = 0 }
            }
            // Slots past this table's may still hold keys.
            used = used > capacity ? used : 0
        }
        mask = capacity - 1
    }

    /// Calls `body` with an ``Inserter`` over this table. The inserter points into the table's storage: it must not
    /// escape `body`.
    mutating func withInserter<Result>(_ body: (Inserter) throws -> Result) rethrows -> Result {
        let mask = mask
        used = max(used, mask + 1)
        return try slots.withUnsafeMutableBufferPointer { slots in
            // Never empty (see `slots`), so the buffer has an address.
            try body(Inserter(slots: slots.baseAddress.unsafelyUnwrapped, mask: mask))
        }
    }

    /// Counts `key` at `index`; returns its count after this one and the index where it was first seen. For loops,
    /// ``withInserter(_:)`` is faster.
    mutating func add(_ key: UInt64, at index: Int) -> (count: Int, first: Int) {
        withInserter { $0.add(key, at: index) }
    }

    /// Inserts into a ``HashCounter`` through a pointer to its slots; valid only inside
    /// ``HashCounter/withInserter(_:)``.
    struct Inserter {
        let slots: UnsafeMutablePointer<Slot>
        let mask: Int

        /// Counts `key` at `index`; returns its count after this one and the index where it was first seen.
        @inline(__always)
        func add(_ key: UInt64, at index: Int) -> (count: Int, first: Int) {
            let key = key == 0 ? 1 : key
            // Keys are hashes already: folding the high half in and multiplying by an odd constant spreads them
            // well enough over the low bits the mask keeps. (This is what the earlier
            // `(key ^ (key >> 29)) &* 0xBF58_476D_1CE4_E5B9 >> 32` computed, since `>>` binds tighter than `&*`;
            // taking the product's top bits instead costs an instruction and probed no less.)
            var slot = Int(truncatingIfNeeded: (key ^ (key >> 29)) &* 0xBF58_476D) & mask
            while true {
                let stored = slots[slot].key
                if stored == key {
                    slots[slot].count += 1
                    return (Int(slots[slot].count), Int(slots[slot].first))
                }
                if stored == 0 {
                    slots[slot] = Slot(key: key, count: 1, first: Int32(truncatingIfNeeded: index))
                    return (1, index)
                }
                slot = (slot + 1) & mask
            }
        }
    }
}
