import Foundation
import RefineryRecords
import RefineryShards
#if canImport(Glibc)
import Glibc
#endif

/// Bytes the run reads back from a file it wrote and leaves alone until it ends: a part of a committed unit's file.
struct StoredBytes: Sendable, Equatable {
    var file: String
    var offset: Int
    var count: Int
}

/// Where a batch's spilled records lie in its unit's file: the frame of JSON lines and the encoded entries. The
/// spill reads them from there, so that nothing the unit file holds is written twice.
struct StoredSpill: Sendable, Equatable {
    var frame: StoredBytes
    var entries: StoredBytes
}

/// Reads ``StoredBytes`` with `pread(2)`, keeping the files it read open for the next read (up to
/// ``maxOpenFiles``, then it closes them all and starts again). Used by one thread: the one resolving the global
/// stages and handing batches to the shard writers.
final class StoredFiles {
    static let maxOpenFiles = 64
    private var descriptors: [String: Int32] = [:]

    /// Reads `bytes`; `role` says what they are, for messages ("spilled records").
    /// - Throws: ``RefineryError`` (code `output`) naming the file when it cannot be opened or is shorter than written.
    func read(_ bytes: StoredBytes, role: String) throws -> [UInt8] {
        guard bytes.count > 0 else { return [] }
        let descriptor = try open(bytes.file, role: role)
        let read = POSIXFileSystem.read(descriptor, count: bytes.count, at: bytes.offset)
        guard let read, read.count == bytes.count else {
            let why = read == nil ? String(cString: strerror(errno)) : "it is shorter than written"
            throw RefineryError(.output, "cannot read the \(role) back from the work unit's file: \(why)", at: SourceLocation(file: bytes.file))
        }
        return read
    }

    private func open(_ path: String, role: String) throws -> Int32 {
        if let descriptor = descriptors[path] { return descriptor }
        if descriptors.count >= Self.maxOpenFiles { close() }
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw RefineryError(.output, "cannot open the work unit's file to read the \(role) back: \(String(cString: strerror(errno)))",
                                at: SourceLocation(file: path))
        }
        descriptors[path] = descriptor
        return descriptor
    }

    /// Closes every file it holds open.
    func close() {
        for descriptor in descriptors.values { Glibc.close(descriptor) }
        descriptors.removeAll()
    }

    deinit { close() }
}
