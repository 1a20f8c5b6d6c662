import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryReport
import RefineryShards
import RefineryStages

/// The global stages (dedup, balance) and the split rules that need the whole run: resolved over the spill on
/// one thread, in canonical order, then applied while the spill is written out as shards on every core.
extension Engine {
    /// Resolves the global stages over the spilled records, in canonical order, then writes the spill out as
    /// shards on every core, in batch order, and this version's dedup index segment beside the catalog (pending
    /// until the manifest is written).
    /// - Returns: what the run's `stats.json` should say about them (memory of the dedup index, spill size), and, when
    ///   the run writes a report, what it needs of the data shards, tallied as they were written.
    func finishGlobalStages(spill: Spill, writer: DatasetWriter, monitor: RunMonitor) throws -> (stats: [String: Any], tallies: ReportTallies?) {
        let resolution = try resolveGlobalStages(spill, monitor: monitor, segment: false)
        resolution.apply(to: writer)
        var stats: [String: Any] = ["spill_records": spill.entries.count, "spill_bytes": spill.batches.reduce(0) { $0 + $1.frame.count },
                                    "spill_entry_bytes": spill.entries.bytes]
        stats.merge(resolution.stats) { $1 }
        let fates = resolution.fates
        // This version's dedup index segment is made on a thread of its own while the shards are written (it reads the
        // entries' keys back through files of its own): on one core after the map, it was 0.5 s of the 1 GB run.
        let entries = spill.entries
        let segment = plan.dedup.flatMap { dedup in
            dedup.acrossVersions ? BackgroundWork { [self] in
                let files = StoredFiles()
                defer { files.close() }
                let (bytes, perRecord) = try encodeSegment(try makeSegment(entries, fates, dedup: dedup, from: files))
                try writePendingSegment(bytes)
                return perRecord
            } : nil
        }
        defer { _ = try? segment?.wait() }
        var next = spill.batches.enumerated().makeIterator()
        // The report's tally of the kept records, train and validation apart, appended in batch order: the shards' order.
        let limit = KeptTally.defaultLimit
        // And of the global stages' rejects, by stage.
        var train = KeptTally(), validation = KeptTally()
        var rejects: [String: RejectsTally] = [:]
        try finalize(next: {
            guard let (chunk, batch) = next.next() else { return nil }
            let start = options.report ? FinalizeJob.ReportStart(
                trainSamples: train.samplesTaken, validationSamples: train.samplesTaken.merging(validation.samplesTaken, uniquingKeysWith: +),
                rejects: rejects.mapValues { RejectsTally(after: $0) }) : nil
            return FinalizeJob(batch: batch, frame: try spill.frame(of: batch), encodedEntries: try spill.entries.encodedEntries(ofChunk: chunk),
                               entriesFile: spill.entries.file(ofChunk: chunk), fates: Array(fates[batch.entries]), reportStart: start)
        }, consume: { output in
            try RunStop.check()
            try writer.append(output)
            if let tally = output.reportTally {
                train.append(tally.train, limit: limit)
                validation.append(tally.validation, limit: limit)
                for (stage, later) in tally.rejects { rejects[stage, default: RejectsTally(limit: limit)].append(later) }
            }
        })
        if let segment { stats["dedup_index_file_bytes_per_record"] = try segment.wait() }
        guard options.report else { return (stats, nil) }
        train.append(validation, limit: limit)
        return (stats, ReportTallies(kept: train, rejects: rejects, limit: limit, keptLines: try pairedSurvivorLines(spill, fates, limit: limit)))
    }

    /// The lines of the kept records whose texts the report's duplicate pairs may show, by id: the survivors of the
    /// first `limit` dedup drops of each reason that ``ReportTallies/mayShowPair(reason:detail:)``, in the order of the
    /// dedup reject shards (the spill's). Read back from the spill: a batch each, ten at most.
    func pairedSurvivorLines(_ spill: Spill, _ fates: RecordFates, limit: Int) throws -> [String: [UInt8]] {
        guard let dedup = plan.dedup, limit > 0 else { return [:] }
        var shown: [String: Int] = [:]
        var survivors: [Int: String] = [:]
        for index in fates.indices {
            guard case .drop(let drop) = fates[index], drop.stage == dedup.name, let kept = drop.keptRecord, let keptID = drop.keptID,
                  ReportTallies.mayShowPair(reason: drop.reason, detail: drop.detail), shown[drop.reason, default: 0] < limit else { continue }
            shown[drop.reason, default: 0] += 1
            survivors[kept] = keptID
            if shown.count == 2 && shown.values.allSatisfy({ $0 >= limit }) { break }
        }
        var lines: [String: [UInt8]] = [:]
        for (record, line) in try spill.lines(of: Set(survivors.keys)) { lines[survivors[record]!] = line }
        return lines
    }

    /// What the global stages decided over the whole run: every spilled record's fate, the stages' counters and
    /// what the manifest and stats.json say about them. Made once, by the reduce or the resolve phase.
    struct GlobalResolution {
        var fates: RecordFates
        /// The counters of dedup and balance, those the spec names.
        var counters: [StageCounters] = []
        var repeats = 0
        var categoryMix: [String: CategoryMix] = [:]
        /// For stats.json (JSON values).
        var stats: [String: Any] = [:]
        /// Seconds spent resolving, by phase index of the run's timings.
        var seconds: [Int: Double] = [:]
        /// This version's dedup index segment (its kept records' keys), when dedup looks across versions: the
        /// caller writes it (the local run as the pending segment, the resolve phase into its folder).
        var segment: PublishedIndexFile?

        func apply(to writer: DatasetWriter) {
            for stage in counters { writer.setCounters(stage) }
            writer.repeats = repeats
            writer.categoryMix = categoryMix
            for (phase, value) in seconds { writer.addSeconds(value, phase: phase) }
        }
    }

    /// Resolves dedup (over the band files of a dedup phase when a complete set matches) and balance over the
    /// spilled records in canonical order, assigns the splits, and makes this version's dedup index segment.
    /// Dedup and the segment stream the entries from disk; balance, the splits and the category mix use the facts.
    /// Dedup's resolver may have run beside the map already (``Spill/resolveBesideMap(_:sourceBytes:)``): it is then
    /// finished here. Without `segment`, the caller makes the segment (``makeSegment(_:_:dedup:from:)``).
    func resolveGlobalStages(_ spill: Spill, monitor: RunMonitor, segment: Bool = true) throws -> GlobalResolution {
        let entries = spill.entries
        let facts = entries.facts
        var stats: [String: Any] = [:]
        var resolution = GlobalResolution(fates: RecordFates())
        var fates = RecordFates(repeating: .keep(copies: 1, validation: false), count: entries.count)
        var phase = plan.stages.count + 1
        if let dedup = plan.dedup {
            monitor.phase(dedup.name)
            var clock = Stopwatch()
            var bandFiles: BandFiles.Reader?
            defer { bandFiles?.close() }
            let feed: DedupFeed
            if let running = spill.dedupFeed {
                feed = running
            } else {
                // After the map: with a dedup phase's bucket numbers, when a complete set was made from these records.
                let (published, publishedStats) = try loadPublishedIndex(for: dedup)
                if !publishedStats.isEmpty { stats["dedup_published"] = publishedStats }
                if dedup.near {
                    switch BandFiles.Reader.open(root: plan.spec.output.root, version: plan.version, specHash: XXH3.hex(plan.spec.configHash),
                                                 bands: dedup.hasher.bands, digest: entries.digest) {
                    case .success(let reader):
                        bandFiles = reader
                        stats["dedup_band_files"] = reader.taskCount
                    case .failure(.none):
                        break
                    case .failure(let why):
                        logger.warning("the dedup phase's band files are not used; resolving with the band hashes here (the same decisions)",
                                       metadata: ["reason": "\(why)"])
                    }
                }
                feed = DedupFeed(stage: dedup, published: published, bandFiles: bandFiles, expectedRecords: entries.count)
                feed.add(spill.dedupChunks(spill.batches.indices))
            }
            // Used in place: a copy of the resolver would copy its tables when it decides.
            var outcome = try feed.finish()
            try bandFiles?.verify()
            if !outcome.publishedStats.isEmpty { stats["dedup_published"] = outcome.publishedStats }
            // Beside the map, the feed's own time is the resolution's, and from here on this thread's.
            let besideMap = spill.dedupFeed != nil
            if besideMap { _ = clock.lap() }
            stats["dedup_index_bytes_per_record"] = (outcome.resolver.indexBytesPerRecord * 10).rounded() / 10
            stats["dedup_state_bytes_per_record"] = (outcome.resolver.stateBytesPerRecord * 10).rounded() / 10
            outcome.resolver.finishAdding()
            // The candidate pairs to verify on their shingle sets, made again from the spilled lines.
            let verified = try ShingleSets.similarities(of: outcome.resolver.pendingPairs, in: spill, stage: dedup, threads: options.workers)
            outcome.resolver.settle(similarities: verified.similarities)
            var counters = StageCounters(name: dedup.name)
            counters.recordsIn = outcome.records
            counters.bytesIn = outcome.bytesIn
            stats["dedup_verified_pairs"] = outcome.resolver.verifiedPairs
            stats["dedup_verified_records"] = verified.records
            let decisions = outcome.resolver.decisions()
            // The drop messages name the records kept and matched: only their ids are read back.
            var named = Set<Int>()
            for decision in decisions {
                switch decision {
                case .exactDuplicate(let kept, let matched), .nearDuplicate(let kept, let matched, _):
                    named.insert(kept)
                    named.insert(matched)
                case .keep, .publishedDuplicate:
                    break
                }
            }
            let ids = try entries.ids(of: named, threads: options.workers)
            for (index, decision) in decisions.enumerated() {
                switch decision {
                case .keep:
                    counters.recordsOut += 1
                    counters.bytesOut += facts[index].contentBytes
                case .exactDuplicate(let kept, let matched):
                    counters.dropped["exact_duplicate", default: 0] += 1
                    let group = matched == kept ? "" : "; its group keeps \(ids[kept]!)"
                    fates[index] = .drop(stage: dedup.name, reason: "exact_duplicate",
                                         detail: "same normalised text as \(ids[matched]!)\(group)", keptID: ids[kept]!, keptRecord: kept)
                case .nearDuplicate(let kept, let matched, let jaccard):
                    counters.dropped["near_duplicate", default: 0] += 1
                    let group = matched == kept ? "" : "; its group keeps \(ids[kept]!)"
                    let measure = dedup.verify == .exact ? "Jaccard" : "estimated Jaccard"
                    fates[index] = .drop(stage: dedup.name, reason: "near_duplicate",
                                         detail: "near-duplicate of \(ids[matched]!), \(measure) \((jaccard * 1000).rounded() / 1000)\(group)",
                                         keptID: ids[kept]!, keptRecord: kept)
                case .publishedDuplicate(let match):
                    let published = "published in \(plan.spec.output.dataset)@\(match.version)"
                    if let jaccard = match.jaccard {
                        counters.dropped["near_duplicate", default: 0] += 1
                        fates[index] = .drop(stage: dedup.name, reason: "near_duplicate",
                                             detail: "near-duplicate of \(match.id), \(published), estimated Jaccard \((jaccard * 1000).rounded() / 1000)",
                                             keptID: match.id)
                    } else {
                        counters.dropped["exact_duplicate", default: 0] += 1
                        fates[index] = .drop(stage: dedup.name, reason: "exact_duplicate",
                                             detail: "same normalised text as \(match.id), \(published)", keptID: match.id)
                    }
                }
            }
            resolution.counters.append(counters)
            resolution.seconds[phase, default: 0] += clock.lap() + (besideMap ? outcome.seconds : 0)
            phase += 1
            stats["dedup_sketch_bytes_per_record"] = dedup.hasher.permutations
        }
        if let balance = plan.balance {
            monitor.phase(balance.name)
            var clock = Stopwatch()
            var counters = StageCounters(name: balance.name)
            // Grouped by the facts' category numbers, then named: a category looked up by name for each record was
            // hashed a million times in this one thread.
            var byNumber = [[Int]](repeating: [], count: entries.categories.count)
            for index in facts.indices where fates[index] == .keep(copies: 1, validation: false) {
                byNumber[Int(facts[index].category)].append(index)
                counters.recordsIn += 1
                counters.bytesIn += facts[index].contentBytes
            }
            var members: [String: [Int]] = [:]
            for (number, indexes) in byNumber.enumerated() where !indexes.isEmpty { members[entries.categories[number]] = indexes }
            let counts = members.mapValues { indexes in
                BalanceStage.CategoryCount(records: indexes.count,
                                           tokens: indexes.reduce(0) { $0 + BalanceStage.tokens(bytes: facts[$1].contentBytes) })
            }
            let targets = balance.targets(counts)
            var repeats = 0
            for (category, indexes) in members.sorted(by: { $0.key < $1.key }) {
                let target = targets[category] ?? indexes.count
                let ranked = indexes.map { (rank: facts[$0].rank, tokens: BalanceStage.tokens(bytes: facts[$0].contentBytes)) }
                let (copies, reason) = balance.copies(ranked, category: category, target: target)
                // One drop for the whole category, not one each: a thinned category can drop millions.
                let drop = RecordFate.drop(stage: balance.name, reason: reason,
                                           detail: "category \(category): \(indexes.count) records in, \(target) wanted", keptID: nil)
                for (index, count) in zip(indexes, copies) {
                    if count == 0 {
                        counters.dropped[reason, default: 0] += 1
                        fates[index] = drop
                    } else {
                        counters.recordsOut += count
                        counters.bytesOut += count * facts[index].contentBytes
                        repeats += count - 1
                        fates[index] = .keep(copies: count, validation: false)
                    }
                }
            }
            if repeats > 0 { counters.events["repeated", default: 0] += repeats }
            resolution.counters.append(counters)
            resolution.repeats = repeats
            resolution.seconds[phase, default: 0] += clock.lap()
        }
        assignSplits(entries, &fates)
        if segment, let dedup = plan.dedup, dedup.acrossVersions { resolution.segment = try makeSegment(entries, fates, dedup: dedup) }
        resolution.categoryMix = categoryMix(entries, fates)
        resolution.fates = fates
        resolution.stats = stats
        return resolution
    }

    /// This version's dedup index segment: the keys and ids of the records kept, read back from the spill's entries
    /// through `files` (by default the spill's own).
    func makeSegment(_ entries: SpillEntries, _ fates: RecordFates, dedup: DedupStage, from files: StoredFiles? = nil) throws -> PublishedIndexFile {
        var segment = PublishedIndexFile(dataset: plan.spec.output.dataset, version: plan.version, stage: dedup)
        try entries.forEachKeys(from: files) { index, keys in
            if case .keep = fates[index], keys.hasKeys { segment.append(exact: keys.exact, bands: keys.bands, sketch: keys.sketch, id: keys.id) }
        }
        return segment
    }

    /// Writes spilled batches out as shards on every core (``FinalizeProcessor``), handing each batch's output to
    /// `consume` in the order `next` gives the jobs.
    func finalize(next: () throws -> FinalizeJob?, consume: @escaping (BatchOutput) throws -> Void) throws {
        let plan = self.plan
        let executor = OrderedExecutor<FinalizeJob, BatchOutput>(
            workers: options.workers, window: options.workers * 2 + 1,
            makeProcessor: {
                do {
                    let processor = try FinalizeProcessor(plan: plan)
                    return { processor.process($0) }
                } catch {
                    let message = "\(error)"
                    return { job in
                        var output = BatchOutput(index: job.batch.index, sourceIndex: job.batch.sourceIndex)
                        output.failure = message
                        return output
                    }
                }
            },
            consume: consume)
        do {
            while let job = try next() { try executor.submit(job) }
            try executor.finish()
        } catch {
            executor.shutdown()
            throw error
        }
    }

    /// Records and characters per category going into the global stages and written by them (repeats counted).
    func categoryMix(_ entries: SpillEntries, _ fates: RecordFates) -> [String: CategoryMix] {
        var mix = [CategoryMix](repeating: CategoryMix(), count: entries.categories.count)
        for (facts, fate) in zip(entries.facts, fates) {
            let category = Int(facts.category)
            mix[category].recordsBefore += 1
            mix[category].charsBefore += facts.contentChars
            if case .keep(let copies, _) = fate {
                mix[category].recordsAfter += copies
                mix[category].charsAfter += copies * facts.contentChars
            }
        }
        return Dictionary(uniqueKeysWithValues: zip(entries.categories, mix))
    }

    /// Train or validation for every kept record: by XXH3 of its id below `validation_fraction` × 2^64, then, when
    /// `validation_per_category` or `validation_min` ask for more, the train records with the smallest hashes
    /// move over (per category first, among categories with at least ten times the minimum, then overall). A
    /// repeated record's copies stay together.
    func assignSplits(_ entries: SpillEntries, _ fates: inout RecordFates) {
        let facts = entries.facts
        let output = plan.spec.output
        let threshold = BatchProcessor.validationThreshold(fraction: output.validationFraction)
        var train: [(hash: UInt64, index: Int)] = []
        var validationByCategory: [String: Int] = [:]
        var validationCount = 0
        for index in facts.indices {
            guard case .keep(let copies, _) = fates[index] else { continue }
            let hash = facts[index].splitHash
            if threshold == UInt64.max || hash < threshold {
                fates[index] = .keep(copies: copies, validation: true)
                validationByCategory[entries.category(index), default: 0] += copies
                validationCount += copies
            } else if output.splitNeedsCounts {
                // The candidates to move, only when a minimum may move some.
                train.append((hash, index))
            }
        }
        guard output.splitNeedsCounts else { return }
        train.sort { ($0.hash, $0.index) < ($1.hash, $1.index) }
        var moved = Set<Int>()
        func move(_ index: Int) {
            guard case .keep(let copies, false) = fates[index] else { return }
            fates[index] = .keep(copies: copies, validation: true)
            validationByCategory[entries.category(index), default: 0] += copies
            validationCount += copies
            moved.insert(index)
        }
        if output.validationPerCategory > 0 {
            var sizes: [String: Int] = [:]
            for index in facts.indices { if case .keep = fates[index] { sizes[entries.category(index), default: 0] += 1 } }
            for candidate in train {
                let category = entries.category(candidate.index)
                guard (sizes[category] ?? 0) >= 10 * output.validationPerCategory,
                      validationByCategory[category, default: 0] < output.validationPerCategory else { continue }
                move(candidate.index)
            }
        }
        for candidate in train where validationCount < output.validationMin && !moved.contains(candidate.index) {
            move(candidate.index)
        }
    }
}
