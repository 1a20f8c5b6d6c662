import RefineryRecords

/// One user's events as the unit `kind: interactions` hands to a worker: compact, binary, time-ordered.
///
/// Layout, little-endian:
///
///     u8  version (1)
///     u32 user id length, user id bytes
///     u64 events the user had (before `max_events`)
///     u32 events kept (n), the most recent ones
///     n × { i64 timestamp (seconds since 1970), u64 reward (IEEE-754 bits), u32 item length, item bytes }
///
/// The unit's file and line are those of the user's first event in reading order, so a reject points at a real
/// line of a real file.
struct UserHistory {
    static let version: UInt8 = 1

    var user: String
    /// The user id as read, when it is not valid UTF-8 (``user`` then holds U+FFFD repairs).
    var userBytes: [UInt8]?
    /// Events the user had in the input; more than `items.count` when the history was cut to `max_events`.
    var total: Int
    var items: [String] = []
    var rewards: [Double] = []
    var timestamps: [Int64] = []
    /// Invalid UTF-8 sequences replaced in the user id and the items.
    var repairs = 0

    /// Decodes a unit made by ``UserHistoryCollector``.
    /// - Throws: `wrong_shape` when the bytes are not such a unit.
    init(decoding bytes: UnsafeBufferPointer<UInt8>) throws(DecodeFailure) {
        var reader = LittleEndianReader(bytes)
        guard reader.read(UInt8.self) == Self.version, let userCount = reader.read(UInt32.self),
              let user = reader.read(count: Int(userCount)), let total = reader.read(UInt64.self),
              let kept = reader.read(UInt32.self)
        else { throw DecodeFailure.wrongShape("not an interactions unit (version \(Self.version))") }
        self.user = String(decoding: user, as: UTF8.self)
        userBytes = String(validating: user, as: UTF8.self) == nil ? Array(user) : nil
        self.total = Int(truncatingIfNeeded: total)
        repairs = JSONParser.countInvalidSequences(user)
        let count = Int(kept)
        items.reserveCapacity(count)
        rewards.reserveCapacity(count)
        timestamps.reserveCapacity(count)
        for _ in 0..<count {
            guard let timestamp = reader.read(Int64.self), let reward = reader.read(UInt64.self),
                  let itemCount = reader.read(UInt32.self), let item = reader.read(count: Int(itemCount))
            else { throw DecodeFailure.wrongShape("an interactions unit ends inside an event") }
            timestamps.append(timestamp)
            rewards.append(Double(bitPattern: reward))
            items.append(String(decoding: item, as: UTF8.self))
            repairs += JSONParser.countInvalidSequences(item)
        }
        guard reader.isAtEnd else { throw DecodeFailure.wrongShape("an interactions unit has bytes after its last event") }
    }

    /// The history as lines a person can read, for the quarantine: `user <id>`, then `timestamp<TAB>reward<TAB>item`.
    var readable: String {
        var text = "user \(user)\n"
        for i in items.indices {
            text += "\(timestamps[i])\t\(rewards[i])\t\(items[i])\n"
        }
        return text
    }
}

/// Gathers the events of one user at a time from the sorted stream and encodes each user's ``UserHistory`` unit.
///
/// Memory: at most twice `maxEvents` events of one user (older events are dropped as newer ones come).
struct UserHistoryCollector {
    let maxEvents: Int
    private var user: [UInt8] = []
    private var hasUser = false
    private var items: [UInt8] = []
    private var events: [(itemStart: Int, itemCount: Int, timestamp: Int64, reward: Double)] = []
    private var total = 0
    /// The user's first event in reading order: where the unit points.
    private var first: (sequence: UInt64, fileIndex: Int, line: Int) = (0, 0, 0)
    private var unit: [UInt8] = []

    init(maxEvents: Int) {
        self.maxEvents = maxEvents
    }

    /// Adds the next event of the sorted stream; hands on the previous user's unit when the user changes.
    /// - Parameter emit: called with a unit's bytes (valid during the call), its file index and line.
    mutating func add(_ event: SortedEvent, emit: (_ unit: [UInt8], _ fileIndex: Int, _ line: Int) throws -> Void) throws {
        if hasUser && event.user != user { try finish(emit: emit) }
        if !hasUser {
            hasUser = true
            user.removeAll(keepingCapacity: true)
            user.append(contentsOf: event.user)
            first = (event.sequence, event.fileIndex, event.line)
        }
        total += 1
        if event.sequence < first.sequence { first = (event.sequence, event.fileIndex, event.line) }
        events.append((items.count, event.item.count, event.timestamp, event.reward))
        items.append(contentsOf: event.item)
        if events.count >= 2 * maxEvents { dropOldest(keeping: maxEvents) }
    }

    /// Keeps only the newest `count` events (events arrive oldest first).
    private mutating func dropOldest(keeping count: Int) {
        let cut = events.count - count
        guard cut > 0 else { return }
        let offset = events[cut].itemStart
        items.removeSubrange(0..<offset)
        events.removeSubrange(0..<cut)
        for i in events.indices { events[i].itemStart -= offset }
    }

    /// Hands on the unit of the user being gathered, if any.
    mutating func finish(emit: (_ unit: [UInt8], _ fileIndex: Int, _ line: Int) throws -> Void) throws {
        guard hasUser else { return }
        dropOldest(keeping: maxEvents)
        unit.removeAll(keepingCapacity: true)
        unit.append(UserHistory.version)
        unit.appendLittleEndian(UInt32(truncatingIfNeeded: user.count))
        unit.append(contentsOf: user)
        unit.appendLittleEndian(UInt64(total))
        unit.appendLittleEndian(UInt32(truncatingIfNeeded: events.count))
        for event in events {
            unit.appendLittleEndian(event.timestamp)
            unit.appendLittleEndian(event.reward.bitPattern)
            unit.appendLittleEndian(UInt32(truncatingIfNeeded: event.itemCount))
            unit.append(contentsOf: items[event.itemStart..<event.itemStart + event.itemCount])
        }
        try emit(unit, first.fileIndex, first.line)
        hasUser = false
        total = 0
        items.removeAll(keepingCapacity: true)
        events.removeAll(keepingCapacity: true)
    }
}
