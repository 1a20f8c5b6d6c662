import ArgumentParser
import Foundation
import Logging
import RefineryPipeline

/// Flags every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Log level on stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: "Log format on stderr: text (for people) or json (one JSON object per line, for log shippers).")
    var logFormat: String = "text"

    @Option(name: .long, help: ArgumentHelp(
        "Write Prometheus metrics to this file, for node_exporter's textfile collector (the name must end in .prom).",
        valueName: "file"))
    var metrics: String?

    @Option(name: .long, help: ArgumentHelp(
        "Seconds between progress log lines (when stderr is not a terminal) and between metrics file writes.",
        valueName: "seconds"))
    var progressInterval: Double = 10

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got '\(logLevel)'")
        }
        guard LogFormat(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format must be text or json; got '\(logFormat)'")
        }
        guard progressInterval.isFinite && progressInterval > 0 else {
            throw ValidationError("--progress-interval must be a number of seconds greater than 0, such as 10; got \(progressInterval)")
        }
        if let metrics {
            guard metrics.hasSuffix(".prom") else {
                throw ValidationError("--metrics must name a file ending in .prom, which is all node_exporter's textfile collector reads; got '\(metrics)'")
            }
            let folder = (metrics as NSString).deletingLastPathComponent
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("--metrics: the folder '\(folder)' does not exist; create it (node_exporter's --collector.textfile.directory) or name a file in another folder")
            }
        }
    }

    /// Sets up logging to stderr once, in the chosen format, and returns the CLI's logger.
    func makeLogger() -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingBootstrap.once(level: level, format: LogFormat(rawValue: logFormat) ?? .text)
        var logger = Logger(label: "refinery")
        logger.logLevel = level
        return logger
    }

    /// How a run reports its progress and metrics, from `--log-format`, `--metrics` and `--progress-interval`.
    func monitorOptions() -> MonitorOptions {
        MonitorOptions(format: LogFormat(rawValue: logFormat) ?? .text, interval: progressInterval, metricsPath: metrics)
    }
}

/// Bootstraps swift-log exactly once per process.
enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false

    static func once(level: Logger.Level, format: LogFormat) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// Writes a line to stderr (progress, tables, messages for people).
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
