/// How log lines look on stderr.
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's plain lines, for people.
    case text
    /// One JSON object per line (``JSONLogHandler``), for log shippers.
    case json
}
