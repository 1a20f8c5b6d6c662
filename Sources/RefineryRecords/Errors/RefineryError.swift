/// An error a person can act on: what failed, where, and why.
///
/// `code` groups errors for programs (new codes do not break callers); `message` says what happened and what
/// to do next; `location` names the file, line and record where it happened when known.
public struct RefineryError: Error, CustomStringConvertible, Sendable {
    /// A stable name for a kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The pipeline spec is malformed: unknown key, wrong type, missing value.
        public static let spec = Code("spec")
        /// A file named or matched by the spec is missing or unreadable.
        public static let input = Code("input")
        /// Writing the dataset failed (disk full, permissions, a folder holding another dataset).
        public static let output = Code("output")
        /// A dataset on disk is inconsistent with its manifest (checksum, counts, missing shard).
        public static let integrity = Code("integrity")
        /// An argument given on the command line is not usable.
        public static let usage = Code("usage")
        /// The catalog cannot be used: not a SQLite file, damaged, written by a newer Refinery, or a statement failed.
        public static let catalog = Code("catalog")
        /// A failure inside the engine that is not the input's fault.
        public static let `internal` = Code("internal")
        /// Another run holds the dataset.
        public static let busy = Code("busy")
        /// Work committed by an interrupted run of another spec is in the way of this one.
        public static let resume = Code("resume")
        /// A system library the command needs is not installed.
        public static let environment = Code("environment")
        /// The run was stopped by a signal (SIGTERM from a scheduler's time limit or `kill`, SIGINT from Ctrl-C) and
        /// recorded as interrupted; its committed units stay for the next run.
        public static let stopped = Code("stopped")
    }

    public let code: Code
    public let message: String
    public let location: SourceLocation?
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, at location: SourceLocation? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause
    }

    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        text += message
        if let cause { text += " (\(cause))" }
        return text
    }
}
