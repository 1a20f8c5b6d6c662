import Foundation
import Testing
@testable import RefineryPipeline
import RefineryRecords
@testable import RefineryReport
import RefineryShards
@testable import RefineryStages

@Suite struct ReportTests {
    /// Runs the demo pipeline into a fresh folder and returns the dataset folder.
    private func demoDataset(_ folder: TemporaryFolder) throws -> String {
        let result = try run(try demoSpec(output: folder.path + "/demo"))
        return result.directory
    }

    @Test("the report's funnel and drops are the manifest's, with examples for every reason and none beyond N")
    func funnelMatchesManifest() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let directory = try demoDataset(folder)
        let manifest = try Manifest.read(directory: directory)
        let report = try DatasetReport.build(directory: directory, examplesPerReason: 2)
        let numbers = report.numbers

        #expect(numbers.funnel.map(\.stage) == manifest.stages.map(\.name))
        for (row, stage) in zip(numbers.funnel, manifest.stages) {
            #expect(row.recordsIn == stage.recordsIn && row.recordsOut == stage.recordsOut && row.dropped == stage.droppedTotal)
            #expect(row.bytesIn == stage.bytesIn && row.bytesOut == stage.bytesOut)
        }
        #expect(numbers.totals.read == manifest.totals.read && numbers.totals.written == manifest.totals.written)
        #expect(numbers.totals.quarantined == manifest.totals.quarantined)
        var byReason: [String: Int] = [:]
        for drop in numbers.drops { byReason[drop.key] = drop.records }
        #expect(byReason == manifest.totals.quarantinedByReason.filter { $0.value > 0 })
        #expect(numbers.drops.reduce(0) { $0 + $1.records } == manifest.totals.quarantined)

        for drop in numbers.drops {
            let examples = report.examples.filter { $0.stage == drop.stage && $0.reason == drop.reason }
            #expect(examples.count == min(2, drop.records), "\(drop.key)")
            #expect(drop.examples == examples.count)
            #expect(drop.chars >= 0)
        }
        #expect(report.examples.allSatisfy { $0.text.unicodeScalars.count <= 301 })
    }

    @Test("the report is the same read whole on one thread or in pieces on several: counts add up, examples, samples and pair texts keep file order")
    func threadsGiveTheSameReport() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let directory = try demoDataset(folder)
        let manifest = try Manifest.read(directory: directory)
        #expect(manifest.shards.count >= 3 && manifest.rejects.count >= 3)
        let one = try DatasetReport.build(directory: directory, examplesPerReason: 2, threads: 1)
        #expect(!one.samples.isEmpty && !one.pairs.isEmpty)
        #expect(one.pairs.contains { $0.keptText != nil }, "a pair's kept text comes from the data shards")
        #expect(one.examples.count > manifest.rejects.count, "several reasons' examples in some reject shards")
        for threads in [1, 2, 3, 8] {
            // Pieces of at least 256 bytes: most of the demo's shards (16 KiB at most) are read in several pieces.
            #expect(try DatasetReport.build(directory: directory, examplesPerReason: 2, threads: threads, smallestPiece: 256) == one,
                    "\(threads) threads")
        }
    }

    @Test("an up-sampled copy is an id ending in #r and a number of at least 2, nothing else")
    func upSampledCopies() {
        for id in ["s/a.jsonl:41#r2", "x#r3", "x#r02", "#r10", "a#r1#r12", "é#r7", "x#r9223372036854775807", "x#r0000000000000000000002"] {
            #expect(RecordMeasures.isUpSampledCopy(id), "\(id)")
        }
        for id in ["s/a.jsonl:41", "x#r1", "x#r0", "x#r", "x#r2a", "xr2", "x#R2", "x#r-2", "x#r٣", "#r", "r2", "2", "", "x#r9223372036854775808"] {
            #expect(!RecordMeasures.isUpSampledCopy(id), "\(id)")
        }
    }

    @Test("histograms cover every written record, and the mix after balancing is the manifest's")
    func histogramsAndMixes() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let directory = try demoDataset(folder)
        let manifest = try Manifest.read(directory: directory)
        let numbers = try DatasetReport.build(directory: directory).numbers

        #expect(numbers.histograms.map(\.name) == ["quality", "toxicity", "lang_confidence", "length_chars", "length_words", "turns", "reward"])
        for histogram in numbers.histograms {
            #expect(histogram.bins.reduce(0) { $0 + $1.count } == histogram.records, "\(histogram.name)")
            #expect(histogram.records + histogram.missing == manifest.totals.written, "\(histogram.name)")
        }
        let lengths = try #require(numbers.histograms.first { $0.name == "length_chars" })
        #expect(lengths.records > 0)

        let category = try #require(numbers.mixes.first { $0.field == "category" })
        let expected = try #require(manifest.categoryMix)
        for row in category.rows {
            let mix = try #require(expected[row.name])
            #expect(row.recordsAfter == mix.recordsAfter && row.charsAfter == mix.charsAfter, "\(row.name)")
        }
        // Before balancing: kept records (copies not counted) and what balancing dropped.
        let balanceDrops = manifest.stages.first { $0.name == "balance" }?.droppedTotal ?? 0
        #expect(balanceDrops > 0)
        #expect(category.rows.reduce(0) { $0 + $1.recordsBefore } == manifest.totals.written - manifest.totals.repeats + balanceDrops)
        for mix in numbers.mixes {
            #expect(mix.rows.reduce(0) { $0 + $1.recordsAfter } == manifest.totals.written, "\(mix.field)")
        }
        #expect(numbers.duplicates.exactDuplicates + numbers.duplicates.nearDuplicates
                == (manifest.stages.first { $0.name == "dedup" }?.droppedTotal ?? -1))
        #expect(numbers.duplicates.sizes.records == numbers.duplicates.clusters)
        // What balancing dropped, in characters, is what the mix lost: both count message contents alone.
        let balanced = try #require(numbers.drops.first { $0.stage == "balance" })
        #expect(balanced.chars == category.rows.reduce(0) { $0 + $1.charsBefore - $1.charsAfter })
    }

    @Test("a run writes report.html and the report's numbers itself, as refinery report would")
    func writtenByTheRun() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let result = try run(try demoSpec(output: folder.path + "/demo"), report: true)
        let directory = result.directory
        let page = try String(contentsOfFile: directory + "/" + DatasetReport.fileName, encoding: .utf8)
        let read = try DatasetReport.build(directory: directory)
        #expect(page == DatasetReport.html(read))
        let stats = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/stats.json"))) as? [String: Any]
        #expect(stats?["report"] != nil && stats?["worker_seconds"] != nil)
        // The run tallied its data shards as it wrote them (dedup and balance ran): samples, copies, pairs' kept texts.
        let tallies = try #require(result.reportTallies)
        #expect(!read.samples.isEmpty && read.pairs.contains { $0.keptText != nil })
        #expect(read.pairs.allSatisfy { $0.keptText == nil || tallies.keptLines[$0.keptID] != nil }, "every kept text from the run's lines")
        // With the tallies, no data shard is read, nor dedup's and balance's reject shards: emptied, they leave the
        // report as it was.
        #expect(Set(tallies.rejects.keys) == ["dedup", "balance"])
        let tallied = result.manifest.shards + result.manifest.rejects.filter { tallies.rejects[$0.split] != nil }
        #expect(tallied.count > result.manifest.shards.count && tallied.count < result.manifest.shards.count + result.manifest.rejects.count)
        for shard in tallied { try Data().write(to: URL(fileURLWithPath: directory + "/" + shard.file)) }
        #expect(try DatasetReport.build(directory: directory, examplesPerReason: KeptTally.defaultLimit, threads: 2,
                                        smallestPiece: DatasetRecords.smallestPiece, tallies: tallies) == read)
        #expect(throws: RefineryError.self) { try DatasetReport.build(directory: directory) }
    }

    @Test("a run's report over up-sampled copies, both splits, chats and duplicates is the one reading its shards gives")
    func tallyWithCopiesAndSplits() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var lines: [String] = []
        for i in 0..<30 { lines.append(#"{"text":"Big record \#(i): its own words, naïve café — \#(i * 7).","category":"big","scores":{"quality":0.\#(i)}}"#) }
        for i in 0..<4 { lines.append(#"{"text":"Small record \#(i) with\ttabs and 日本語 words.","category":"small","reward":\#(i)}"#) }
        for i in 0..<8 {
            lines.append(#"{"messages":[{"role":"user","content":"Question \#(i) about the plan?"},{"role":"assistant","content":"Answer \#(i)."}],"category":"chat"}"#)
        }
        lines += lines.prefix(3)   // exact duplicates: the pairs show the kept texts
        try folder.write("in/a.jsonl", lines.joined(separator: "\n") + "\n")
        let spec = try tinySpec(folder, stages: "- dedup: {}\n  - balance: {weights: {big: 1, small: 1, chat: 1}, max_repeat: 3}")
        let result = try run(spec, report: true)
        #expect(result.reportTallies != nil && result.manifest.totals.repeats > 0)
        #expect((result.manifest.splits["validation"]?.records ?? 0) > 0 && (result.manifest.splits["train"]?.records ?? 0) > 0)
        let read = try DatasetReport.build(directory: result.directory)
        #expect(Set(read.samples.map(\.category)) == ["big", "small", "chat"] && !read.pairs.isEmpty)
        let page = try String(contentsOfFile: result.directory + "/" + DatasetReport.fileName, encoding: .utf8)
        #expect(page == DatasetReport.html(read))
    }

    @Test("what a run knows of a record is what the report skims of its written line: keys, characters, words, turns, numbers")
    func factsMatchTheWrittenLine() throws {
        let at = SourceLocation(file: "s/a.jsonl", line: 1)
        let records = [
            Record(id: "a", source: "s", category: "news", lang: "fr", text: "Une phrase.\nEt \"une\" autre\tici\\ / \u{08}\u{0C}\r!",
                   reward: 0.75, scores: [("lang", 0.93), ("quality", 1), ("toxicity", 0.0125)], location: at),
            Record(id: "b#r3", source: "s", category: "chat",
                   messages: [Message(role: "user", content: "hi  there"), Message(role: "assistant", content: "naïve café\n— ok \u{01}")],
                   reward: -0.0, scores: [("quality", -0.5), ("quality", 2)], location: at),
            Record(id: "c", source: "t", text: "", messages: [Message(role: "user", content: "ignored, text wins")],
                   scores: [("quality", .nan), ("toxicity", .infinity), ("lang", 1e15)], location: at),
            Record(id: "d", source: "u", lang: "日本語", reward: 3, interactions: Interactions(items: ["x"], rewards: [1], timestamps: [2]),
                   location: at),
            Record(id: "e", source: "s", category: "(none)", text: "   ", scores: [("toxicity", 123456.789e-300)], location: at),
        ]
        for record in records {
            var writer = JSONWriter()
            record.writeJSON(to: &writer)
            let line = String(decoding: writer.bytes, as: UTF8.self)
            let value = try JSONParser.parse(writer.bytes.withUnsafeBufferPointer { $0 }).value
            let parsed = RecordMeasures(value)
            let facts = RecordFacts(record)
            let measures = facts.measures(copy: RecordMeasures.isUpSampledCopy(record.id))
            #expect(measures.chars == parsed.chars && measures.words == parsed.words && measures.turns == parsed.turns, "\(line)")
            #expect(measures.hasContent == parsed.hasContent && measures.isCopy == parsed.isCopy, "\(line)")
            for field in MixTally.fields { #expect(measures.key(field) == parsed.key(field), "\(field) of \(line)") }
            #expect(facts.quality == value["scores"]?["quality"]?.doubleValue && facts.toxicity == value["scores"]?["toxicity"]?.doubleValue, "\(line)")
            #expect(facts.langScore == value["scores"]?["lang"]?.doubleValue && facts.reward == value["reward"]?.doubleValue, "\(line)")
            #expect(facts.reward.map { $0.sign == .plus } ?? true, "-0.0 is written 0")
        }
    }

    @Test("report.html is byte-identical across builds and folders; stats.json keeps its keys and gains report")
    func deterministicAndMerged() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let directory = try demoDataset(folder)
        let statsPath = directory + "/stats.json"
        let before = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statsPath))) as? [String: Any])
        #expect(before["report"] == nil)

        let first = try DatasetReport.write(directory: directory)
        let html = try Data(contentsOf: URL(fileURLWithPath: first.htmlPath))
        let stats = try Data(contentsOf: URL(fileURLWithPath: statsPath))
        try DatasetReport.write(directory: directory)
        #expect(try Data(contentsOf: URL(fileURLWithPath: first.htmlPath)) == html)
        #expect(try Data(contentsOf: URL(fileURLWithPath: statsPath)) == stats)

        let after = try #require(try JSONSerialization.jsonObject(with: stats) as? [String: Any])
        #expect(Set(after.keys) == Set(before.keys).union(["report"]))
        for (key, value) in before {
            #expect((after[key] as? NSObject) == (value as? NSObject), "\(key)")
        }
        let merged = try JSONSerialization.data(withJSONObject: try #require(after["report"]))
        #expect(try DatasetReport.numbers(from: merged) == first.report.numbers)

        // Another run of the same spec and inputs, in another folder, reports the same bytes.
        let other = try TemporaryFolder()
        defer { other.cleanup() }
        let otherHTML = DatasetReport.html(try DatasetReport.build(directory: try demoDataset(other)))
        #expect(Data(otherHTML.utf8) == html)
    }

    @Test("the page is self-contained: one inline script, no network URL, charts and sortable tables as the contract says")
    func selfContained() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let html = DatasetReport.html(try DatasetReport.build(directory: try demoDataset(folder)))
        #expect(html.components(separatedBy: "<script").count == 2)
        #expect(html.contains("<script>"))
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(!html.contains("<link") && !html.contains("@font-face") && !html.contains("url("))
        #expect(html.contains("@media print"))
        #expect(html.contains("<table class=\"sortable\">"))
        for name in ["funnel", "drops", "category_records", "category_chars", "source_records", "lang_chars", "quality", "toxicity",
                     "lang_confidence", "length_chars", "length_words", "turns", "reward", "cluster_sizes"] {
            #expect(html.contains("<svg class=\"chart\" data-chart=\"\(name)\""), "\(name)")
        }
    }

    @Test("hostile texts, categories and file names are escaped, kept or rejected, and rejects are redacted")
    func hostileInput() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let script = "<script>alert(1)</script>"
        let image = "\"><img src=x onerror=alert(1)>"
        func line(_ text: String, category: String) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: ["text": text, "category": category]), as: UTF8.self)
        }
        let lines = [
            try line("\(script) this one is long enough to be kept by validate", category: script),
            try line("\(image) this one is long enough to be kept by validate too", category: image),
            try line(script, category: image),
            try line(image, category: script),
            try line("jane.doe@example.com hi", category: "mail"),
            // An exact duplicate of the first: the pair shows both texts.
            try line("\(script) this one is long enough to be kept by validate", category: script),
        ]
        try folder.write("in/x\"><img src=y onerror=alert(2)>.jsonl", lines.joined(separator: "\n") + "\n")
        let spec = try tinySpec(folder, stages: "- validate: {min_chars: 40}\n  - dedup: {}")
        let result = try run(spec)
        #expect(result.manifest.totals.written == 2)
        let summary = try DatasetReport.write(directory: result.directory)
        let html = try String(contentsOfFile: summary.htmlPath, encoding: .utf8)

        #expect(html.components(separatedBy: "<script").count == 2)
        #expect(!html.contains("<img"))
        #expect(!html.contains("onerror=alert(1)>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
        #expect(html.contains("x&quot;&gt;&lt;img src=y onerror=alert(2)&gt;.jsonl"))
        // The kept records' categories, in the mix tables.
        #expect(html.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"))
        #expect(html.contains("<td>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</td>"))
        #expect(!html.contains("jane.doe@example.com"))
        #expect(html.contains("&lt;EMAIL&gt; hi"))
        #expect(!html.contains("http://") && !html.contains("https://"))
        // Every attribute value is quoted and holds no raw quote from data: attributes end where they should.
        #expect(!html.contains("=\"\"&gt;") && !html.contains("\"\">"))
        #expect(summary.report.pairs.count == 1 && summary.report.pairs.first?.keptText != nil)
    }

    @Test("a shard that does not match its manifest fails the report with an integrity error")
    func damagedShard() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let directory = try demoDataset(folder)
        let manifest = try Manifest.read(directory: directory)
        let reject = try #require(manifest.rejects.first)
        let path = directory + "/" + reject.file
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect { try DatasetReport.write(directory: directory) } throws: { ($0 as? RefineryError)?.code == .integrity }
        #expect(!FileManager.default.fileExists(atPath: directory + "/" + DatasetReport.fileName))
    }

    @Test("a mix of hundreds of values charts the largest and one 'other' row that sums the rest")
    func manyValues() {
        let rows = (0..<250).map { MixRow(name: "c\($0)", recordsBefore: 300 - $0, charsBefore: 10, recordsAfter: 250 - $0, charsAfter: 5) }
        let charted = ReportPage.chartRows(rows)
        #expect(charted.count == ReportPage.chartedValues)
        #expect(charted.last?.name == "other (\(250 - ReportPage.chartedValues + 1) values)")
        #expect(charted.reduce(0) { $0 + $1.recordsAfter } == rows.reduce(0) { $0 + $1.recordsAfter })
        #expect(ReportPage.chartRows(Array(rows.prefix(40))) == Array(rows.prefix(40)))
    }

    @Test("bar charts of 40 rows and of 1 row draw every mark and label; a histogram without data says so")
    func chartShapes() throws {
        let many = (1...40).map { SVGChart.Row(label: "category \($0) <x>", values: [$0 * 3, $0]) }
        let chart = SVGChart.horizontalBars(name: "many", title: "Forty", unit: "records", series: ["before", "after"], rows: many)
        #expect(chart.hasPrefix("<svg class=\"chart\" data-chart=\"many\" role=\"img\" aria-label=\""))
        #expect(chart.components(separatedBy: "class=\"mark\"").count - 1 == 80)
        for index in 1...40 { #expect(chart.contains(">category \(index) &lt;x&gt;</text>"), "\(index)") }
        #expect(!chart.contains("<x>"))

        let one = SVGChart.horizontalBars(name: "one", title: "One", unit: "records", series: ["records"], rows: [SVGChart.Row(label: "only", values: [7])])
        #expect(one.components(separatedBy: "class=\"mark\"").count - 1 == 1)
        #expect(one.contains(">only</text>") && !one.contains("data-empty"))

        var empty = Histogram.unitScore("quality", axis: "quality score (0–1)")
        empty.add(nil as Double?)
        let drawn = SVGChart.histogram(empty, name: "quality", title: "Quality")
        #expect(drawn.contains("data-empty=\"true\"") && drawn.contains(">no data</text>"))
        #expect(!drawn.contains("class=\"mark\""))

        var scores = Histogram.unitScore("quality", axis: "quality score (0–1)")
        for value in [0.0, 0.05, 0.5, 0.999, 1.0, 1.0] { scores.add(value) }
        #expect(scores.bins.map(\.count) == [1, 1] + Array(repeating: 0, count: 8) + [1] + Array(repeating: 0, count: 8) + [3])
        let bars = SVGChart.histogram(scores, name: "quality", title: "Quality")
        #expect(bars.components(separatedBy: "class=\"mark\"").count - 1 == 20)
        #expect(SVGChart.horizontalBars(name: "none", title: "None", unit: "records", series: ["x"], rows: []).contains("data-empty=\"true\""))
    }

    @Test("words are runs of anything but ASCII whitespace (space, tab, LF, VT, FF, CR), in text and in every message")
    func wordCounts() {
        let texts: [(String, Int)] = [("", 0), ("one", 1), ("  two  words ", 2), ("a\tb\nc\u{0B}d\u{0C}e\rf", 6),
                                      ("\u{1F}x\u{0E}", 1), ("naïve café — ok", 4), ("\u{00A0}nbsp\u{00A0}", 1), ("   ", 0)]
        for (text, words) in texts {
            #expect(RecordMeasures(.object([("text", .string(text))])).words == words, "\(text.debugDescription)")
        }
        let chat = JSONValue.object([("messages", .array([.object([("content", .string(" hi there"))]),
                                                          .object([("content", .string("ok\n"))])]))])
        #expect(RecordMeasures(chat).words == 3 && RecordMeasures(chat).turns == 2)
        // Eight bytes a step: random texts of every length up to 70 over whitespace of every kind, ASCII and UTF-8,
        // against a byte-at-a-time count.
        let alphabet: [UInt8] = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x08, 0x0E, 0x1F, 0x61, 0x7A, 0xC3, 0xA9, 0xE2, 0x80, 0x94, 0x21]
        var state: UInt64 = 42
        for length in 0...70 {
            for _ in 0..<40 {
                let bytes: [UInt8] = (0..<length).map { _ in
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    return alphabet[Int(state >> 59) % alphabet.count]
                }
                var expected = 0, previousSpace = true
                for byte in bytes {
                    let space = byte == 0x20 || (0x09...0x0D).contains(byte)
                    if previousSpace && !space { expected += 1 }
                    previousSpace = space
                }
                #expect(bytes.withUnsafeBufferPointer { ByteLanes.wordCount($0) } == expected, "\(bytes)")
                // The one-pass measure, also split in two anywhere, the second part carrying on from the first.
                let cut = bytes.isEmpty ? 0 : Int(state >> 40) % (bytes.count + 1)
                var afterSpace = true
                let (first, second) = bytes.withUnsafeBufferPointer { buffer in
                    (ByteLanes.measure(UnsafeBufferPointer(rebasing: buffer[..<cut]), afterSpace: &afterSpace),
                     ByteLanes.measure(UnsafeBufferPointer(rebasing: buffer[cut...]), afterSpace: &afterSpace))
                }
                let scalars = bytes.withUnsafeBufferPointer { ByteLanes.scalarCount($0, 0..<$0.count) }
                #expect(first.words + second.words == expected && first.scalars + second.scalars == scalars, "\(bytes) cut at \(cut)")
                #expect((first.ascii && second.ascii) == bytes.allSatisfy { $0 < 0x80 })
                #expect(scalars == bytes.filter { $0 & 0xC0 != 0x80 }.count, "\(bytes)")
            }
        }
        // The lane count behind them, for every set of lanes.
        for set in 0..<256 {
            var lanes: UInt64 = 0
            for lane in 0..<8 where set >> lane & 1 == 1 { lanes |= 0x80 << UInt64(8 * lane) }
            #expect(ByteLanes.count(lanes) == set.nonzeroBitCount)
        }
    }

    /// The skim of `line` next to what parsing it gives, or nil when the skim gives up.
    static func skimAndParse(_ line: String) -> (skim: RecordSkim, measures: RecordMeasures, value: JSONValue)? {
        let bytes = Array(line.utf8)
        let value = try! JSONParser.parse(bytes.withUnsafeBufferPointer { $0 }).value
        guard let skim = bytes.withUnsafeBufferPointer({ RecordSkim($0) }) else { return nil }
        return (skim, RecordMeasures(value), value)
    }

    @Test("the report's skim of a line reads what parsing it would: mix keys, characters, words, turns, scores, reward, copies")
    func skimMatchesParse() throws {
        let lines = [
            #"{"id":"s/a.jsonl:1","source":"s","category":"news","lang":"fr","text":"Une phrase.\nEt \"une\" autre\tici\\ \/ \b\f\r!","scores":{"lang":0.93,"quality":1,"toxicity":0.0125},"reward":null,"meta":{"a":[1,2.5e-3,{"b":null}],"c":true}}"#,
            #"{"id":"s/a.jsonl:2#r3","category":"chat","messages":[{"role":"user","content":"hi  there"},{"role":"assistant","content":"naïve café\n— ok"},"odd",{"role":"x"}],"scores":{"quality":-0.5},"reward":0.75}"#,
            #"{"id":7,"text":null,"messages":[]}"#,
            #"{"text":"   ","scores":{"quality":"high","toxicity":null},"reward":"x","category":null,"source":12}"#,
            #"{"id":"x#r1","text":"","lang":"日本語","messages":[{"content":"ignored, text wins"}]}"#,
            #"{ "id" : "spaced" , "text" : "a b" , "scores" : { } }"#,
            #"{}"#,
        ]
        for line in lines {
            let (skim, measures, value) = try #require(Self.skimAndParse(line), "skim gave up on \(line)")
            #expect(skim.measures.chars == measures.chars && skim.measures.words == measures.words, "\(line)")
            #expect(skim.measures.turns == measures.turns && skim.measures.hasContent == measures.hasContent, "\(line)")
            #expect(skim.measures.isCopy == measures.isCopy, "\(line)")
            for field in MixTally.fields { #expect(skim.measures.key(field) == measures.key(field), "\(field) of \(line)") }
            #expect(skim.quality == value["scores"]?["quality"]?.doubleValue && skim.toxicity == value["scores"]?["toxicity"]?.doubleValue)
            #expect(skim.lang == value["scores"]?["lang"]?.doubleValue && skim.reward == value["reward"]?.doubleValue)
            let bytes = Array(line.utf8)
            #expect(bytes.withUnsafeBufferPointer { skim.id(in: $0) } == value["id"]?.stringValue)
        }
        // What it does not follow exactly, it leaves to the parser: \u escapes, a member read twice, an escape in a
        // mix value, invalid UTF-8 in a text, trailing bytes, malformed JSON, deep nesting.
        let parsedInstead = [
            #"{"text":"caf\u00e9"}"#, #"{"meta":"\ud83d\ude00"}"#, #"{"text":"a","text":"b"}"#, #"{"scores":{"quality":1,"quality":2}}"#,
            #"{"category":"a\"b"}"#, #"{"id":"a\/b"}"#, #"{"text":"a"} x"#, #"{"text":"a",}"#, #"{"text":01}"#, #"["text"]"#,
            #"{"messages":[{"content":"a","content":"b"}]}"#, "{\"meta\":" + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}",
        ]
        for line in parsedInstead {
            #expect(Array(line.utf8).withUnsafeBufferPointer { RecordSkim($0) } == nil, "\(line)")
        }
        let invalid: [UInt8] = Array(#"{"text":"a"#.utf8) + [0xFF, 0xFE] + Array(#"b"}"#.utf8)
        #expect(invalid.withUnsafeBufferPointer { RecordSkim($0) } == nil)
        // Random texts over escapes, whitespace and UTF-8, written by JSONWriter: skim and parse agree on every one.
        let pieces = ["a", "é", "—", " ", "\t", "\n", "\"", "\\", "/", "\u{08}", "\u{0C}", "\r", "日本", "\u{0B}", "xyz"]
        var state: UInt64 = 7
        var skimmed = 0
        for _ in 0..<400 {
            var text = ""
            for _ in 0..<Int(state >> 60) * 3 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                text += pieces[Int(state >> 59) % pieces.count]
            }
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var writer = JSONWriter()
            writer.raw("{\"text\":")
            writer.string(text)
            writer.raw("}")
            let line = String(decoding: writer.bytes, as: UTF8.self)
            guard let (skim, measures, _) = Self.skimAndParse(line) else { continue }   // a \u escape: parsed instead
            #expect(skim.measures.chars == measures.chars && skim.measures.words == measures.words, "\(line)")
            skimmed += 1
        }
        #expect(skimmed > 100)
    }

    @Test("the report's skim of a reject line reads what parsing it would: stage, reason, kept id, characters, mix keys")
    func rejectSkimMatchesParse() throws {
        let lines = [
            #"{"id":"s/a.jsonl:9","stage":"dedup","reason":"near_duplicate","detail":"near-duplicate of s/a.jsonl:2, Jaccard 0.91","file":"in/a.jsonl","line":9,"kept_id":"s/a.jsonl:2","record":{"id":"s/a.jsonl:9","category":"news","lang":"en","text":"Two\nlines here"}}"#,
            #"{"id":"s/b.jsonl:1","stage":"balance","reason":"over_target","detail":"category chat: 10 records in, 4 wanted","file":"in/b.jsonl","record":{"id":"s/b.jsonl:1","category":"chat","source":"s","messages":[{"role":"user","content":"héllo  there"}]}}"#,
            #"{"id":"s/c.jsonl:3","stage":"read","reason":"invalid_json","detail":"expected a value","file":"in/c.jsonl","line":3,"raw":"{\"broken\": tru\te"}"#,
            #"{"id":"x","reason":7,"stage":null,"raw":12}"#,
        ]
        for line in lines {
            let bytes = Array(line.utf8)
            let value = try JSONParser.parse(bytes.withUnsafeBufferPointer { $0 }).value
            let skim = try #require(bytes.withUnsafeBufferPointer { RejectSkim($0) }, "skim gave up on \(line)")
            #expect(skim.stage == value["stage"]?.stringValue && skim.reason == value["reason"]?.stringValue, "\(line)")
            #expect(skim.keptID == value["kept_id"]?.stringValue, "\(line)")
            if let record = value["record"] {
                let measures = RecordMeasures(record)
                let skimmed = try #require(skim.record)
                #expect(skimmed.measures.chars == measures.chars && skimmed.measures.words == measures.words, "\(line)")
                for field in MixTally.fields { #expect(skimmed.measures.key(field) == measures.key(field)) }
                #expect(bytes.withUnsafeBufferPointer { skimmed.id(in: $0) } == record["id"]?.stringValue)
            } else {
                #expect(skim.record == nil)
                #expect(skim.rawChars == value["raw"]?.stringValue.map(ByteLanes.scalarCount), "\(line)")
            }
        }
        for line in [#"{"stage":"a","stage":"b"}"#, #"{"reason":"a\"b"}"#, #"{"record":"not an object"}"#, #"{"raw":"\u0041"}"#,
                     #"{"record":{"text":"a","text":"b"}}"#, #"{"stage":"a"}}"#] {
            #expect(Array(line.utf8).withUnsafeBufferPointer { RejectSkim($0) } == nil, "\(line)")
        }
        // Counting a line without its example or pair does what adding it does, when the tally takes no more of them.
        let value = try JSONParser.parse(Array(lines[0].utf8).withUnsafeBufferPointer { $0 }).value
        var added = RejectTally(limit: 0), counted = RejectTally(limit: 0)
        #expect(!counted.needsLine(key: "dedup.near_duplicate", reason: "near_duplicate", hasKeptID: true))
        #expect(RejectTally(limit: 1).needsLine(key: "dedup.near_duplicate", reason: "near_duplicate", hasKeptID: false))
        for _ in 0..<3 {
            added.add(value, stage: "dedup", content: "Two\nlines here", chars: 14, exampleText: ExampleText())
            counted.count(key: "dedup.near_duplicate", reason: "near_duplicate", chars: 14, keptID: "s/a.jsonl:2")
        }
        #expect(added.chars == counted.chars)
        let (a, c) = (added.duplicateSummary(), counted.duplicateSummary())
        #expect(a.nearDuplicates == c.nearDuplicates && a.exactDuplicates == c.exactDuplicates && a.clusters == c.clusters
                && a.largestCluster == c.largestCluster)
    }
}
