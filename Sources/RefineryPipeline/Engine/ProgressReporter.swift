import Logging

/// Logs how far the reading has got, at most every few seconds, so a long nightly run is visibly alive.
struct ProgressReporter {
    let logger: Logger
    let totalBytes: Int
    var interval: Double = 5
    private var bytes = 0
    private var units = 0
    private var clock = Stopwatch()
    private var sinceLast = 0.0
    private var elapsed = 0.0

    init(logger: Logger, totalBytes: Int) {
        self.logger = logger
        self.totalBytes = totalBytes
    }

    mutating func add(batchBytes: Int, units batchUnits: Int) {
        bytes += batchBytes
        units += batchUnits
        let lap = clock.lap()
        sinceLast += lap
        elapsed += lap
        guard sinceLast >= interval else { return }
        sinceLast = 0
        let percent = totalBytes > 0 ? min(100, Double(bytes) / Double(totalBytes) * 100) : 100
        logger.info("progress", metadata: [
            "input.percent": "\(Int(percent))", "input.units": "\(units)",
            "input.mb_per_second": "\(elapsed > 0 ? Int(Double(bytes) / elapsed / 1e6) : 0)",
        ])
    }
}
