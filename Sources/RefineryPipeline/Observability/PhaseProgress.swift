/// One phase's work so far, and the rates and estimate it gives.
struct PhaseProgress {
    /// `map`, `dedup`, `balance`, `write`.
    let name: String
    /// Seconds on the monitor's clock when the phase started.
    let started: Double
    var bytes = 0
    var records = 0

    /// Whether the phase has read anything, so that its rates mean something.
    var hasRates: Bool { bytes > 0 || records > 0 }

    /// Seconds since the phase started.
    func elapsed(at now: Double) -> Double { max(0, now - started) }

    /// Records per second over the whole phase.
    func recordsPerSecond(at now: Double) -> Double {
        let seconds = elapsed(at: now)
        return seconds > 0 ? Double(records) / seconds : 0
    }

    /// Bytes per second over the whole phase.
    func bytesPerSecond(at now: Double) -> Double {
        let seconds = elapsed(at: now)
        return seconds > 0 ? Double(bytes) / seconds : 0
    }

    /// Seconds left to read `remainingBytes` at the phase's rate so far, or nil before it has a rate.
    func secondsLeft(remainingBytes: Int, at now: Double) -> Double? {
        let rate = bytesPerSecond(at: now)
        return rate > 0 ? Double(max(0, remainingBytes)) / rate : nil
    }
}
