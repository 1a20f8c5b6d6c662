/// Where a dataset is written: opening, renaming and removing files. The engine only touches the disk through
/// this, so a test can inject a failure (a disk that fills up after N bytes) without a special mount.
public protocol OutputFileSystem: Sendable {
    /// Creates (or truncates) a file for writing.
    func create(_ path: String) throws -> any OutputFile
    /// Atomically renames a file.
    func rename(_ from: String, to: String) throws
    /// Removes a file if it exists.
    func remove(_ path: String)
    /// Creates a folder and its parents.
    func makeDirectory(_ path: String) throws
}

extension OutputFileSystem {
    /// Writes a whole file under `<path>.tmp`, closes it and renames it into place, so that a reader sees the old
    /// file or the new one, never a part; on failure the temporary file is removed.
    public func writeAtomically(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        let temporary = try create(path + ".tmp")
        do {
            try temporary.write(bytes)
            try temporary.close()
            try rename(path + ".tmp", to: path)
        } catch {
            try? temporary.close()
            remove(path + ".tmp")
            throw error
        }
    }

    public func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try writeAtomically($0, to: path) }
    }
}
