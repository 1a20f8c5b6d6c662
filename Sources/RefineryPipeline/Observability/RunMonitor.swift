import Foundation
import Logging
import RefineryShards

/// Shows what a running batch is doing, for people and for machines.
///
/// On a terminal (in the text log format), one live line on stderr, redrawn at most four times a second: phase,
/// units done, records/s, MB/s, percent and ETA from the input bytes, and the current unit; each phase ends with
/// a final line. Otherwise (cron, CI, `--log-format json`), nothing is drawn: an info log line `progress` every
/// ``MonitorOptions/interval`` seconds and one `phase finished` per phase go through the logger, with the
/// numbers in metadata. With ``MonitorOptions/metricsPath``, a Prometheus textfile is written when the monitor is
/// created, every interval, and at ``finish(status:seconds:stages:written:quarantined:lastSuccess:)``.
///
/// Not thread-safe: the engine calls it from one thread, the one that reads inputs and consumes batches.
public final class RunMonitor {
    private let logger: Logger
    private let options: MonitorOptions
    private let output: (String) -> Void
    /// Whether the progress is one live line (a terminal, text logs) rather than log lines.
    private let live: Bool
    private let totalBytes: Int
    private let totalUnits: Int
    private let metrics: RunMetrics?
    private let origin = DispatchTime.now().uptimeNanoseconds
    private var tally = RunTally()
    private var current: PhaseProgress?
    private var unit: String?
    private var lastDraw = -Double.infinity
    private var lastLog = 0.0
    private var lastWrite = 0.0
    /// Whether the live line holds text that a log line or the next output must first clear.
    private var lineShown = false
    /// Whether the last metrics write failed, so that a failing disk is reported once, not every interval.
    private var metricsFailing = false

    /// Redraw the live line at most this often.
    private static let drawInterval = 0.25
    /// Clears the terminal line: carriage return, then erase to the end of the line.
    private static let clearLine = "\r\u{1B}[K"

    /// Creates a monitor writing to stderr, and writes the first metrics file when there is one.
    /// - Parameters:
    ///   - logger: where log lines go; the monitor adds `dataset` to their metadata.
    ///   - options: live line or log lines, interval, metrics file.
    ///   - dataset: the dataset's name, the `dataset` label of every metric.
    ///   - version: the dataset version the run writes.
    ///   - totalBytes: the input bytes the run will read, for the percent and the ETA.
    ///   - totalUnits: the work units the run will finish.
    public convenience init(logger: Logger, options: MonitorOptions, dataset: String, version: String,
                            totalBytes: Int, totalUnits: Int) {
        self.init(logger: logger, options: options, dataset: dataset, version: version,
                  totalBytes: totalBytes, totalUnits: totalUnits) { FileHandle.standardError.write(Data($0.utf8)) }
    }

    /// Creates a monitor whose live line goes to `output` (escape sequences included, without newlines while the
    /// line is live), and writes the first metrics file when there is one.
    /// - Parameters:
    ///   - output: receives the live line's text; tests capture it here.
    public init(logger: Logger, options: MonitorOptions, dataset: String, version: String,
                totalBytes: Int, totalUnits: Int, output: @escaping (String) -> Void) {
        var logger = logger
        logger[metadataKey: "dataset"] = "\(dataset)"
        self.logger = logger
        self.options = options
        self.output = output
        live = options.isTerminal && options.format == .text
        self.totalBytes = totalBytes
        self.totalUnits = totalUnits
        metrics = options.metricsPath.map {
            RunMetrics(path: $0, dataset: dataset, version: version, started: Date().timeIntervalSince1970,
                       plannedBytes: totalBytes, plannedUnits: totalUnits)
        }
        writeMetrics(at: 0)
    }

    /// Starts a phase, ending the previous one with its final line.
    /// - Parameter name: `map` (read and per-record stages), `dedup`, `balance` or `write`.
    public func phase(_ name: String) {
        let now = clock()
        endPhase(at: now)
        current = PhaseProgress(name: name, started: now)
        tally.phases.append((name, 0))
        unit = nil
        lastLog = now
        if live { draw(at: now) }
    }

    /// Names the unit being read, shown on the live line and in log lines.
    /// - Parameter name: a relative input path, say.
    public func unitStarted(_ name: String) {
        unit = name
        tick()
    }

    /// Counts a consumed batch.
    /// - Parameters:
    ///   - bytes: input bytes the batch was read from.
    ///   - records: records read into it.
    public func add(bytes: Int, records: Int) {
        tally.bytesRead += bytes
        tally.recordsRead += records
        current?.bytes += bytes
        current?.records += records
        tick()
    }

    /// Counts a finished unit.
    /// - Parameter reused: whether it was loaded from an interrupted run's committed work instead of read.
    public func unitFinished(reused: Bool) {
        tally.unitsDone += 1
        if reused { tally.unitsReused += 1 }
        tick()
    }

    /// Takes the stages' counters so far (cumulative, not deltas) for the metrics file.
    public func update(stages: [StageCounters]) {
        tally.stages = stages
        tick()
    }

    /// Ends the run: ends the phase and the live line, logs `run finished` (in log-line mode) and writes the final
    /// metrics file.
    /// - Parameters:
    ///   - status: `succeeded`, `failed`, or another status word.
    ///   - seconds: the run's duration.
    ///   - stages: the stages' final counters.
    ///   - written: records written to shards.
    ///   - quarantined: records quarantined.
    ///   - lastSuccess: unix seconds of the dataset's last successful run (now, when this one succeeded), if known.
    ///   - error: why the run failed: `run finished` is then logged at level error with it (a log shipper reading JSON
    ///     lines gets the reason, which otherwise only the plain-text message on stderr gives).
    public func finish(status: String, seconds: Double, stages: [StageCounters], written: Int, quarantined: Int,
                       lastSuccess: Double?, error: String? = nil) {
        let now = clock()
        endPhase(at: now)
        clearLiveLine()
        current = nil
        tally.status = status
        tally.seconds = seconds
        tally.stages = stages
        tally.output = (written, quarantined)
        tally.lastSuccess = lastSuccess
        if !live {
            var metadata: Logger.Metadata = [
                "run.status": "\(status)", "run.seconds": "\(ProgressText.decimal(seconds))",
                "records.written": "\(written)", "records.quarantined": "\(quarantined)",
            ]
            if let error {
                metadata["run.error"] = "\(error)"
                logger.error("run finished", metadata: metadata)
            } else {
                logger.info("run finished", metadata: metadata)
            }
        }
        writeMetrics(at: now)
    }

    /// Seconds since the monitor was created, on the monotonic clock.
    private func clock() -> Double { Double(DispatchTime.now().uptimeNanoseconds - origin) / 1e9 }

    /// The phase in progress; before the first ``phase(_:)``, the whole run so far.
    private var activity: PhaseProgress {
        current ?? PhaseProgress(name: "run", started: 0, bytes: tally.bytesRead, records: tally.recordsRead)
    }

    /// Redraws, logs or writes the metrics file when their time has come.
    private func tick() {
        let now = clock()
        if live {
            if now - lastDraw >= Self.drawInterval { draw(at: now) }
        } else if now - lastLog >= options.interval {
            lastLog = now
            logger.info("progress", metadata: metadata(activity, at: now, final: false))
        }
        if now - lastWrite >= options.interval { writeMetrics(at: now) }
    }

    /// Gives the current phase its final line and its duration.
    private func endPhase(at now: Double) {
        guard let phase = current else { return }
        tally.phases[tally.phases.count - 1].seconds = phase.elapsed(at: now)
        if live {
            output(Self.clearLine + line(phase, at: now, final: true) + "\n")
            lineShown = false
        } else {
            logger.info("phase finished", metadata: metadata(phase, at: now, final: true))
        }
    }

    private func draw(at now: Double) {
        lastDraw = now
        output(Self.clearLine + line(activity, at: now, final: false))
        lineShown = true
    }

    /// Clears a live line still on the terminal (drawn before any phase), so that what follows starts on a clean line.
    private func clearLiveLine() {
        guard lineShown else { return }
        output(Self.clearLine)
        lineShown = false
    }

    /// The live line, `map  3/12 units  45.2%  412.0k rec/s  38.2 MB/s  ETA 1m20s  subtitles/harbour.srt` (the time
    /// elapsed where there is no ETA), cut to the terminal's width; or a phase's final line,
    /// `map  12/12 units  1.2M records  412.0k rec/s  38.2 MB/s  done in 3m02s`.
    private func line(_ phase: PhaseProgress, at now: Double, final: Bool) -> String {
        let elapsed = ProgressText.duration(phase.elapsed(at: now))
        let width = terminalColumns() - 1
        var parts = [phase.name, "\(tally.unitsDone)/\(totalUnits) units"]
        if tally.unitsReused > 0 { parts.append("(\(tally.unitsReused) reused)") }
        if phase.hasRates {
            if final {
                parts.append("\(ProgressText.count(Double(phase.records))) records")
            } else if totalBytes > 0 {
                parts.append(ProgressText.decimal(percent) + "%")
            }
            parts.append("\(ProgressText.count(phase.recordsPerSecond(at: now))) rec/s")
            parts.append("\(ProgressText.decimal(phase.bytesPerSecond(at: now) / 1e6)) MB/s")
        }
        if final { return ProgressText.shortened((parts + ["done in " + elapsed]).joined(separator: "  "), to: width) }
        parts.append(secondsLeft(phase, at: now).map { "ETA " + ProgressText.duration($0) } ?? elapsed + " elapsed")
        let text = parts.joined(separator: "  ")
        let room = width - text.count - 2
        guard let unit, room >= 12 else { return ProgressText.shortened(text, to: width) }
        return text + "  " + ProgressText.shortened(unit, to: room)
    }

    /// The numbers of a progress or phase-end log line.
    private func metadata(_ phase: PhaseProgress, at now: Double, final: Bool) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "phase": "\(phase.name)", "phase.seconds": "\(ProgressText.decimal(phase.elapsed(at: now)))",
            "units.done": "\(tally.unitsDone)", "units.total": "\(totalUnits)",
        ]
        if tally.unitsReused > 0 { metadata["units.reused"] = "\(tally.unitsReused)" }
        if !final, let unit { metadata["unit"] = "\(unit)" }
        if phase.hasRates {
            metadata["records"] = "\(phase.records)"
            metadata["records.per_second"] = "\(Int(phase.recordsPerSecond(at: now).rounded()))"
            metadata["input.bytes"] = "\(tally.bytesRead)"
            metadata["input.mb_per_second"] = "\(ProgressText.decimal(phase.bytesPerSecond(at: now) / 1e6))"
            if totalBytes > 0 { metadata["input.percent"] = "\(ProgressText.decimal(percent))" }
            if !final, let left = secondsLeft(phase, at: now) { metadata["eta.seconds"] = "\(Int(left.rounded()))" }
        }
        return metadata
    }

    /// Seconds until the input is read at the phase's rate, when there is input and a rate.
    private func secondsLeft(_ phase: PhaseProgress, at now: Double) -> Double? {
        totalBytes > 0 ? phase.secondsLeft(remainingBytes: totalBytes - tally.bytesRead, at: now) : nil
    }

    /// Percent of the input bytes read.
    private var percent: Double { min(100, Double(tally.bytesRead) / Double(totalBytes) * 100) }

    private func writeMetrics(at now: Double) {
        guard let metrics else { return }
        lastWrite = now
        if let phase = current {
            tally.phases[tally.phases.count - 1].seconds = phase.elapsed(at: now)
        }
        if tally.status == "running" { tally.seconds = now }
        do {
            try metrics.write(tally)
            metricsFailing = false
        } catch {
            guard !metricsFailing else { return }
            metricsFailing = true
            clearLiveLine()
            logger.warning("cannot write the metrics file; the run goes on and tries again every interval",
                           metadata: ["metrics.path": "\(metrics.path)", "error": "\(error)"])
        }
    }

    /// The terminal's width in columns, or 80 when stderr is not a terminal.
    private func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
