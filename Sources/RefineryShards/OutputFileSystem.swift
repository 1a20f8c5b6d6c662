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
