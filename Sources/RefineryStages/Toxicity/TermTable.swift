/// Term hashes with, for each, a bit mask of the lists (languages) that hold it; built once, then only read.
///
/// Open addressing in one flat array of key and mask pairs, no second hash (the keys are FNV hashes already; Swift's
/// `Dictionary` would run SipHash on every lookup, once per word of every record). One table for all languages
/// means one probe per word whatever the number of lists.
///
/// Most words of a text are in no list, and the word table (tens of thousands of terms) is larger than the caches:
/// a lookup used to wait for memory on almost every word. A bit set of eight bits per slot, indexed by the key's top
/// bits, answers most of those misses from a table an eighth of the size first (a key whose bit is clear is not in
/// the table; about one absent key in sixteen finds its bit set and probes).
struct TermTable: Sendable {
    private struct Slot: Sendable {
        var key: UInt64
        var lists: UInt64
    }

    private var slots: [Slot]
    private var mask: Int
    /// Bit `key >> filterShift` is set for every key in the table.
    private var filter: [UInt64]
    private var filterShift: UInt64
    private(set) var count = 0

    init() {
        slots = []
        mask = 0
        filter = []
        filterShift = 0
        allocate(16)
    }

    var isEmpty: Bool { count == 0 }

    /// Adds `bits` to the mask of `key`.
    mutating func insert(_ key: UInt64, bits: UInt64) {
        if (count + 1) * 2 > slots.count { grow() }
        let key = key == 0 ? 1 : key
        var slot = Self.slot(key, mask)
        while slots[slot].key != 0 && slots[slot].key != key { slot = (slot + 1) & mask }
        if slots[slot].key == 0 {
            slots[slot].key = key
            count += 1
            let bit = key >> filterShift
            filter[Int(bit >> 6)] |= 1 << (bit & 63)
        }
        slots[slot].lists |= bits
    }

    /// The lists that hold `key` (0 when none).
    @inline(__always)
    func lists(_ key: UInt64) -> UInt64 {
        let key = key == 0 ? 1 : key
        let bit = key >> filterShift
        guard filter[Int(bit >> 6)] & (1 << (bit & 63)) != 0 else { return 0 }
        var slot = Self.slot(key, mask)
        while true {
            let found = slots[slot]
            if found.key == key { return found.lists }
            if found.key == 0 { return 0 }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key ^ (key >> 29)) &* 0xBF58_476D_1CE4_E5B9 >> 32) & mask
    }

    /// Empty storage for `capacity` (a power of two, at least 16) slots and its filter.
    private mutating func allocate(_ capacity: Int) {
        slots = [Slot](repeating: Slot(key: 0, lists: 0), count: capacity)
        mask = capacity - 1
        filter = [UInt64](repeating: 0, count: capacity / 8)
        filterShift = UInt64(64 - (capacity.trailingZeroBitCount + 3))
        count = 0
    }

    private mutating func grow() {
        let old = slots.filter { $0.key != 0 }
        allocate(slots.count * 2)
        for slot in old { insert(slot.key, bits: slot.lists) }
    }
}
