import Foundation

/// Short forms of numbers for the live progress line and log metadata.
enum ProgressText {
    /// `950`, `41.2k`, `1.3M`.
    static func count(_ value: Double) -> String {
        switch value {
        case ..<1_000: return String(Int(value.rounded()))
        case ..<1_000_000: return String(format: "%.1fk", value / 1e3)
        default: return String(format: "%.1fM", value / 1e6)
        }
    }

    /// One decimal: `38.2`.
    static func decimal(_ value: Double) -> String { String(format: "%.1f", value) }

    /// `4.2s`, `3m05s`, `1h02m`.
    static func duration(_ seconds: Double) -> String {
        guard seconds >= 60 else { return decimal(seconds) + "s" }
        let whole = Int(seconds.rounded())
        let twoDigits = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        if whole < 3600 { return "\(whole / 60)m" + twoDigits(whole % 60) + "s" }
        return "\(whole / 3600)h" + twoDigits(whole % 3600 / 60) + "m"
    }

    /// The text cut to `width` characters, keeping its end (the file name of a path): `…es/harbour.srt`.
    static func shortened(_ text: String, to width: Int) -> String {
        guard text.count > width else { return text }
        guard width > 1 else { return String(text.suffix(max(0, width))) }
        return "…" + text.suffix(width - 1)
    }
}
