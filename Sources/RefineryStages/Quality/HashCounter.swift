/// An open-addressing table from 64-bit hashes to a count and the index of their first occurrence, reused from
/// record to record. Keys are hashes already, so no second hash (Swift's `Set` and `Dictionary` run SipHash on
/// every insert, which was most of the quality stage's time).
struct HashCounter {
    private var keys: [UInt64] = []
    private var counts: [Int32] = []
    private var firsts: [Int32] = []
    private var mask = 0

    /// Empties the table, sized for `items` insertions.
    mutating func reset(for items: Int) {
        var capacity = 16
        while capacity < items * 2 { capacity <<= 1 }
        if keys.count != capacity {
            keys = [UInt64](repeating: 0, count: capacity)
            counts = [Int32](repeating: 0, count: capacity)
            firsts = [Int32](repeating: 0, count: capacity)
        } else {
            for i in 0..<capacity { keys[i] = 0 }
        }
        mask = capacity - 1
    }

    /// Counts `key` at `index`; returns its count after this one and the index where it was first seen.
    mutating func add(_ key: UInt64, at index: Int) -> (count: Int, first: Int) {
        let key = key == 0 ? 1 : key
        var slot = Int(truncatingIfNeeded: (key ^ (key >> 29)) &* 0xBF58_476D_1CE4_E5B9 >> 32) & mask
        while true {
            if keys[slot] == key {
                counts[slot] += 1
                return (Int(counts[slot]), Int(firsts[slot]))
            }
            if keys[slot] == 0 {
                keys[slot] = key
                counts[slot] = 1
                firsts[slot] = Int32(truncatingIfNeeded: index)
                return (1, index)
            }
            slot = (slot + 1) & mask
        }
    }
}
