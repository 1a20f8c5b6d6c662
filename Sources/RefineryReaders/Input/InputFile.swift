/// One file matched by a source's glob.
public struct InputFile: Sendable, Hashable {
    /// Index of the source in the spec.
    public var sourceIndex: Int
    /// Absolute path.
    public var path: String
    /// Path relative to the glob's fixed folder; the middle part of record ids.
    public var relativePath: String
    /// Size in bytes when listed.
    public var size: Int
    /// Modification time (seconds since 1970) when listed.
    public var modified: Double

    public init(sourceIndex: Int, path: String, relativePath: String, size: Int, modified: Double) {
        self.sourceIndex = sourceIndex
        self.path = path
        self.relativePath = relativePath
        self.size = size
        self.modified = modified
    }

    /// Whether the file is zstd-compressed (by its name).
    public var isZstd: Bool { path.hasSuffix(".zst") }
}
