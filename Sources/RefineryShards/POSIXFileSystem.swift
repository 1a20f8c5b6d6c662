import Foundation
import RefineryRecords
#if canImport(Glibc)
import Glibc
#endif

/// The real disk, through POSIX calls.
public struct POSIXFileSystem: OutputFileSystem {
    public init() {}

    public func create(_ path: String) throws -> any OutputFile { try POSIXOutputFile(path: path) }

    public func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            throw RefineryError(.output, "cannot rename to \(to): \(String(cString: strerror(errno)))", at: SourceLocation(file: from))
        }
    }

    public func remove(_ path: String) { unlink(path) }

    public func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RefineryError(.output, "cannot create the folder: \((error as NSError).localizedDescription)", at: SourceLocation(file: path))
        }
    }
}

extension POSIXFileSystem {
    /// A whole file's bytes, up to its size when opened, read straight into the array (`FileManager.contents` reads
    /// into a `Data` that a `[UInt8]` then copies: twice the memory, faulted in twice, for every shard a report reads);
    /// nil when the file cannot be opened or read.
    public static func contents(atPath path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        // A file cut short since: what was read.
        return read(descriptor, count: Int(status.st_size), at: 0)
    }

    /// Up to `count` bytes of an open file from `offset` (`pread(2)`, again after an interruption), fewer when the
    /// file ends first; nil, with `errno` set, when a read fails.
    public static func read(_ descriptor: Int32, count: Int, at offset: Int) -> [UInt8]? {
        var failure: Int32?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, done in
            done = 0
            while done < count {
                let got = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if got < 0 && errno == EINTR { continue }
                if got < 0 { failure = errno }
                guard got > 0 else { break }
                done += got
            }
        }
        if let failure {
            errno = failure   // as the failed read left it, whatever freeing the array did since
            return nil
        }
        return bytes
    }
}

/// A file written with `write(2)`, synced with `fsync(2)` on close.
final class POSIXOutputFile: OutputFile {
    private var descriptor: Int32
    private let path: String

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        self.path = path
        guard descriptor >= 0 else {
            throw RefineryError(.output, "cannot create: \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
        }
    }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw RefineryError(.output, "write failed: \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
            }
            offset += written
        }
    }

    func close() throws {
        defer { descriptor = -1 }
        if fsync(descriptor) != 0 && errno != EINVAL {
            let message = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw RefineryError(.output, "fsync failed: \(message)", at: SourceLocation(file: path))
        }
        if Glibc.close(descriptor) != 0 {
            throw RefineryError(.output, "close failed: \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
        }
    }
}
