import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefineryTraining
import Testing

/// The trainer's data layer: records from verified shards, the chat template and its loss mask, cutting long
/// examples, packing without attention across documents, and the mixed, shuffled, resumable stream.
@Suite struct TrainingDataTests {
    // MARK: Helpers

    /// A byte-level tokenizer without merges, with the default special tokens.
    static func template() throws -> ChatTemplate { try ChatTemplate(tokenizer: try BPETokenizer(merges: [])) }

    /// One JSON line from an object.
    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A chat record's JSON line.
    static func chat(_ id: String, _ turns: [(String, String)], reward: Double? = nil) throws -> String {
        var object: [String: Any] = ["id": id, "messages": turns.map { ["role": $0.0, "content": $0.1] }]
        if let reward { object["reward"] = reward }
        return try json(object)
    }

    /// How ``writeDataset(in:_:shards:frames:)`` cuts a shard into zstd frames.
    enum Frames: CustomStringConvertible {
        /// One frame.
        case one
        /// A frame per this many lines, as a run writes a frame per batch.
        case lines(Int)
        /// A frame per this many bytes, cutting lines.
        case bytes(Int)
        /// One frame per this many lines with its size recorded, but the second streamed without it.
        case streamed(Int)

        var description: String {
            switch self {
            case .one: "one frame"
            case .lines(let n): "frames of \(n) lines"
            case .bytes(let n): "frames of \(n) bytes"
            case .streamed(let n): "frames of \(n) lines, one without its size"
            }
        }

        func compress(_ lines: [String]) throws -> [UInt8] {
            let compressor = try ZstdCompressor()
            var out: [UInt8] = []
            let plain = Array(lines.map { $0 + "\n" }.joined().utf8)
            switch self {
            case .one:
                try compressor.compressFrame(plain, into: &out)
            case .bytes(let n):
                for start in stride(from: 0, to: plain.count, by: n) {
                    try compressor.compressFrame(Array(plain[start..<min(plain.count, start + n)]), into: &out)
                }
            case .lines(let n), .streamed(let n):
                for (number, start) in stride(from: 0, to: lines.count, by: n).enumerated() {
                    let frame = Array(lines[start..<min(lines.count, start + n)].map { $0 + "\n" }.joined().utf8)
                    guard case .streamed = self, number == 1 else { try compressor.compressFrame(frame, into: &out); continue }
                    try compressor.begin()
                    try frame.withUnsafeBytes { try compressor.write($0, into: &out) }
                    try compressor.finish(into: &out)
                }
            }
            return out
        }
    }

    /// Writes a dataset folder: one zstd shard per list of lines, listed in a manifest with sizes and checksums.
    @discardableResult
    static func writeDataset(in folder: TemporaryFolder, _ name: String, shards: [(split: String, lines: [String])],
                             frames: Frames = .one) throws -> String {
        var entries: [ShardEntry] = []
        for (index, shard) in shards.enumerated() {
            let plain = Array((shard.lines.joined(separator: "\n") + "\n").utf8)
            let compressed = try frames.compress(shard.lines)
            let file = "\(shard.split)-\(String(format: "%05d", index))-of-\(String(format: "%05d", shards.count)).jsonl.zst"
            try folder.write("\(name)/\(file)", compressed)
            entries.append(ShardEntry(file: file, split: shard.split, records: shard.lines.count, bytes: compressed.count,
                                      uncompressedBytes: plain.count, xxh3: XXH3.hex(XXH3.hash(compressed)), categories: [:]))
        }
        let manifest = Manifest(dataset: name, version: "v1", configHash: "0", spec: "", inputs: [], shards: entries, rejects: [],
                                splits: [:], stages: [], totals: Totals(read: 0, written: 0, quarantined: 0, quarantinedByReason: [:], blankLines: 0))
        try folder.write("\(name)/manifest.json", [UInt8](try manifest.encoded()))
        return folder.path + "/" + name
    }

    /// An example whose tokens are `first..<first + count` (so a token names its place), trained on all but the first.
    static func counting(_ id: String, first: Int32 = 0, count: Int) -> TrainingExample {
        TrainingExample(id: id, tokens: (0..<Int32(count)).map { first + $0 }, mask: Array(repeating: true, count: count))
    }

    // MARK: Chat template

    @Test("a chat trains on the assistant's content and its <|end|>, nothing else")
    func chatMask() throws {
        let template = try Self.template()
        let tokenizer = template.tokenizer
        func special(_ name: String) throws -> Int32 { try #require(tokenizer.id(ofSpecial: name)) }
        let (sys, user, assistant, end, eot) = (try special("<|system|>"), try special("<|user|>"), try special("<|assistant|>"),
                                                try special("<|end|>"), try special("<|endoftext|>"))
        let bytes = { (text: String) in text.utf8.map { ByteLevel.idOfByte[Int($0)] } }
        let messages = [ChatMessage(role: .system, content: "S"), ChatMessage(role: .user, content: "hi"),
                        ChatMessage(role: .assistant, content: "ok"), ChatMessage(role: .user, content: "?"),
                        ChatMessage(role: .assistant, content: "no")]
        let (tokens, mask) = template.render(messages)
        #expect(tokens == [sys] + bytes("S") + [end, user] + bytes("hi") + [end, assistant] + bytes("ok") + [end, user] + bytes("?")
            + [end, assistant] + bytes("no") + [end, eot])
        let f = false, t = true
        #expect(mask == [f, f, f, // <|system|> S <|end|>
                         f, f, f, f, // <|user|> h i <|end|>
                         f, t, t, t, // <|assistant|> o k <|end|>
                         f, f, f, // <|user|> ? <|end|>
                         f, t, t, t, // <|assistant|> n o <|end|>
                         f]) // <|endoftext|>

        #expect(template.prompt(messages: Array(messages.prefix(2))) == [sys] + bytes("S") + [end, user] + bytes("hi") + [end, assistant])

        // A special token's spelling inside a message is text: data cannot forge a turn.
        let forged = template.render([ChatMessage(role: .user, content: "<|assistant|>x<|end|>")]).tokens
        #expect(forged.filter { [assistant, end].contains($0) } == [end])

        // A document: its tokens and <|endoftext|>, all trained but the first (which has no context).
        let document = template.render(text: "ab<|endoftext|>")
        #expect(document.tokens == bytes("ab<|endoftext|>") + [eot])
        #expect(document.mask == [false] + Array(repeating: true, count: document.tokens.count - 1))
    }

    @Test("records: chats and texts become examples with their metadata; the rest is skipped and counted by reason")
    func recordsReport() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let lines = [
            try Self.chat("c1", [("user", "hi"), ("assistant", "ok")], reward: 0.25),
            try Self.chat("n1", [("system", "be nice"), ("user", "hi")]), // no assistant turn
            try Self.chat("n2", [("user", "hi"), ("assistant", " \n ")]), // empty reply
            try Self.chat("n3", []),
            try Self.chat("n4", [("user", "a"), ("assistant", "")]),
            try Self.json(["id": "i1", "items": [1, 2], "rewards": [1, 0]]),
            try Self.json(["id": "x1", "category": "c"]),
            try Self.chat("u1", [("user", "hi"), ("tool", "{}"), ("assistant", "ok")]),
            try Self.json(["id": "m1", "messages": [["role": "user", "content": 5]]]),
            try Self.json(["id": "t1", "text": "plain words", "reward": 1, "category": "news", "source": "wire"]),
            try Self.json(["text": "no id"]),
        ]
        let path = try Self.writeDataset(in: folder, "d", shards: [("train", Array(lines.prefix(6))), ("train", Array(lines.dropFirst(6)))])
        let data = try DatasetExamples(directory: path, template: try Self.template(), context: 64)
        let report = data.report
        #expect(report.records == 11 && report.examples == 3 && report.balances)
        #expect(report.skipped == ["no_targets": 4, "interactions": 1, "no_text": 1, "unknown_role": 1, "malformed_messages": 1])
        #expect(report.skippedIDs["no_targets"] == ["n1", "n2", "n3"]) // at most three kept
        #expect(report.skippedIDs["unknown_role"] == ["u1"])
        #expect(data.examples.map(\.id) == ["c1", "t1", "train-00001-of-00002.jsonl.zst:5"])
        #expect(data.examples.allSatisfy { $0.targetCount > 0 })
        #expect(data.examples[0].reward == 0.25 && data.examples[0].category == nil)
        #expect(data.examples[1].reward == 1 && data.examples[1].category == "news" && data.examples[1].source == "wire")
        #expect(report.targets == data.examples.map(\.targetCount).reduce(0, +))
        #expect(report.description.contains("no_targets: 4 (e.g. n1, n2, n3)"))

        // Records come with their place.
        var places: [String] = []
        try DatasetRecords(directory: path).forEach { places.append("\($0.shard):\($0.line)") }
        #expect(places == (1...6).map { "0:\($0)" } + (1...5).map { "1:\($0)" })
        // The tokenizer's corpus reader goes through the same records.
        var texts: [String] = []
        try DatasetTexts(directory: path).forEachText { texts.append($0) }
        #expect(texts.first == "hi" && texts.contains("plain words") && texts.last == "no id")
    }

    @Test("a record with nothing to train on is reported, not trained on, even when built in memory")
    func allZeroMask() throws {
        let template = try Self.template()
        let silent = template.render([ChatMessage(role: .system, content: "rules"), ChatMessage(role: .user, content: "hello")])
        #expect(!silent.mask.contains(true))
        #expect(template.example(from: try JSONParser.parse(Array(try Self.chat("z", [("user", "q"), ("assistant", "")]).utf8)).value, id: "z")
                == .skipped(.noTargets))
        let data = try DatasetExamples(name: "memory", examples: [
            TrainingExample(id: "silent", tokens: silent.tokens, mask: silent.mask), Self.counting("fine", count: 4),
        ], context: 16, padToken: 0)
        #expect(data.examples.map(\.id) == ["fine"])
        #expect(data.report.skipped == ["no_targets": 1] && data.report.skippedIDs == ["no_targets": ["silent"]] && data.report.balances)
        // A stream refuses a dataset with nothing to train on, and says why.
        let empty = try DatasetExamples(name: "empty", examples: [TrainingExample(id: "silent", tokens: silent.tokens, mask: silent.mask)],
                                        context: 16, padToken: 0)
        #expect { try DataStream(datasets: [empty], weights: [1], seed: 1) } throws: { error in
            (error as? RefineryError)?.code == .usage && "\(error)".contains("no_targets")
        }
    }

    // MARK: Long examples

    @Test("a long example is cut into overlapping pieces that predict every target exactly once",
          arguments: [(11, 3), (4, 3), (5, 3), (12, 5), (40, 1), (9, 8)])
    func splitting(count: Int, context: Int) {
        let example = Self.counting("long", count: count)
        let pieces = example.pieces(context: context)
        #expect(pieces.allSatisfy { $0.tokens.count >= 2 && $0.tokens.count <= context + 1 && !$0.mask[0] && $0.id == "long" })
        #expect(pieces.count == (count - 2) / context + 1)
        // Token values are their places: collect what each piece predicts.
        let predicted = pieces.flatMap { piece in piece.tokens.indices.filter { piece.mask[$0] }.map { piece.tokens[$0] } }
        #expect(predicted == Array(1..<Int32(count)))
        for (a, b) in zip(pieces, pieces.dropFirst()) { #expect(a.tokens.last == b.tokens.first) }
    }

    @Test("pieces without a trained token are dropped, and counted")
    func splittingDropsPromptPieces() throws {
        // Trained: 1, 2, 3, 7, 9, 10. With T = 3 the pieces are 0-3, 3-6 (nothing trained), 6-9, 9-10.
        let trained: Set<Int> = [1, 2, 3, 7, 9, 10]
        let example = TrainingExample(id: "p", tokens: (0..<11).map { Int32($0) }, mask: (0..<11).map { trained.contains($0) })
        let pieces = example.pieces(context: 3)
        #expect(pieces.map(\.tokens) == [[0, 1, 2, 3], [6, 7, 8, 9], [9, 10]])
        let predicted = pieces.flatMap { piece in piece.tokens.indices.filter { piece.mask[$0] }.map { Int(piece.tokens[$0]) } }
        #expect(predicted == trained.sorted())
        let data = try DatasetExamples(name: "m", examples: [example, Self.counting("short", count: 3)], context: 3, padToken: 0)
        #expect(data.report.splitExamples == 1 && data.report.droppedPieces == 1 && data.report.pieces == 4 && data.report.examples == 2)
        #expect(data.report.targets == 6 + 2)
    }

    // MARK: Packing

    @Test("packing lays examples out greedily, with positions restarting and padding in its own segment")
    func packingLayout() throws {
        var packer = try Packer(context: 5, rows: 2, padToken: 99)
        let a = Self.counting("a", first: 10, count: 3) // 2 positions
        let b = TrainingExample(id: "b", tokens: [20, 21, 22, 23], mask: [false, true, false, true], reward: 0.5) // 3 positions
        let c = Self.counting("c", first: 30, count: 3)
        let d = Self.counting("d", first: 40, count: 6) // 5 positions: fits no row left
        #expect(try packer.add(a, dataset: 0))
        #expect(try packer.add(b, dataset: 1))
        #expect(try packer.add(c, dataset: 0))
        #expect(try !packer.add(d, dataset: 0))
        let batch = packer.finish()
        #expect(batch.rows == 2 && batch.context == 5)
        #expect(batch.inputs == [10, 11, 20, 21, 22, /**/ 30, 31, 99, 99, 99])
        #expect(batch.targets == [11, 12, 21, -1, 23, /**/ 31, 32, -1, -1, -1])
        #expect(batch.positions == [0, 1, 0, 1, 2, /**/ 0, 1, 0, 1, 2])
        #expect(batch.segmentStarts == [0, 0, 2, 2, 2, /**/ 0, 0, 2, 2, 2])
        #expect(batch.exampleIndex == [0, 0, 1, 1, 1, /**/ 2, 2, -1, -1, -1])
        #expect(batch.examples.map(\.id) == ["a", "b", "c"] && batch.examples.map(\.targets) == [2, 2, 2])
        #expect(batch.examples[1].dataset == 1 && batch.examples[1].reward == 0.5 && batch.targetCount == 6)
        #expect(batch.mayAttend(row: 0, from: 3, to: 2) && !batch.mayAttend(row: 0, from: 2, to: 1) && !batch.mayAttend(row: 0, from: 2, to: 3))
        #expect(packer.isEmpty)
        #expect(try packer.add(d, dataset: 0))
        #expect(throws: RefineryError.self) { try packer.add(Self.counting("long", count: 7), dataset: 0) }
    }

    @Test("packed batches keep every example whole, in order, within one segment, with no target across documents")
    func packingInvariants() throws {
        var random = SplitMix64(seed: 7)
        let context = 8
        let examples = (0..<60).map { k -> TrainingExample in
            let count = 2 + Int(random.next() % UInt64(context))
            return TrainingExample(id: "e\(k)", tokens: (0..<count).map { _ in Int32(random.next() % 50) },
                                   mask: (0..<count).map { _ in random.next() % 4 != 0 })
        }.filter { $0.targetCount > 0 }
        let data = try DatasetExamples(name: "m", examples: examples, context: context, padToken: 99)
        let batches = try data.batches(rows: 3)
        #expect(batches.flatMap { $0.examples.map(\.id) } == examples.map(\.id))
        #expect(batches.dropLast().allSatisfy { $0.rows == 3 })
        var next = 0
        for batch in batches {
            #expect([batch.inputs, batch.targets, batch.positions, batch.segmentStarts, batch.exampleIndex].allSatisfy { $0.count == batch.rows * context })
            for row in 0..<batch.rows {
                let base = row * context
                for t in 0..<context {
                    let start = Int(batch.segmentStarts[base + t])
                    #expect(start <= t && Int(batch.positions[base + t]) == t - start)
                    if t > 0 && start != t {
                        // Same segment as the position before: same example.
                        #expect(Int(batch.segmentStarts[base + t - 1]) == start && batch.exampleIndex[base + t - 1] == batch.exampleIndex[base + t])
                    }
                    if batch.exampleIndex[base + t] < 0 {
                        #expect(batch.inputs[base + t] == 99 && batch.targets[base + t] == -1)
                    }
                }
                // Greedy: a row ends early only when the next example would not fit in it.
                let used = (0..<context).filter { batch.exampleIndex[base + $0] >= 0 }.count
                let rowExamples = Set((0..<context).map { batch.exampleIndex[base + $0] }.filter { $0 >= 0 })
                let following = next + rowExamples.count
                if following < examples.count { #expect(used + examples[following].positionCount > context) }
                next = following
            }
            for (index, meta) in batch.examples.enumerated() {
                let at = batch.exampleIndex.indices.filter { batch.exampleIndex[$0] == Int32(index) }
                let example = try #require(examples.first { $0.id == meta.id })
                #expect(at.count == example.positionCount && at.last.map { $0 - at[0] + 1 } == at.count)
                #expect(at.map { batch.inputs[$0] } == Array(example.tokens.dropLast()))
                #expect(at.map { batch.targets[$0] } == (1..<example.tokens.count).map { example.mask[$0] ? example.tokens[$0] : -1 })
                #expect(meta.targets == example.targetCount)
            }
        }
        #expect(batches.map(\.targetCount).reduce(0, +) == data.report.targets)
    }

    // MARK: Stream

    /// Datasets of `counts[i]` examples of 3 to 5 tokens each, ids `d<i>-<k>`.
    static func datasets(_ counts: [Int], context: Int = 8) throws -> [DatasetExamples] {
        try counts.enumerated().map { d, count in
            try DatasetExamples(name: "d\(d)", examples: (0..<count).map { k in Self.counting("d\(d)-\(k)", first: Int32(d * 100 + k), count: 3 + k % 3) },
                                context: context, padToken: 999)
        }
    }

    @Test("a mixture gives each dataset its weight's share, within one example after every example",
          arguments: [[0.8, 0.2], [0.5, 0.3, 0.2], [3, 1, 1, 0.25, 7]])
    func mixtureProportions(weights: [Double]) throws {
        var stream = try DataStream(datasets: try Self.datasets(weights.indices.map { 3 + 2 * $0 }), weights: weights, seed: 42)
        let shares = weights.map { $0 / weights.reduce(0, +) }
        var taken = Array(repeating: 0, count: weights.count)
        var seen = Array(repeating: [String](), count: weights.count)
        for n in 1...1000 {
            let (dataset, example) = stream.nextExample()
            taken[dataset] += 1
            seen[dataset].append(example.id)
            #expect(zip(taken, shares).allSatisfy { abs(Double($0) - Double(n) * $1) < 1 + 1e-9 }, "after \(n): \(taken)")
        }
        #expect(stream.cursor.datasets.map(\.consumed) == taken)
        // Each dataset goes through all of its examples once per epoch, in a new order each epoch.
        for (d, ids) in seen.enumerated() {
            let count = 3 + 2 * d
            for epoch in 0..<(ids.count / count) {
                #expect(Set(ids[(epoch * count)..<((epoch + 1) * count)]).count == count)
            }
        }
        #expect(DataStream.order(count: 50, seed: 42, dataset: 0, epoch: 0) != DataStream.order(count: 50, seed: 42, dataset: 0, epoch: 1))
        #expect(DataStream.order(count: 50, seed: 42, dataset: 0, epoch: 3) == DataStream.order(count: 50, seed: 42, dataset: 0, epoch: 3))
        #expect(DataStream.order(count: 50, seed: 42, dataset: 1, epoch: 3).sorted() == Array(0..<50))
    }

    @Test("a stream restored from a saved cursor gives exactly the batches that followed")
    func cursorResume() throws {
        let datasets = try Self.datasets([7, 3])
        var original = try DataStream(datasets: datasets, weights: [0.8, 0.2], seed: 9)
        for _ in 0..<3 { _ = try original.nextBatch(rows: 2) }
        let saved = try JSONEncoder().encode(original.cursor)
        let following = try (0..<8).map { _ in try original.nextBatch(rows: 2) }
        #expect(following.allSatisfy { $0.rows == 2 && $0.inputs.count == 16 })
        #expect(original.cursor.datasets.allSatisfy { $0.epoch >= 2 }) // the epochs wrapped inside the tested stretch

        var restored = try DataStream(datasets: datasets, weights: [0.8, 0.2], seed: 9)
        try restored.restore(try JSONDecoder().decode(DataCursor.self, from: saved))
        #expect(try (0..<8).map { _ in try restored.nextBatch(rows: 2) } == following)
        #expect(restored.cursor == original.cursor)

        // The same seed gives the same stream; another seed another order; a cursor from another seed is refused.
        var again = try DataStream(datasets: datasets, weights: [0.8, 0.2], seed: 9)
        var other = try DataStream(datasets: datasets, weights: [0.8, 0.2], seed: 10)
        let first = try (0..<3).map { _ in try again.nextBatch(rows: 2) }
        #expect(try (0..<3).map { _ in try other.nextBatch(rows: 2) } != first)
        #expect(throws: RefineryError.self) { try other.restore(try JSONDecoder().decode(DataCursor.self, from: saved)) }
    }

    @Test("a stream over dataset folders; the validation split packs once, in order, unshuffled")
    func foldersAndValidation() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let train = try (0..<6).map { try Self.chat("t\($0)", [("user", "q\($0)"), ("assistant", "answer \($0)")]) }
        let validation = try (0..<5).map { try Self.json(["id": "v\($0)", "text": String(repeating: "word ", count: 1 + $0)]) }
        let path = try Self.writeDataset(in: folder, "d", shards: [("train", train), ("validation", Array(validation.prefix(2))),
                                                                   ("validation", Array(validation.dropFirst(2)))])
        let template = try Self.template()
        var stream = try DataStream(datasets: [try DatasetExamples(directory: path, template: template, context: 16)], weights: [1], seed: 1)
        #expect(stream.reports.map(\.examples) == [6])
        let batch = try stream.nextBatch(rows: 2)
        #expect(batch.rows == 2 && batch.examples.allSatisfy { $0.id.hasPrefix("t") })

        let held = try DatasetExamples(directory: path, split: "validation", template: template, context: 16)
        #expect(held.report.splitExamples > 0) // the longest documents do not fit 16 tokens
        let batches = try held.batches(rows: 2)
        #expect(batches.flatMap { $0.examples.map(\.id) } == held.examples.map(\.id))
        let ids = held.examples.map(\.id).reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
        #expect(ids == ["v0", "v1", "v2", "v3", "v4"])
        #expect(batches.map(\.targetCount).reduce(0, +) == held.report.targets)
    }

    // MARK: Integrity

    @Test("shards read in pieces on several threads give every record once, in file order, at its shard and line; the first error in file order wins")
    func shardPieces() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let lines = try (0..<900).map { try Self.json(["id": "r\($0)", "text": String(repeating: "word ", count: $0 % 17 + 1)]) }
        let shards = [Array(lines[0..<400]), Array(lines[400..<420]), Array(lines[420...])]
        let expected = shards.enumerated().flatMap { shard, lines in
            lines.indices.map { "r\(shards[..<shard].map(\.count).reduce(0, +) + $0)@\(shard):\($0 + 1)" }
        }
        // Frames of whole lines are decompressed apart; frames that cut lines, or one without its size, make the
        // shard decompressed whole.
        for (number, frames) in [Frames.one, .lines(7), .lines(150), .bytes(700), .streamed(30)].enumerated() {
            let path = try Self.writeDataset(in: folder, "d\(number)", shards: shards.map { ("train", $0) }, frames: frames)
            let records = try DatasetRecords(directory: path)
            for threads in [1, 2, 3] {
                var pieces: [[String]] = []
                var batches = 0
                try records.readInPieces(records.manifest.shards, threads: threads, smallestPiece: 512,
                                         breaksBatch: { $1.records == 20 }, start: {
                    batches += 1
                    return { [String]() }
                }, add: { places, record in places.append("\(record.id)@\(record.shard):\(record.line)") }, combine: { pieces.append($0) })
                #expect(batches == 2, "a batch ends before the 20-line shard")
                #expect(pieces.count > threads * 4, "the large shards are cut into pieces (\(frames))")
                #expect(pieces.allSatisfy { !$0.isEmpty })
                #expect(pieces.flatMap { $0 } == expected, "\(threads) threads, \(frames)")
            }
        }

        // Shard 0 has a damaged line 300, shard 2 a damaged checksum: a single pass meets line 300 first.
        var damaged = shards
        damaged[0][299] = #"{"id": "r299", "text": "#
        let bad = try Self.writeDataset(in: folder, "bad", shards: damaged.map { ("train", $0) })
        let badRecords = try DatasetRecords(directory: bad)
        let third = bad + "/" + badRecords.manifest.shards[2].file
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: third)))
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: third))
        for threads in [1, 2] {
            #expect {
                try badRecords.readInPieces(badRecords.manifest.shards, threads: threads, smallestPiece: 512, start: { { 0 } },
                                            add: { count, _ in count += 1 }, combine: { _ in })
            } throws: { error in
                guard let error = error as? RefineryError else { return false }
                return error.code == .integrity && error.location?.line == 300 && error.message.contains("not a JSON record")
            }
        }
        damaged[0][299] = lines[299]
        let checksum = try Self.writeDataset(in: folder, "checksum", shards: damaged.map { ("train", $0) })
        let checksumRecords = try DatasetRecords(directory: checksum)
        try Data(bytes).write(to: URL(fileURLWithPath: checksum + "/" + checksumRecords.manifest.shards[2].file))
        // In one batch, or in a batch of its own that is prepared while the batch before it is read: the same.
        for ownBatch in [false, true] {
            var read = 0
            #expect {
                try checksumRecords.readInPieces(checksumRecords.manifest.shards, threads: 2, smallestPiece: 512,
                                                 breaksBatch: { _, next in ownBatch && next.file == checksumRecords.manifest.shards[2].file },
                                                 start: { { 0 } }, add: { count, _ in count += 1 }, combine: { read += $0 })
            } throws: { error in
                (error as? RefineryError)?.message.contains("checksum") == true
            }
            #expect(read == 420, "the shards before the damaged one are read, nothing of it")
        }
    }

    @Test("a shard whose bytes differ from the manifest is refused with an integrity error naming it")
    func checksumMismatch() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let lines = try (0..<20).map { try Self.json(["id": "r\($0)", "text": "record number \($0)"]) }
        let path = try Self.writeDataset(in: folder, "d", shards: [("train", lines)])
        let manifest = try Manifest.read(directory: path)
        let shard = path + "/" + manifest.shards[0].file
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: shard)))
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: shard))

        var read = 0
        #expect {
            try DatasetRecords(directory: path).forEach { _ in read += 1 }
        } throws: { error in
            guard let error = error as? RefineryError else { return false }
            return error.code == .integrity && error.location?.file == shard && error.message.contains("checksum")
                && error.message.contains(manifest.shards[0].file)
        }
        #expect(read == 0) // nothing from a damaged shard is given out
        #expect(throws: RefineryError.self) { try DatasetExamples(directory: path, template: try Self.template(), context: 8) }

        try Data(bytes.dropLast()).write(to: URL(fileURLWithPath: shard))
        #expect {
            try DatasetRecords(directory: path).forEach { _ in }
        } throws: { error in
            (error as? RefineryError)?.code == .integrity && "\(error)".contains("bytes, the manifest says")
        }
    }
}
