import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryTraining
import Testing

/// The generative recommender: item vocabulary, temporal splits that do not leak the future, full-catalogue ranking
/// metrics, per-position A-SFT, and the `refinery recsys` command on a dataset the pipeline built.
@Suite struct RecommenderTests {
    static func user(_ id: String, _ items: [String], rewards: [Double]? = nil, times: [Int64]? = nil) -> UserEvents {
        UserEvents(user: id, items: items, rewards: rewards ?? items.map { _ in 0.5 }, timestamps: times ?? items.indices.map { Int64($0) })
    }

    @Test("the item vocabulary: <bos>, <unk>, then items by training count (ties by id); rare items become <unk>; items.json round-trips")
    func vocabulary() throws {
        let training = [TrainingSequence(user: "u", items: ["b", "a", "c", "a", "b", "d"], rewards: Array(repeating: 0, count: 6))]
        let v = ItemVocabulary(training: training, minCount: 2)
        #expect(v.items == ["a", "b"])
        #expect(v.count == 4)
        #expect(v.token("a") == 2 && v.token("b") == 3)
        #expect(v.token("c") == ItemVocabulary.unknownToken && v.token("never") == ItemVocabulary.unknownToken)
        #expect(v.item(0) == nil && v.item(1) == nil && v.item(3) == "b")
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try v.save(to: folder.path)
        #expect(try ItemVocabulary.load(from: folder.path) == v)
        #expect(throws: RefineryError.self) { try ItemVocabulary.load(from: folder.path + "/missing") }
    }

    @Test("leave-last-out tests each user's last event from the events before it, which are all it trains on")
    func leaveLastOut() {
        let log = InteractionLog(users: [
            Self.user("u2", ["x", "y", "z"], rewards: [1, 0, 0.5]),
            Self.user("u1", ["a", "b"], rewards: [0, 1]),
            Self.user("u3", ["solo"]),
        ])
        let data = RecommenderData(log: log, split: .leaveLastOut)
        #expect(data.tests.map(\.user) == ["u1", "u2"])
        #expect(data.tests.map(\.target) == ["b", "z"])
        #expect(data.tests[1].history == ["x", "y"])
        #expect(data.tests[1].targetReward == 0.5)
        #expect(abs(data.tests[1].trajectoryReward - 0.5) < 1e-12)
        #expect(data.train.map(\.items) == [["a"], ["x", "y"], ["solo"]])
        #expect(data.usersWithoutTest == 1)
        for test in data.tests { #expect(!data.train.first { $0.user == test.user }!.items.contains(test.target)) }
    }

    @Test("a history out of time order is sorted before it is split (stably: same-time events keep their order)")
    func timeOrder() {
        let log = InteractionLog(users: [Self.user("u", ["late", "early", "tie1", "tie2"], rewards: [1, 0, 0.25, 0.5], times: [9, 1, 5, 5])])
        #expect(log.users[0].items == ["early", "tie1", "tie2", "late"])
        #expect(log.users[0].rewards == [0, 0.25, 0.5, 1])
        #expect(RecommenderData(log: log, split: .leaveLastOut).tests[0].target == "late")
    }

    @Test("the global time split trains only on events before the cut-off; ties at the cut-off go to the test side")
    func globalTime() {
        // 10 events; the 0.5 quantile is the 6th in time order, t = 5.
        let log = InteractionLog(users: [
            Self.user("u1", ["a", "b", "c", "d"], times: [1, 2, 5, 9]),
            Self.user("u2", ["e", "f", "g"], times: [3, 5, 5]),
            Self.user("u3", ["h", "i"], times: [0, 4]),
            Self.user("u4", ["j"], times: [7]),
        ])
        let data = RecommenderData(log: log, split: .globalTime(quantile: 0.5))
        #expect(data.cutoff == 5)
        #expect(data.train.map(\.items) == [["a", "b"], ["e"], ["h", "i"]])
        #expect(data.tests.map(\.target) == ["c", "f"])
        #expect(data.tests.map(\.history) == [["a", "b"], ["e"]])
        #expect(data.usersWithoutTest == 2) // u3 has nothing after, u4 nothing before
        #expect(data.eventsInTimeOrder.allSatisfy { $0.time < 5 })
        #expect(data.eventsInTimeOrder.map(\.item) == ["h", "a", "b", "e", "i"])
        // A log without a single event has no cut-off and no test, and does not trap.
        let empty = RecommenderData(log: InteractionLog(users: [Self.user("u", [])]), split: .globalTime(quantile: 0.9))
        #expect(empty.cutoff == nil && empty.tests.isEmpty && empty.train.isEmpty && empty.usersWithoutTest == 1)
    }

    @Test("reward noise touches training rewards only, stays in [0, 1] and is the same for the same seed")
    func rewardNoise() {
        let log = InteractionLog(users: (0..<20).map { Self.user("u\($0)", ["a", "b", "c"], rewards: [0, 0.5, 1]) })
        var one = RecommenderData(log: log, split: .leaveLastOut), two = one
        one.addRewardNoise(sigma: 0.3, seed: 9)
        two.addRewardNoise(sigma: 0.3, seed: 9)
        #expect(one.train == two.train)
        let rewards = one.train.flatMap(\.rewards)
        #expect(rewards.allSatisfy { (0...1).contains($0) })
        #expect(Set(rewards).count > 10)
        #expect(one.tests.allSatisfy { $0.targetReward == 1 })
    }

    @Test("ranks over the full catalogue: ties go to the lower token, excluded items do not count, unrankable targets are misses")
    func ranking() {
        let scores: [Float] = [9, 9, 0.5, 0.9, 0.5, 0.1, 0.7]
        scores.withUnsafeBufferPointer { s in
            // Tokens 0 and 1 are not candidates whatever they score.
            #expect(RankingMetrics.rank(of: 3, scores: s, first: 2, excluded: []) == 1)
            #expect(RankingMetrics.rank(of: 6, scores: s, first: 2, excluded: []) == 2)
            #expect(RankingMetrics.rank(of: 2, scores: s, first: 2, excluded: []) == 3)
            #expect(RankingMetrics.rank(of: 4, scores: s, first: 2, excluded: []) == 4)
            #expect(RankingMetrics.rank(of: 4, scores: s, first: 2, excluded: [3, 2]) == 2)
            #expect(RankingMetrics.rank(of: 3, scores: s, first: 2, excluded: [3]) == nil)
            #expect(RankingMetrics.rank(of: 1, scores: s, first: 2, excluded: []) == nil)
        }
        // A target scored NaN ranks last among the candidates left.
        ([0, 0, 0.5, .nan, 0.2] as [Float]).withUnsafeBufferPointer { s in
            #expect(RankingMetrics.rank(of: 3, scores: s, first: 2, excluded: []) == 3)
            #expect(RankingMetrics.rank(of: 3, scores: s, first: 2, excluded: [2]) == 2)
        }
        let m = RankingMetrics(ranks: [1, 3, 11, nil])
        #expect(m.cases == 4)
        #expect(abs(m.hitRate10 - 0.5) < 1e-12)
        #expect(abs(m.ndcg10 - (1 + 1 / log2(4.0)) / 4) < 1e-12)
        #expect(abs(m.mrr - (1 + 1.0 / 3 + 1.0 / 11) / 4) < 1e-12)
    }

    @Test("windows are cut from the end of a history, each reading the item before its first target, <unk> targets untrained")
    func windows() {
        let sequence = TrainingSequence(user: "u", items: ["a", "b", "c", "d", "e"], rewards: [0.1, 0.2, 0.3, 0.4, 0.5])
        let v = ItemVocabulary(items: ["a", "b", "d", "e"], minCount: 1) // c is <unk>
        let w = RecommenderWindow.cut([sequence], vocabulary: v, context: 3)
        #expect(w.count == 2)
        #expect(w[0].inputs == [v.token("b"), ItemVocabulary.unknownToken, v.token("d")])
        #expect(w[0].targets == [-1, v.token("d"), v.token("e")])
        #expect(w[0].rewards == [0.3, 0.4, 0.5])
        #expect(w[1].inputs == [ItemVocabulary.beginToken, v.token("a")])
        #expect(w[1].targets == [v.token("a"), v.token("b")])
    }

    /// Users walk context items `c0…c5`; after `cK` comes `gK` (reward 1) 20 % of the time and `bK` (reward 0)
    /// otherwise.
    static func goodAndBad(users: Int = 100, steps: Int = 12) -> InteractionLog {
        var random = SplitMix64(seed: 42)
        return InteractionLog(users: (0..<users).map { u in
            var items: [String] = [], rewards: [Double] = []
            for _ in 0..<steps {
                let k = Int(random.next() % 6)
                let good = random.nextUnit() < 0.2
                items += ["c\(k)", good ? "g\(k)" : "b\(k)"]
                rewards += [0.5, good ? 1 : 0]
            }
            return user(String(format: "u%03d", u), items, rewards: rewards)
        })
    }

    static func tiny(_ kind: Objective.Kind, baseline: Objective.Baseline = .none, beta: Double = 1) -> RecommenderConfig {
        var c = RecommenderConfig()
        c.layers = 1; c.heads = 2; c.width = 16; c.context = 8
        c.epochs = 12; c.batchRows = 16; c.learningRate = 0.02; c.minLearningRate = 0.002; c.warmup = 5
        c.objective.kind = kind
        c.objective.baseline = baseline
        c.objective.beta = beta
        return c
    }

    @Test("per-position A-SFT: SFT ranks the frequent low-reward next item first, A-SFT the rare high-reward one")
    func advantageWeighting() throws {
        let data = RecommenderData(log: Self.goodAndBad(), split: .leaveLastOut)
        let v = ItemVocabulary(training: data.train, minCount: 1)
        func preference(_ config: RecommenderConfig) throws -> [Bool] {
            let (model, summary) = try RecommenderTrainer.train(data: data, vocabulary: v, config: config)
            #expect(summary.skippedNonFinite == 0)
            let scorer = RecommenderEvaluation.modelScorer(model, vocabulary: v)
            let cases = (0..<6).map { TestCase(user: "probe", history: ["c\($0)"], target: "g\($0)", targetReward: 1, trajectoryReward: 1) }
            let rows = scorer(cases)
            return zip(cases, rows).map { test, row in row[Int(v.token(test.target))] > row[Int(v.token("b" + test.target.dropFirst()))] }
        }
        #expect(try preference(Self.tiny(.sft)) == Array(repeating: false, count: 6))
        #expect(try preference(Self.tiny(.asft, baseline: .userMean, beta: 0.1)) == Array(repeating: true, count: 6))
        #expect(try preference(Self.tiny(.filtered, baseline: .userMean)) == Array(repeating: true, count: 6))
    }

    @Test("A-SFT with beta = inf trains the same weights as SFT; user_mean and item_mean are training-reward means")
    func betaInfinity() throws {
        let data = RecommenderData(log: Self.goodAndBad(users: 12, steps: 6), split: .leaveLastOut)
        let v = ItemVocabulary(training: data.train, minCount: 1)
        var sft = Self.tiny(.sft), inf = Self.tiny(.asft, baseline: .userMean, beta: .infinity), finite = Self.tiny(.asft, baseline: .userMean, beta: 0.5)
        sft.epochs = 2; inf.epochs = 2; finite.epochs = 2
        let a = try RecommenderTrainer.train(data: data, vocabulary: v, config: sft).model.parameters.array
        let b = try RecommenderTrainer.train(data: data, vocabulary: v, config: inf).model.parameters.array
        let c = try RecommenderTrainer.train(data: data, vocabulary: v, config: finite).model.parameters.array
        #expect(a == b)
        #expect(a != c)
        let users = RecommenderTrainer.groupMeans(data.train, baseline: .userMean)
        let first = data.train[0]
        #expect(users[first.user] == first.rewards.reduce(0, +) / Double(first.rewards.count))
        let items = RecommenderTrainer.groupMeans(data.train, baseline: .itemMean)
        #expect(items["g0"] == 1 && items["b0"] == 0)
    }

    @Test("refinery recsys on a dataset refinery run built from interaction logs: learns a sequence popularity cannot, writes its files")
    func command() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // 80 users walk a cycle of 40 items from a random start, one step a minute, across two daily files.
        var random = SplitMix64(seed: 5)
        var days = ["user\titem\trating\ttimestamp\n", "user\titem\trating\ttimestamp\n"]
        for u in 0..<80 {
            let start = Int(random.next() % 40)
            for j in 0..<12 {
                let time = 1_700_000_000 + u * 7 + j * 60
                days[j < 6 ? 0 : 1] += "u\(u)\titem\((start + j) % 40)\t\(1 + (u + j) % 5)\t\(time)\n"
            }
        }
        try folder.write("logs/day1.tsv", days[0])
        try folder.write("logs/day2.tsv", days[1])
        try folder.write("spec.yaml", """
            name: cycle
            sources:
              - {name: ratings, kind: interactions, glob: logs/*.tsv, category: interactions}
            stages:
              - validate: {}
            output: {dir: out/cycle, dataset: cycle, validation_fraction: 0.2}

            """)
        let built = try refinery(["run", folder.path + "/spec.yaml", "--no-report"])
        #expect(built.status == 0, "\(built.stderr)")
        let dataset = folder.path + "/out/cycle"
        let common = ["recsys", dataset, "--json", "--layers", "1", "--heads", "2", "--width", "32", "--context", "8",
                      "--epochs", "25", "--batch-rows", "16", "--learning-rate", "0.02", "--warmup", "5"]
        let trained = try refinery(common + ["--out", folder.path + "/model"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(trained.stdout.utf8)) as? [String: Any])
        // Validation shards hold whole users too: every user is read.
        #expect(result["users"] as? Int == 80)
        #expect(result["tests"] as? Int == 80)
        let metrics = try #require(result["metrics"] as? [String: Any])
        let all = try #require(metrics["all"] as? [String: Any])
        let hit = try #require(all["hr@10"] as? Double)
        #expect(hit > 0.9, "\(trained.stdout)")
        let popular = try refinery(["recsys", dataset, "--json", "--model", "popularity"])
        let popularity = try #require(try JSONSerialization.jsonObject(with: Data(popular.stdout.utf8)) as? [String: Any])
        let popularHit = try #require(((popularity["metrics"] as? [String: Any])?["all"] as? [String: Any])?["hr@10"] as? Double)
        #expect(popularHit < 0.5)
        for file in ["model.safetensors", "items.json", "recsys.json", "log.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: folder.path + "/model/" + file), "\(file)")
        }
        #expect(try ItemVocabulary.load(from: folder.path + "/model").items.count == 40)

        let time = try refinery(["recsys", dataset, "--json", "--model", "recent", "--split", "time:0.5"])
        #expect(time.status == 0, "\(time.stderr)")
        let split = try #require(try JSONSerialization.jsonObject(with: Data(time.stdout.utf8)) as? [String: Any])
        #expect(split["cutoff"] as? Int != nil)

        let bad = try refinery(["recsys", dataset, "--objective", "dpo"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("unknown --objective 'dpo'; use sft, asft, rwbc, filtered"))
        let badSplit = try refinery(["recsys", dataset, "--split", "time:2"])
        #expect(badSplit.status == 64 && badSplit.stderr.contains("time:Q with 0 < Q < 1"))
        let rare = try refinery(["recsys", dataset, "--min-count", "1000", "--epochs", "1"])
        #expect(rare.status == 1 && rare.stderr.contains("no item has --min-count 1000 training events"), "\(rare.stderr)")
        // Every user's events are later than the 0.01 quantile's time but one: nobody has events on both sides.
        let early = try refinery(["recsys", dataset, "--split", "time:0.001", "--model", "popularity"])
        #expect(early.status == 1 && early.stderr.contains("no user has a test event"), "\(early.stderr)")
    }
}
