import Foundation
import Logging
@testable import RefineryPipeline
import RefineryShards
import Testing

/// Lines a log handler or a monitor wrote, collected across threads.
final class LineSink: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [String] = []

    func append(_ line: String) { lock.withLock { collected.append(line) } }

    var lines: [String] { lock.withLock { collected } }

    /// The lines parsed as JSON objects.
    func objects() throws -> [[String: Any]] {
        try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\($0)") }
    }
}

/// A logger whose every event goes to `sink` as a JSON line.
func capturingLogger(_ sink: LineSink, level: Logger.Level = .info) -> Logger {
    var logger = Logger(label: "refinery.test") { JSONLogHandler(label: $0, metadataProvider: nil) { sink.append($0) } }
    logger.logLevel = level
    return logger
}

/// A Prometheus text file: samples by series, written as `name{labels}`, and HELP and TYPE by family.
struct PrometheusText {
    var samples: [String: Double] = [:]
    var help: [String: String] = [:]
    var type: [String: String] = [:]

    init(path: String) throws {
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            for (prefix, key) in [("# HELP ", \PrometheusText.help), ("# TYPE ", \PrometheusText.type)] where line.hasPrefix(prefix) {
                let rest = line.dropFirst(prefix.count)
                let name = String(rest.prefix { $0 != " " })
                #expect(self[keyPath: key][name] == nil, "two \(prefix)lines for \(name)")
                self[keyPath: key][name] = String(rest.dropFirst(name.count + 1))
            }
            if line.hasPrefix("#") { continue }
            let space = try #require(line.lastIndex(of: " "))
            let value = try #require(Double(line[line.index(after: space)...]), "\(line)")
            samples[String(line[..<space])] = value
            let family = String(line.prefix { $0 != "{" && $0 != " " })
            #expect(help[family] != nil && type[family] != nil, "\(line) comes before its HELP and TYPE lines")
        }
    }

    /// Each sample's family: the name before its labels.
    var families: Set<String> { Set(samples.keys.map { String($0.prefix { $0 != "{" }) }) }
}

/// Stage counters as the engine reports them.
func stageCounters(_ rows: [(name: String, recordsIn: Int, dropped: [String: Int])]) -> [StageCounters] {
    rows.map { row in
        var stage = StageCounters(name: row.name)
        stage.recordsIn = row.recordsIn
        stage.dropped = row.dropped
        stage.recordsOut = row.recordsIn - stage.droppedTotal
        return stage
    }
}

@Suite struct ObservabilityTests {
    @Test("the metrics file holds the run's exact numbers, HELP and TYPE for every family, and no .tmp is left")
    func metricsFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/refinery.prom"
        let before = Date().timeIntervalSince1970
        let monitor = RunMonitor(
            logger: capturingLogger(LineSink()), options: MonitorOptions(interval: 3600, metricsPath: path, isTerminal: false),
            dataset: "demo", version: "v-abc", totalBytes: 1000, totalUnits: 3) { _ in }
        let after = Date().timeIntervalSince1970
        // Written at once, so node_exporter sees a running run before the first interval.
        let first = try PrometheusText(path: path)
        #expect(first.samples[#"refinery_run_status{dataset="demo",status="running"}"#] == 1)
        #expect(first.samples[#"refinery_last_success_timestamp_seconds{dataset="demo"}"#] == nil)

        monitor.phase("map")
        monitor.unitStarted("a.jsonl")
        monitor.add(bytes: 400, records: 10)
        monitor.unitFinished(reused: false)
        monitor.unitStarted("b.jsonl")
        monitor.add(bytes: 350, records: 10)
        monitor.unitFinished(reused: true)
        monitor.update(stages: stageCounters([("read", 10, ["invalid_json": 1])]))
        monitor.phase("dedup")
        let final = stageCounters([
            ("read", 20, ["invalid_json": 2, "wrong_shape": 1]),
            ("validate", 17, ["too_short": 4, "empty": 1]),
        ])
        monitor.finish(status: "succeeded", seconds: 12.5, stages: final, written: 12, quarantined: 8, lastSuccess: 1_763_683_800.5)

        let metrics = try PrometheusText(path: path)
        let expected: [String: Double] = [
            #"refinery_stage_records_total{dataset="demo",stage="read",outcome="in"}"#: 20,
            #"refinery_stage_records_total{dataset="demo",stage="read",outcome="out"}"#: 17,
            #"refinery_stage_records_total{dataset="demo",stage="read",outcome="dropped"}"#: 3,
            #"refinery_stage_records_total{dataset="demo",stage="validate",outcome="in"}"#: 17,
            #"refinery_stage_records_total{dataset="demo",stage="validate",outcome="out"}"#: 12,
            #"refinery_stage_records_total{dataset="demo",stage="validate",outcome="dropped"}"#: 5,
            #"refinery_stage_drops_total{dataset="demo",stage="read",reason="invalid_json"}"#: 2,
            #"refinery_stage_drops_total{dataset="demo",stage="read",reason="wrong_shape"}"#: 1,
            #"refinery_stage_drops_total{dataset="demo",stage="validate",reason="too_short"}"#: 4,
            #"refinery_stage_drops_total{dataset="demo",stage="validate",reason="empty"}"#: 1,
            #"refinery_input_read_bytes_total{dataset="demo"}"#: 750,
            #"refinery_input_records_total{dataset="demo"}"#: 20,
            #"refinery_input_planned_bytes{dataset="demo"}"#: 1000,
            #"refinery_units_planned{dataset="demo"}"#: 3,
            #"refinery_units_done{dataset="demo"}"#: 2,
            #"refinery_units_reused{dataset="demo"}"#: 1,
            #"refinery_output_records_total{dataset="demo",outcome="written"}"#: 12,
            #"refinery_output_records_total{dataset="demo",outcome="quarantined"}"#: 8,
            #"refinery_run_duration_seconds{dataset="demo"}"#: 12.5,
            #"refinery_run_status{dataset="demo",status="succeeded"}"#: 1,
            #"refinery_run_status{dataset="demo",status="running"}"#: 0,
            #"refinery_run_status{dataset="demo",status="failed"}"#: 0,
            #"refinery_run_info{dataset="demo",version="v-abc"}"#: 1,
            #"refinery_last_success_timestamp_seconds{dataset="demo"}"#: 1_763_683_800.5,
        ]
        for (series, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(metrics.samples[series] == value, "\(series)")
        }
        // Accounting: the read stage's drops by reason add up to its dropped outcome, and in = out + dropped.
        #expect(metrics.samples.filter { $0.key.hasPrefix(#"refinery_stage_drops_total{dataset="demo",stage="read","#) }.values.reduce(0, +) == 3)
        let started = try #require(metrics.samples[#"refinery_run_start_timestamp_seconds{dataset="demo"}"#])
        #expect(started >= before && started <= after)
        for phase in ["map", "dedup"] {
            let seconds = try #require(metrics.samples[#"refinery_phase_duration_seconds{dataset="demo",phase="\#(phase)"}"#])
            #expect(seconds >= 0 && seconds < 5)
        }
        for family in metrics.families {
            #expect(metrics.help[family]?.isEmpty == false, "HELP for \(family)")
            #expect(metrics.type[family] == (family.hasSuffix("_total") ? "counter" : "gauge"), "TYPE of \(family)")
        }
        #expect(metrics.families.count == 15)
        let order = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ")[$0.hasPrefix("#") ? 2 : 0] }
        #expect(order == order.sorted(), "families and their series in name order, so that every write reads the same way")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["refinery.prom"])
    }

    @Test("the metrics file is rewritten once the interval has passed, not on every call")
    func periodicWrite() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/refinery.prom"
        let bytesSeries = #"refinery_input_read_bytes_total{dataset="demo"}"#
        let started = Date()
        let monitor = RunMonitor(
            logger: capturingLogger(LineSink()), options: MonitorOptions(interval: 0.03, metricsPath: path, isTerminal: false),
            dataset: "demo", version: "v-abc", totalBytes: 1000, totalUnits: 1) { _ in }
        monitor.phase("map")
        monitor.add(bytes: 100, records: 1)
        if Date().timeIntervalSince(started) < 0.02 {
            #expect(try PrometheusText(path: path).samples[bytesSeries] == 0)
        }
        usleep(40_000)
        monitor.add(bytes: 50, records: 1)
        let metrics = try PrometheusText(path: path)
        #expect(metrics.samples[bytesSeries] == 150)
        #expect(metrics.samples[#"refinery_run_status{dataset="demo",status="running"}"#] == 1)
        #expect(try #require(metrics.samples[#"refinery_run_duration_seconds{dataset="demo"}"#]) >= 0.04)
        // The next write holds the new totals, not totals added to the old ones.
        monitor.add(bytes: 25, records: 1)
        monitor.finish(status: "failed", seconds: 0.3, stages: [], written: 0, quarantined: 0, lastSuccess: nil)
        let last = try PrometheusText(path: path)
        #expect(last.samples[bytesSeries] == 175)
        #expect(last.samples[#"refinery_run_status{dataset="demo",status="failed"}"#] == 1)
        #expect(last.samples[#"refinery_run_status{dataset="demo",status="running"}"#] == 0)
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }

    @Test("a metrics file that cannot be written is reported once, and the run goes on")
    func metricsFailure() throws {
        let sink = LineSink()
        let monitor = RunMonitor(
            logger: capturingLogger(sink),
            options: MonitorOptions(interval: 0.000_001, metricsPath: "/nonexistent-refinery-folder/refinery.prom", isTerminal: false),
            dataset: "demo", version: "v-abc", totalBytes: 10, totalUnits: 1) { _ in }
        monitor.phase("map")
        monitor.add(bytes: 10, records: 1)
        monitor.finish(status: "failed", seconds: 1, stages: [], written: 0, quarantined: 0, lastSuccess: nil)
        let warnings = try sink.objects().filter { $0["level"] as? String == "warning" }
        #expect(warnings.count == 1)
        #expect(warnings.first?["metrics.path"] as? String == "/nonexistent-refinery-folder/refinery.prom")
    }

    @Test("JSON log lines parse, carry ts, level, label, message and flattened metadata, and survive quotes and newlines")
    func jsonLogLines() throws {
        let sink = LineSink()
        var logger = capturingLogger(sink, level: .debug)
        logger[metadataKey: "run"] = "r1"
        let message = "say \"hi\"\nthen\ttab \\ back, and \u{1} and é"
        logger.info("\(message)", metadata: ["shard.path": "a/b.jsonl.zst", "count": "\(3)", "nested": ["k": "v"], "message": "shadow"])
        logger.debug("debug line")
        logger.trace("not written")
        #expect(sink.lines.count == 2)
        #expect(sink.lines.allSatisfy { $0.hasSuffix("}\n") && $0.filter { $0 == "\n" }.count == 1 })
        let objects = try sink.objects()
        let first = objects[0]
        #expect(first["level"] as? String == "info")
        #expect(first["label"] as? String == "refinery.test")
        #expect(first["message"] as? String == message)
        #expect(first["shard.path"] as? String == "a/b.jsonl.zst")
        #expect(first["count"] as? String == "3")
        #expect(first["nested.k"] as? String == "v")
        #expect(first["run"] as? String == "r1")
        #expect(first["metadata.message"] as? String == "shadow")
        let ts = try #require(first["ts"] as? String)
        #expect(ts.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(ts)")
        #expect(objects[1]["message"] as? String == "debug line")
        // Fixed fields come first, in this order.
        #expect(sink.lines[1].hasPrefix(#"{"ts":""#) && sink.lines[1].contains(#"","level":"debug","label":"refinery.test","message":"debug line","run":"r1"}"#))
    }

    @Test("timestamps are ISO 8601 in UTC with milliseconds, rounded down", arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_763_683_800.1239, "2025-11-21T00:10:00.123Z"),
        (951_868_799.9999, "2000-02-29T23:59:59.999Z"),
    ])
    func timestamps(seconds: Double, text: String) {
        #expect(JSONLogHandler.timestamp(seconds) == text)
    }

    @Test("off a terminal, progress goes to the log as plain lines: progress, one per phase, run finished; nothing is drawn")
    func plainLines() throws {
        let sink = LineSink()
        var drawn: [String] = []
        let monitor = RunMonitor(
            logger: capturingLogger(sink), options: MonitorOptions(interval: 0.001, isTerminal: false),
            dataset: "demo", version: "v-abc", totalBytes: 1000, totalUnits: 2) { drawn.append($0) }
        monitor.phase("map")
        monitor.unitStarted("subtitles/harbour.srt")
        monitor.add(bytes: 500, records: 7)
        usleep(2_000)
        monitor.add(bytes: 100, records: 3)
        monitor.unitFinished(reused: false)
        monitor.phase("write")
        monitor.finish(status: "succeeded", seconds: 0.1, stages: [], written: 9, quarantined: 1, lastSuccess: nil)
        #expect(drawn.isEmpty)
        #expect(sink.lines.allSatisfy { !$0.contains("\r") && !$0.contains("\u{1B}") })
        let objects = try sink.objects()
        #expect(objects.map { $0["message"] as? String }.filter { $0 != "progress" } == ["phase finished", "phase finished", "run finished"])
        let progress = try #require(objects.last { $0["message"] as? String == "progress" })
        #expect(progress["unit"] as? String == "subtitles/harbour.srt")
        #expect(progress["input.percent"] as? String == "60.0")
        #expect(progress["dataset"] as? String == "demo")
        #expect(progress["eta.seconds"] != nil)
        let map = try #require(objects.first { $0["message"] as? String == "phase finished" })
        #expect(map["phase"] as? String == "map")
        #expect(map["records"] as? String == "10")
        #expect(map["input.bytes"] as? String == "600")
        #expect(map["units.done"] as? String == "1" && map["units.total"] as? String == "2")
        let finished = try #require(objects.last)
        #expect(finished["run.status"] as? String == "succeeded" && finished["records.written"] as? String == "9")
    }

    @Test("on a terminal, one live line is redrawn in place, at most a few times a second, and each phase ends it")
    func liveLine() throws {
        let sink = LineSink()
        var drawn: [String] = []
        let monitor = RunMonitor(
            logger: capturingLogger(sink), options: MonitorOptions(interval: 3600, isTerminal: true),
            dataset: "demo", version: "v-abc", totalBytes: 2000, totalUnits: 4) { drawn.append($0) }
        let started = Date()
        monitor.phase("map")
        monitor.unitStarted("subtitles/harbour.srt")
        for _ in 0..<1000 { monitor.add(bytes: 1, records: 1) }
        if Date().timeIntervalSince(started) < 0.2 {
            #expect(drawn.count == 1, "redrawn \(drawn.count) times")
        }
        usleep(260_000)
        monitor.add(bytes: 1, records: 1)
        let redrawn = try #require(drawn.last)
        #expect(redrawn.hasPrefix("\r\u{1B}[Kmap  0/4 units  50.0%  ") && redrawn.contains(" rec/s  ") && redrawn.contains(" MB/s  ETA "))
        #expect(redrawn.hasSuffix("  subtitles/harbour.srt"))
        monitor.unitFinished(reused: true)
        monitor.phase("dedup")
        monitor.finish(status: "succeeded", seconds: 0.1, stages: [], written: 1, quarantined: 0, lastSuccess: nil)
        #expect(sink.lines.isEmpty)
        #expect(drawn.allSatisfy { $0.hasPrefix("\r\u{1B}[K") })
        #expect(drawn[0] == "\r\u{1B}[Kmap  0/4 units  0.0s elapsed")
        let ends = drawn.filter { $0.hasSuffix("\n") }
        #expect(ends.count == 2)
        #expect(ends[0].hasPrefix("\r\u{1B}[Kmap  1/4 units  (1 reused)  1.0k records  ") && ends[0].contains(" MB/s  done in "))
        #expect(ends[1].hasPrefix("\r\u{1B}[Kdedup  1/4 units"))
    }

    @Test("JSON logs on a terminal get log lines, not a live line that would break the stream")
    func jsonOnTerminal() throws {
        let sink = LineSink()
        var drawn: [String] = []
        let monitor = RunMonitor(
            logger: capturingLogger(sink), options: MonitorOptions(format: .json, interval: 3600, isTerminal: true),
            dataset: "demo", version: "v-abc", totalBytes: 10, totalUnits: 1) { drawn.append($0) }
        monitor.phase("map")
        monitor.add(bytes: 10, records: 1)
        monitor.finish(status: "succeeded", seconds: 0.1, stages: [], written: 1, quarantined: 0, lastSuccess: nil)
        #expect(drawn.isEmpty)
        #expect(try sink.objects().map { $0["message"] as? String } == ["phase finished", "run finished"])
    }

    @Test("short forms for the live line", arguments: [
        (ProgressText.count(950), "950"), (ProgressText.count(41_249), "41.2k"), (ProgressText.count(1_260_000), "1.3M"),
        (ProgressText.duration(4.24), "4.2s"), (ProgressText.duration(185), "3m05s"), (ProgressText.duration(3720), "1h02m"),
        (ProgressText.shortened("subtitles/harbour.srt", to: 12), "…harbour.srt"),
        (ProgressText.shortened("a.srt", to: 12), "a.srt"),
    ])
    func shortForms(text: String, expected: String) {
        #expect(text == expected)
    }

    @Test("the input bytes read end at the planned bytes, over line ends, blank lines and overlapping subtitle windows")
    func readBytesReachPlanned() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let metrics = folder.path + "/refinery.prom"
        let run = try refinery(["run", try demoSpec(in: folder), "--metrics", metrics])
        #expect(run.status == 0, "\(run.stderr)")
        let samples = try PrometheusText(path: metrics).samples
        let read = try #require(samples[#"refinery_input_read_bytes_total{dataset="demo"}"#])
        #expect(read == samples[#"refinery_input_planned_bytes{dataset="demo"}"#])
        #expect(read > 0)
    }

    @Test("refinery run --log-format json writes JSON lines; bad observability flags exit 64 with a reason")
    func cliFlags() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try folder.write("in/a.jsonl", "{\"text\":\"hello there, world\"}\n{\"text\":\"another line of text\"}\n")
        let spec = try folder.write("spec.yaml", """
            name: tiny
            sources: [{name: src, kind: jsonl, glob: "in/*"}]
            stages: [{validate: {min_chars: 5}}]
            output: {dir: out}
            """)
        let run = try refinery(["run", spec, "--workers", "1", "--log-format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let objects = try run.stderr.split(separator: "\n").filter { $0.hasPrefix("{") }.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let started = try #require(objects.first { $0["message"] as? String == "run started" })
        #expect(started["level"] as? String == "info" && started["label"] as? String == "refinery")
        #expect(started["spec.path"] as? String == spec)

        // A run that fails says why in a JSON line too, at level error: here "rejects" under the output folder is a file.
        try FileManager.default.removeItem(atPath: folder.path + "/out")
        try folder.write("out/rejects", "in the way\n")
        let failed = try refinery(["run", spec, "--workers", "1", "--log-format", "json"])
        #expect(failed.status == 1, "\(failed.stderr)")
        let finished = try #require(failed.stderr.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.first { $0["message"] as? String == "run finished" })
        #expect(finished["level"] as? String == "error" && finished["run.status"] as? String == "failed")
        #expect((finished["run.error"] as? String ?? "").contains("rejects"), "\(finished)")

        for (flags, reason) in [
            (["--log-format", "xml"], "--log-format must be text or json"),
            (["--progress-interval", "0"], "--progress-interval must be a number of seconds greater than 0"),
            (["--metrics", folder.path + "/refinery.txt"], "must name a file ending in .prom"),
            (["--metrics", folder.path + "/missing/refinery.prom"], "does not exist"),
        ] {
            let result = try refinery(["run", spec, "--dry-run"] + flags)
            #expect(result.status == 64, "\(flags)")
            #expect(result.stderr.contains(reason), "\(flags): \(result.stderr)")
        }
    }
}
