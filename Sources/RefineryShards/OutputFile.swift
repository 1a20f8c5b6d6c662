/// A file being written. Implementations report every failure (a full disk included) as an error.
public protocol OutputFile: AnyObject {
    /// Appends bytes.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes to stable storage and closes.
    func close() throws
}
