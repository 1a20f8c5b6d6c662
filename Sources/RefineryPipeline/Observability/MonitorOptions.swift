#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a run reports what it is doing: a live line or log lines on stderr, and a Prometheus metrics file.
public struct MonitorOptions: Sendable {
    /// The log format. A live progress line is drawn only in `.text` on a terminal: it would break a JSON stream.
    public var format: LogFormat
    /// Seconds between plain progress log lines (when there is no live line) and between metrics file writes.
    public var interval: Double
    /// Where to write the Prometheus text-format metrics (node_exporter's textfile collector reads `*.prom`),
    /// or nil for no file.
    public var metricsPath: String?
    /// Whether stderr is a terminal, where the progress is one line redrawn in place.
    public var isTerminal: Bool

    /// Creates options.
    /// - Parameters:
    ///   - format: the log format on stderr.
    ///   - interval: seconds between progress log lines and metrics file writes; more than 0.
    ///   - metricsPath: the metrics file, or nil.
    ///   - isTerminal: whether stderr is a terminal; by default, asked of the system.
    public init(format: LogFormat = .text, interval: Double = 10, metricsPath: String? = nil,
                isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.format = format
        self.interval = interval
        self.metricsPath = metricsPath
        self.isTerminal = isTerminal
    }
}
