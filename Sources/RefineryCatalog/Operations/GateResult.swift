/// What one promotion gate measured on a dataset version, against its limit.
public struct GateResult: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The gate as the spec names it, with its key: `min_records.train`, `max_drop_rate.quality`,
    /// `max_share_change`, `min_validation_fraction`.
    public var gate: String
    public var passed: Bool
    /// The value measured, for people: `72 records`, `25.0 % (30 of 120)`.
    public var measured: String
    /// The limit, for people: `at least 80`, `at most 20.0 %`.
    public var limit: String
    /// Anything else worth saying (which category moved most, why nothing was compared).
    public var note: String?

    public init(gate: String, passed: Bool, measured: String, limit: String, note: String? = nil) {
        self.gate = gate
        self.passed = passed
        self.measured = measured
        self.limit = limit
        self.note = note
    }

    /// `min_records.train: 72 records, limit at least 80: FAILED`.
    public var description: String {
        "\(gate): \(measured), limit \(limit)\(note.map { " (\($0))" } ?? ""): \(passed ? "passed" : "FAILED")"
    }
}

/// A promotion refused because gates failed; ``results`` holds every gate, passed or not.
public struct PromotionRefused: Error, Sendable, CustomStringConvertible {
    /// `dataset@version`.
    public var label: String
    public var results: [GateResult]

    /// The gates that failed.
    public var failed: [GateResult] { results.filter { !$0.passed } }

    public var description: String {
        "promotion of \(label) refused: \(failed.count) gate(s) failed: " + failed.map(\.description).joined(separator: "; ")
    }
}
