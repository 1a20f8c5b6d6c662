#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One interaction event as the external sort hands it on; the arrays are reused from event to event, so a
/// consumer must copy what it keeps.
struct SortedEvent {
    var user: [UInt8] = []
    var item: [UInt8] = []
    var timestamp: Int64 = 0
    var reward: Double = 0
    /// Reading order across the whole source: file order, then line.
    var sequence: UInt64 = 0
    var fileIndex = 0
    var line = 0

    /// The sort order: user bytes, then time, then reading order (so ties on time keep file order).
    static func precedes(_ a: SortedEvent, _ b: SortedEvent) -> Bool {
        let order = a.user.withUnsafeBufferPointer { left in b.user.withUnsafeBufferPointer { right in compareBytes(left, right) } }
        if order != 0 { return order < 0 }
        if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
        return a.sequence < b.sequence
    }
}

/// Compares two byte strings lexicographically: negative, zero or positive, like `memcmp`.
func compareBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
    let common = min(a.count, b.count)
    if common > 0, let left = a.baseAddress, let right = b.baseAddress {
        let order = memcmp(left, right, common)
        if order != 0 { return Int(order) }
    }
    return a.count - b.count
}

/// Interaction events held in memory: user and item bytes back to back in one arena, the fixed fields beside them.
struct EventRun {
    struct Entry {
        var userStart: Int
        var userCount: Int
        var itemCount: Int
        var timestamp: Int64
        var reward: Double
        var sequence: UInt64
        var fileIndex: Int
        var line: Int
    }

    private(set) var arena: [UInt8] = []
    private(set) var entries: [Entry] = []

    /// Bytes the events take: what the memory budget is measured against.
    var byteCount: Int { arena.count + entries.count * MemoryLayout<Entry>.stride }
    var isEmpty: Bool { entries.isEmpty }

    mutating func append(user: some Collection<UInt8>, item: some Collection<UInt8>, timestamp: Int64, reward: Double,
                         sequence: UInt64, fileIndex: Int, line: Int) {
        let start = arena.count
        arena.append(contentsOf: user)
        arena.append(contentsOf: item)
        entries.append(Entry(userStart: start, userCount: user.count, itemCount: item.count, timestamp: timestamp,
                             reward: reward, sequence: sequence, fileIndex: fileIndex, line: line))
    }

    /// Orders the events by user bytes, time, then reading order.
    mutating func sort() {
        let arena = self.arena
        arena.withUnsafeBufferPointer { bytes in
            entries.sort { a, b in
                let order = compareBytes(UnsafeBufferPointer(rebasing: bytes[a.userStart..<a.userStart + a.userCount]),
                                         UnsafeBufferPointer(rebasing: bytes[b.userStart..<b.userStart + b.userCount]))
                if order != 0 { return order < 0 }
                if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
                return a.sequence < b.sequence
            }
        }
    }

    /// Copies event `index` into `event`, reusing its arrays.
    func load(_ index: Int, into event: inout SortedEvent) {
        let entry = entries[index]
        let itemStart = entry.userStart + entry.userCount
        event.user.removeAll(keepingCapacity: true)
        event.user.append(contentsOf: arena[entry.userStart..<itemStart])
        event.item.removeAll(keepingCapacity: true)
        event.item.append(contentsOf: arena[itemStart..<itemStart + entry.itemCount])
        event.timestamp = entry.timestamp
        event.reward = entry.reward
        event.sequence = entry.sequence
        event.fileIndex = entry.fileIndex
        event.line = entry.line
    }

    mutating func removeAll() {
        arena.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }
}
