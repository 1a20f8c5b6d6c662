import RefineryShards

/// What a run did.
public struct RunResult: Sendable {
    /// `true` when the folder already held this exact version and nothing was written.
    public var upToDate: Bool
    public var manifest: Manifest
    public var directory: String
    /// Wall-clock seconds.
    public var seconds: Double
    /// Bytes read from input files.
    public var inputBytes: Int
}
