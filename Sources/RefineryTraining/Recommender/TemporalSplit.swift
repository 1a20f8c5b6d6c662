import Foundation
import RefineryCodecs
import RefineryRecords

/// How a recommender's events are cut into what it trains on and what it is tested on, without showing it the
/// future.
public enum TemporalSplit: Sendable, Equatable, CustomStringConvertible {
    /// Each user's last event is the test target; every earlier event is history and training data.
    case leaveLastOut
    /// Events before a time cut-off are training data; each user with events on both sides is tested on their
    /// first event at or after it, from their events before it. The cut-off is the time below which `quantile` of
    /// all events fall (the event at that rank in time order).
    case globalTime(quantile: Double)

    public var description: String {
        switch self {
        case .leaveLastOut: return "leave-last-out"
        case .globalTime(let q): return "time@\(q)"
        }
    }

    /// Parses `leave-last-out`, `time` (quantile 0.9) or `time:Q`.
    /// - Throws: ``RefineryError`` (code `usage`) naming the accepted forms.
    public static func parse(_ text: String) throws -> TemporalSplit {
        if text == "leave-last-out" { return .leaveLastOut }
        if text == "time" { return .globalTime(quantile: 0.9) }
        if text.hasPrefix("time:"), let q = Double(text.dropFirst(5)), q > 0, q < 1 { return .globalTime(quantile: q) }
        throw RefineryError(.usage, "unknown split '\(text)'; use leave-last-out, time (cut-off at the 0.9 quantile of event times) or time:Q with 0 < Q < 1")
    }
}

/// One user's training events.
public struct TrainingSequence: Sendable, Equatable {
    public var user: String
    public var items: [String]
    /// Rewards as trained on (with the noise study's noise, when asked).
    public var rewards: [Double]

    public init(user: String, items: [String], rewards: [Double]) {
        self.user = user
        self.items = items
        self.rewards = rewards
    }
}

/// One test: predict `target` from `history`.
public struct TestCase: Sendable, Equatable {
    public var user: String
    /// The items before the target, oldest first (all of them training events of this user).
    public var history: [String]
    public var target: String
    /// The target event's reward.
    public var targetReward: Double
    /// Mean reward of the trajectory the test comes from (history and target), for the high-reward subset.
    public var trajectoryReward: Double

    public init(user: String, history: [String], target: String, targetReward: Double, trajectoryReward: Double) {
        self.user = user
        self.history = history
        self.target = target
        self.targetReward = targetReward
        self.trajectoryReward = trajectoryReward
    }
}

/// A split of an interaction log.
public struct RecommenderData: Sendable {
    public var split: TemporalSplit
    public var train: [TrainingSequence]
    public var tests: [TestCase]
    /// The cut-off time of a global time split.
    public var cutoff: Int64?
    /// Users with no test (leave-last-out: a single event; time split: no event on one side of the cut-off).
    public var usersWithoutTest: Int
    /// Training events.
    public var trainingEvents: Int { train.reduce(0) { $0 + $1.items.count } }
    /// Every training event in time order (timestamp, then user order, then the user's own order): the recency
    /// baseline's input.
    public var eventsInTimeOrder: [(item: String, time: Int64)]

    /// Splits the log.
    public init(log: InteractionLog, split: TemporalSplit) {
        self.split = split
        var train: [TrainingSequence] = [], tests: [TestCase] = []
        var without = 0
        var timed: [(item: String, time: Int64, user: Int, index: Int)] = []
        // Either split makes each history a training prefix and, when an event follows it, a test on that event.
        let trainingPrefix: (UserEvents) -> Int
        switch split {
        case .leaveLastOut:
            cutoff = nil
            // A user with one event has nothing to be tested from: that event is training data.
            trainingPrefix = { user in user.items.count >= 2 ? user.items.count - 1 : user.items.count }
        case .globalTime(let quantile):
            let times = log.users.flatMap(\.timestamps).sorted()
            let t = times.isEmpty ? nil : times[min(times.count - 1, Int(Double(times.count) * quantile))]
            cutoff = t
            // Histories are in time order, so the events before the cut-off are a prefix.
            trainingPrefix = { user in t.flatMap { t in user.timestamps.firstIndex { $0 >= t } } ?? user.timestamps.count }
        }
        for (u, user) in log.users.enumerated() {
            let before = trainingPrefix(user)
            if before > 0 {
                train.append(TrainingSequence(user: user.user, items: Array(user.items[0..<before]), rewards: Array(user.rewards[0..<before])))
                for i in 0..<before { timed.append((user.items[i], user.timestamps[i], u, i)) }
            }
            guard before > 0, before < user.items.count else { without += 1; continue }
            tests.append(TestCase(user: user.user, history: Array(user.items[0..<before]), target: user.items[before],
                                  targetReward: user.rewards[before], trajectoryReward: user.meanReward(upTo: before + 1)))
        }
        timed.sort { ($0.time, $0.user, $0.index) < ($1.time, $1.user, $1.index) }
        eventsInTimeOrder = timed.map { ($0.item, $0.time) }
        self.train = train
        self.tests = tests
        usersWithoutTest = without
    }

    /// Adds N(0, σ²) to every training reward and clamps to [0, 1] (rewards are on that scale; `rwbc` weighs by the
    /// reward itself). The tests keep their true rewards. Deterministic in `seed`, user by user in user order.
    public mutating func addRewardNoise(sigma: Double, seed: UInt64) {
        guard sigma > 0 else { return }
        var random = GaussianStream(seed: SplitMix64.mix(seed ^ 0x6E6F_6973_6500))
        for s in train.indices {
            train[s].rewards = train[s].rewards.map { Swift.min(1, Swift.max(0, $0 + sigma * Double(random.next()))) }
        }
    }
}
