import Foundation
import RefineryRecords
import RefineryShards

/// What the data shards contribute to the report: the mixes after balancing, the histograms, the sample records
/// per category, and the texts of the kept records duplicate pairs show.
///
/// One tally per shard, built on several threads, then appended to each other in manifest order
/// (``append(_:limit:)``): counts add up, and samples and texts are taken in the order a single pass would meet them,
/// so the report is the same whatever the number of threads.
struct KeptTally {
    var mixes = MixTally()
    var histograms = Histogram.recordMeasures()
    /// Sample records, at most `limit` per category, in shard order.
    var samples: [RecordSample] = []
    private var sampled: [String: Int] = [:]
    /// Texts of the ids asked for (a duplicate's kept record), the first occurrence of each.
    var found: [String: String] = [:]

    /// Counts one kept record.
    /// - Parameters:
    ///   - wanted: ids whose text the duplicate pairs need.
    ///   - limit: samples kept per category.
    mutating func add(_ record: DatasetRecord, wanted: Set<String>, limit: Int, exampleText: ExampleText) {
        let value = record.value
        let measures = RecordMeasures(value)
        for field in MixTally.fields {
            mixes.addAfter(field: field, value: measures.key(field), chars: measures.chars, copy: measures.isCopy)
        }
        // In the order of Histogram.recordMeasures().
        histograms[0].add(value["scores"]?["quality"]?.doubleValue)
        histograms[1].add(value["scores"]?["toxicity"]?.doubleValue)
        histograms[2].add(value["scores"]?["lang"]?.doubleValue)
        if measures.hasContent {
            histograms[3].add(measures.chars)
            histograms[4].add(measures.words)
        } else {
            histograms[3].add(nil as Double?)
            histograms[4].add(nil as Double?)
        }
        histograms[5].add(measures.turns.map(Double.init))
        histograms[6].add(value["reward"]?.doubleValue)
        guard !measures.isCopy else { return }
        let category = measures.key("category")
        if sampled[category, default: 0] < limit {
            sampled[category, default: 0] += 1
            samples.append(RecordSample(category: category, id: record.id,
                                        text: exampleText.render(ExampleText.content(of: value)).text))
        }
        let id = record.id
        if wanted.contains(id), found[id] == nil {
            found[id] = exampleText.render(ExampleText.content(of: value)).text
        }
    }

    /// Adds a tally of the shards after this one's.
    mutating func append(_ later: KeptTally, limit: Int) {
        mixes.add(later.mixes)
        for index in histograms.indices { histograms[index].add(later.histograms[index]) }
        for sample in later.samples where sampled[sample.category, default: 0] < limit {
            sampled[sample.category, default: 0] += 1
            samples.append(sample)
        }
        for (id, text) in later.found where found[id] == nil { found[id] = text }
    }

    /// The tally of `entries` (data shards, in manifest order), read on up to `threads` threads, one shard at a time
    /// each.
    /// - Throws: the first shard's error, in shard order, as a single pass would.
    static func read(_ entries: [ShardEntry], of records: DatasetRecords, threads: Int, wanted: Set<String>, limit: Int,
                     exampleText: ExampleText) throws -> KeptTally {
        let results = ShardResults(count: entries.count)
        let threads = max(1, min(threads, entries.count))
        let work: @Sendable () -> Void = {
            while let index = results.next() {
                var tally = KeptTally()
                do {
                    try records.forEach(in: [entries[index]]) { tally.add($0, wanted: wanted, limit: limit, exampleText: exampleText) }
                    results.set(index, .success(tally))
                } catch {
                    results.set(index, .failure(error))
                }
            }
        }
        if threads == 1 {
            work()
        } else {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in work() }
        }
        var total = KeptTally()
        for result in results.all() { total.append(try result.get(), limit: limit) }
        return total
    }
}

/// The per-shard results of ``KeptTally/read(_:of:threads:wanted:limit:exampleText:)``, filled by several threads:
/// the next shard to read and each shard's tally, behind a lock.
private final class ShardResults: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var results: [Result<KeptTally, any Error>?]
    /// Set once a shard failed: the others not yet started are left alone.
    private var failed = false

    init(count: Int) {
        results = Array(repeating: nil, count: count)
    }

    /// The next shard to read, nil when none is left (or one failed).
    func next() -> Int? {
        lock.withLock {
            guard !failed, nextIndex < results.count else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    func set(_ index: Int, _ result: Result<KeptTally, any Error>) {
        lock.withLock {
            results[index] = result
            if case .failure = result { failed = true }
        }
    }

    /// The results in shard order, up to the first shard not read (after a failure, the failed one is among those
    /// before it).
    func all() -> [Result<KeptTally, any Error>] {
        lock.withLock { Array(results.prefix { $0 != nil }.compactMap { $0 }) }
    }
}
