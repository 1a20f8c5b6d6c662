/// Term hashes with, for each, a bit mask of the lists (languages) that hold it; built once, then only read.
///
/// Open addressing in two flat arrays, no second hash (the keys are FNV hashes already; Swift's `Dictionary` would
/// run SipHash on every lookup, once per word of every record). One table for all languages means one probe per
/// word whatever the number of lists.
struct TermTable: Sendable {
    private var keys: [UInt64]
    private var masks: [UInt64]
    private var mask: Int
    private(set) var count = 0

    init() {
        keys = [UInt64](repeating: 0, count: 16)
        masks = [UInt64](repeating: 0, count: 16)
        mask = 15
    }

    var isEmpty: Bool { count == 0 }

    /// Adds `bits` to the mask of `key`.
    mutating func insert(_ key: UInt64, bits: UInt64) {
        if (count + 1) * 2 > keys.count { grow() }
        let key = key == 0 ? 1 : key
        var slot = Self.slot(key, mask)
        while keys[slot] != 0 && keys[slot] != key { slot = (slot + 1) & mask }
        if keys[slot] == 0 {
            keys[slot] = key
            count += 1
        }
        masks[slot] |= bits
    }

    /// The lists that hold `key` (0 when none).
    @inline(__always)
    func lists(_ key: UInt64) -> UInt64 {
        let key = key == 0 ? 1 : key
        var slot = Self.slot(key, mask)
        while true {
            let found = keys[slot]
            if found == key { return masks[slot] }
            if found == 0 { return 0 }
            slot = (slot + 1) & mask
        }
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key ^ (key >> 29)) &* 0xBF58_476D_1CE4_E5B9 >> 32) & mask
    }

    private mutating func grow() {
        let old = zip(keys, masks).filter { $0.0 != 0 }
        keys = [UInt64](repeating: 0, count: keys.count * 2)
        masks = [UInt64](repeating: 0, count: keys.count)
        mask = keys.count - 1
        count = 0
        for (key, bits) in old { insert(key, bits: bits) }
    }
}
