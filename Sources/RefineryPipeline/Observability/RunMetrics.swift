import Prometheus
import RefineryShards

/// One run's metrics in a Prometheus registry of its own, written whole, in the text format, to the file that
/// node_exporter's textfile collector reads. Every series carries the `dataset` label.
final class RunMetrics {
    /// The metrics file.
    let path: String
    private let registry = PrometheusCollectorRegistry()
    private let dataset: String
    private let fileSystem = POSIXFileSystem()

    /// Statuses that always have a series, so that an alert on `status="failed"` sees 0 rather than nothing.
    private static let statuses = ["running", "succeeded", "failed"]

    /// Registers the run's constant metrics.
    /// - Parameters:
    ///   - path: the metrics file; it is written through `PATH.tmp`.
    ///   - started: unix seconds when the run started.
    ///   - plannedBytes: input bytes the run will read.
    ///   - plannedUnits: work units the run will finish.
    init(path: String, dataset: String, version: String, started: Double, plannedBytes: Int, plannedUnits: Int) {
        self.path = path
        self.dataset = dataset
        gauge("refinery_run_info", "The dataset version the run writes; always 1.", [("version", version)]).set(to: 1)
        gauge("refinery_run_start_timestamp_seconds", "When the run started, in unix seconds.").set(to: started)
        gauge("refinery_input_planned_bytes", "Input bytes the run will read.").set(to: Double(plannedBytes))
        gauge("refinery_units_planned", "Work units (input files or their parts) the run will finish.").set(to: Double(plannedUnits))
    }

    /// Sets every metric from the tally and replaces the file atomically: `PATH.tmp` is written, synced and renamed
    /// over `PATH`, so a reader never sees half a file.
    /// - Throws: ``RefineryError`` (code `output`) when the file cannot be written; `PATH.tmp` is removed.
    func write(_ tally: RunTally) throws {
        record(tally)
        var emitted: [UInt8] = []
        registry.emit(into: &emitted)
        let text = Self.sorted(emitted)
        let temporary = path + ".tmp"
        do {
            let file = try fileSystem.create(temporary)
            try text.withUnsafeBytes { try file.write($0) }
            try file.close()
            try fileSystem.rename(temporary, to: path)
        } catch {
            fileSystem.remove(temporary)
            throw error
        }
    }

    private func record(_ tally: RunTally) {
        for status in Self.statuses + (Self.statuses.contains(tally.status) ? [] : [tally.status]) {
            gauge("refinery_run_status", "1 for the run's status (running, then succeeded or failed), 0 for the others.",
                  [("status", status)]).set(to: status == tally.status ? 1 : 0)
        }
        gauge("refinery_run_duration_seconds", "Seconds the run has taken so far, or in all once it has ended.").set(to: tally.seconds)
        for phase in tally.phases {
            gauge("refinery_phase_duration_seconds", "Seconds spent in each phase: map (read and per-record stages), dedup, balance, write.",
                  [("phase", phase.name)]).set(to: phase.seconds)
        }
        counter("refinery_input_read_bytes_total", "Input bytes read.").set(tally.bytesRead)
        counter("refinery_input_records_total", "Records read from the inputs.").set(tally.recordsRead)
        gauge("refinery_units_done", "Work units finished, reused ones included.").set(to: Double(tally.unitsDone))
        gauge("refinery_units_reused", "Work units taken from an interrupted run's committed work instead of being read again.")
            .set(to: Double(tally.unitsReused))
        for stage in tally.stages {
            for (outcome, count) in [("in", stage.recordsIn), ("out", stage.recordsOut), ("dropped", stage.droppedTotal)] {
                counter("refinery_stage_records_total", "Records by stage and outcome: in, out (kept), dropped.",
                        [("stage", stage.name), ("outcome", outcome)]).set(count)
            }
            for (reason, count) in stage.dropped {
                counter("refinery_stage_drops_total", "Records each stage dropped, by reason.",
                        [("stage", stage.name), ("reason", reason)]).set(count)
            }
        }
        if let output = tally.output {
            for (outcome, count) in [("written", output.written), ("quarantined", output.quarantined)] {
                counter("refinery_output_records_total", "Records the finished run wrote to shards or quarantined.",
                        [("outcome", outcome)]).set(count)
            }
        }
        if let lastSuccess = tally.lastSuccess {
            gauge("refinery_last_success_timestamp_seconds", "When the dataset last had a successful run, in unix seconds.")
                .set(to: lastSuccess)
        }
    }

    /// The registry's text with its families, and the series within each, in name order: the registry emits them in
    /// hash order, and a file that reads the same way every time is easier to compare.
    static func sorted(_ text: [UInt8]) -> [UInt8] {
        var families: [Substring: (header: [Substring], series: [Substring])] = [:]
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
            let isHeader = line.hasPrefix("# ")
            let name = (isHeader ? line.dropFirst(7) : line).prefix { $0 != "{" && $0 != " " }
            if isHeader { families[name, default: ([], [])].header.append(line) } else { families[name, default: ([], [])].series.append(line) }
        }
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        for name in families.keys.sorted() {
            let family = families[name] ?? ([], [])
            for line in family.header + family.series.sorted() {
                result.append(contentsOf: line.utf8)
                result.append(UInt8(ascii: "\n"))
            }
        }
        return result
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
                           labels: [("dataset", dataset)] + labels)
    }

    private func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
                             labels: [("dataset", dataset)] + labels)
    }
}

extension Counter {
    /// Sets the counter to a cumulative total that the engine keeps (the stages' counters), which never decreases.
    fileprivate func set(_ total: Int) {
        reset()
        increment(by: Int64(total))
    }
}
