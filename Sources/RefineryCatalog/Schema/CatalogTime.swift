import Foundation

/// The catalog's timestamps: ISO-8601 in UTC with milliseconds (`2026-11-21T03:00:00.123Z`), so text order is
/// time order.
enum CatalogTime {
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func now() -> String { string(Date()) }

    static func string(_ date: Date) -> String { date.formatted(style) }

    static func date(_ text: String) -> Date? { try? style.parse(text) }

    /// Seconds from `start` to `end`, when both parse.
    static func seconds(from start: String, to end: String?) -> Double? {
        guard let end, let from = date(start), let to = date(end) else { return nil }
        return to.timeIntervalSince(from)
    }
}
