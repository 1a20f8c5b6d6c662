/// One file of a source, as a format's ``RecordFormat/splitSource(_:into:)`` sees it.
public struct SourceFile: Sendable {
    /// Index into the run's file table (what units carry).
    public var index: Int
    public var file: InputFile

    public init(index: Int, file: InputFile) {
        self.index = index
        self.file = file
    }

    /// Opens the file for reading (decompressing `.zst`).
    public func open() throws -> ByteStream {
        try ByteStream(path: file.path, zstd: file.isZstd)
    }
}
