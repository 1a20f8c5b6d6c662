import Foundation
import RefineryRecords
import RefineryShards

/// One user's events, oldest first, as the interactions reader wrote them (ties in time already broken by file
/// order and line).
public struct UserEvents: Sendable, Equatable {
    /// The user's id (the input's user column).
    public var user: String
    /// Item ids, oldest first.
    public var items: [String]
    /// One reward per item in [0, 1].
    public var rewards: [Double]
    /// One time per item, seconds since 1970.
    public var timestamps: [Int64]

    public init(user: String, items: [String], rewards: [Double], timestamps: [Int64]) {
        self.user = user
        self.items = items
        self.rewards = rewards
        self.timestamps = timestamps
    }

    /// Mean reward over the events `0..<end`.
    public func meanReward(upTo end: Int) -> Double {
        end > 0 ? rewards[0..<end].reduce(0, +) / Double(end) : 0
    }
}

/// The interaction histories of a dataset version: every record with `items` in every split (train and
/// validation shards alike hold whole users; the recommender makes its own temporal split), in user-id order.
public struct InteractionLog: Sendable {
    /// The users, ordered by user id (byte order), each once.
    public var users: [UserEvents]
    /// Records of the dataset that are not interaction histories (documents, chats), or empty ones, left out.
    public var otherRecords: Int

    /// A log of these users, each history put in time order (a stable sort: events at the same time keep their
    /// order, which the interactions reader has already made file order, then line).
    public init(users: [UserEvents], otherRecords: Int = 0) {
        self.users = users.map { user in
            let order = user.timestamps.indices.sorted { (user.timestamps[$0], $0) < (user.timestamps[$1], $1) }
            guard order != Array(user.timestamps.indices) else { return user }
            return UserEvents(user: user.user, items: order.map { user.items[$0] }, rewards: order.map { user.rewards[$0] },
                              timestamps: order.map { user.timestamps[$0] })
        }.sorted { Array($0.user.utf8).lexicographicallyPrecedes(Array($1.user.utf8)) }
        self.otherRecords = otherRecords
    }

    /// Reads a dataset folder, its shards checked against the manifest.
    /// - Throws: ``RefineryError`` (code `integrity`) for a damaged shard; (code `input`) for a history whose
    ///   arrays disagree in length or hold a value of the wrong type, a user that appears twice, or a dataset without
    ///   any history. Records without items (documents, chats, empty histories) are counted in `otherRecords`.
    public static func read(directory: String) throws -> InteractionLog {
        let records = try DatasetRecords(directory: directory)
        var users: [UserEvents] = []
        var seen: [String: SourceLocation] = [:]
        var others = 0
        for split in records.splits {
            try records.forEach(split: split) { record in
                guard case .array(let items)? = record.value["items"], !items.isEmpty else { others += 1; return }
                let user = userID(of: record)
                let itemIDs = items.map { $0.stringValue ?? "" }
                let rewards: [Double]
                if case .array(let values)? = record.value["rewards"] { rewards = values.map { $0.doubleValue ?? .nan } } else { rewards = [] }
                let times: [Int64]
                if case .array(let values)? = record.value["timestamps"] {
                    times = values.compactMap { value in value.doubleValue.flatMap { Int64(exactly: $0.rounded(.down)) } }
                } else { times = [] }
                guard rewards.count == itemIDs.count, times.count == itemIDs.count, !itemIDs.contains(""),
                      rewards.allSatisfy({ $0.isFinite }) else {
                    throw RefineryError(.input, "the history of user \(user) has \(itemIDs.count) items, \(rewards.count) rewards and "
                        + "\(times.count) timestamps (or an empty item, a non-numeric reward or timestamp); every event needs an item, a reward and a time", at: record.location)
                }
                if let first = seen[user] {
                    throw RefineryError(.input, "user \(user) has two histories (the first at \(first)); an interactions source "
                        + "gathers a user's events into one record, so two sources name the same user", at: record.location)
                }
                seen[user] = record.location
                users.append(UserEvents(user: user, items: itemIDs, rewards: rewards, timestamps: times))
            }
        }
        guard !users.isEmpty else {
            throw RefineryError(.input, "\(directory) holds no interaction history (records with `items`); build it from an "
                + "`interactions` source", at: SourceLocation(file: directory))
        }
        return InteractionLog(users: users, otherRecords: others)
    }

    /// The user id from `meta.user`, else the `user=` part of the record id, else the id.
    static func userID(of record: DatasetRecord) -> String {
        if let meta = record.value["meta"]?.stringValue, let user = (try? JSONParser.parse(Array(meta.utf8)))?.value["user"]?.stringValue {
            return user
        }
        if let range = record.id.range(of: ":user=", options: .backwards) { return String(record.id[range.upperBound...]) }
        return record.id
    }
}
