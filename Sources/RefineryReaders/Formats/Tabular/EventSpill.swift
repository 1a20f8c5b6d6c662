import Foundation
import RefineryRecords
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Spill files of the interactions external sort: sorted runs of events written to a private temporary folder.
//
// A spill file is a sequence of frames, little-endian:
//
//     u32 frame length (bytes after this field)
//     u32 user length, u32 item length, i64 timestamp, u64 reward (IEEE-754 bits), u64 sequence,
//     u64 file index, u64 line, user bytes, item bytes
//
// Files live only for one `splitSource` call; they are not a stable format.

/// A folder made with `mkdtemp` for one sort's spill files, removed with its files by ``remove()``.
final class SpillFolder {
    let path: String
    private var made = 0

    /// Makes `parent/refinery-interactions-XXXXXX`.
    /// - Throws: ``RefineryError`` (`output`) when the folder cannot be made.
    init(parent: String) throws {
        let prefix = parent.hasSuffix("/") ? parent : parent + "/"
        var template = Array(prefix.utf8CString.dropLast())
        template.append(contentsOf: Array("refinery-interactions-XXXXXX".utf8CString))
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard made != nil else {
            throw RefineryError(.output, "cannot make a folder for interaction spill files in \(parent): \(String(cString: strerror(errno))); set TMPDIR to a writable folder with free space")
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A path for a new spill file inside the folder.
    func newFile() -> String {
        made += 1
        return "\(path)/run-\(made).bin"
    }

    /// Removes the folder and everything in it; safe to call more than once.
    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Writes events to a new spill file through a buffer.
final class SpillWriter {
    private let path: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private static let bufferSize = 256 << 10

    /// Creates the file (it must not exist).
    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.failure("cannot create", path) }
        buffer.reserveCapacity(Self.bufferSize + 1024)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    private static func failure(_ what: String, _ path: String) -> RefineryError {
        RefineryError(.output, "\(what) interaction spill file: \(String(cString: strerror(errno))); set TMPDIR to a folder with more free space, or raise memory_budget",
                      at: SourceLocation(file: path))
    }

    /// Appends one event.
    func append(_ event: SortedEvent) throws {
        let frame = 4 + 4 + 8 + 8 + 8 + 8 + 8 + event.user.count + event.item.count
        buffer.appendLittleEndian(UInt32(truncatingIfNeeded: frame))
        buffer.appendLittleEndian(UInt32(truncatingIfNeeded: event.user.count))
        buffer.appendLittleEndian(UInt32(truncatingIfNeeded: event.item.count))
        buffer.appendLittleEndian(event.timestamp)
        buffer.appendLittleEndian(event.reward.bitPattern)
        buffer.appendLittleEndian(event.sequence)
        buffer.appendLittleEndian(UInt64(event.fileIndex))
        buffer.appendLittleEndian(UInt64(event.line))
        buffer.append(contentsOf: event.user)
        buffer.append(contentsOf: event.item)
        if buffer.count >= Self.bufferSize { try flush() }
    }

    private func flush() throws {
        var written = 0
        while written < buffer.count {
            let count = buffer.withUnsafeBytes { bytes in
                write(descriptor, bytes.baseAddress.map { $0 + written }, bytes.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.failure("cannot write", path)
            }
            written += count
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and closes the file.
    func finish() throws {
        try flush()
        let result = close(descriptor)
        descriptor = -1
        if result != 0 { throw Self.failure("cannot close", path) }
    }
}

/// Reads the events of a spill file in order, through a buffer.
final class SpillReader {
    private let path: String
    private let descriptor: Int32
    private var buffer: [UInt8]
    /// The unread bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var atEnd = false
    private static let bufferSize = 256 << 10

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw RefineryError(.internal, "cannot reopen interaction spill file: \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
        }
        buffer = [UInt8](repeating: 0, count: Self.bufferSize)
    }

    deinit { close(descriptor) }

    private func corrupt(_ detail: String) -> RefineryError {
        RefineryError(.internal, "interaction spill file is damaged (\(detail)); was it changed while the run was reading?", at: SourceLocation(file: path))
    }

    /// Makes `count` unread bytes available.
    /// - Returns: `false` at the clean end of the file (nothing unread and nothing more to read).
    private func fill(_ count: Int) throws -> Bool {
        while end - start < count {
            if atEnd {
                if end == start { return false }
                throw corrupt("the file ends inside an event")
            }
            if start > 0 {
                let unread = end - start
                buffer.withUnsafeMutableBytes { bytes in
                    if let base = bytes.baseAddress { _ = memmove(base, base + start, unread) }
                }
                start = 0
                end = unread
            }
            if buffer.count < count { buffer.append(contentsOf: repeatElement(0, count: count - buffer.count)) }
            let got = buffer.withUnsafeMutableBytes { bytes in
                read(descriptor, bytes.baseAddress.map { $0 + end }, bytes.count - end)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw RefineryError(.internal, "cannot read interaction spill file: \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
            }
            if got == 0 { atEnd = true } else { end += got }
        }
        return true
    }

    /// Reads the next event into `event`, reusing its arrays.
    /// - Returns: `false` at the end of the file.
    func next(into event: inout SortedEvent) throws -> Bool {
        guard try fill(4) else { return false }
        let frame = buffer.withUnsafeBufferPointer { bytes in
            var reader = LittleEndianReader(UnsafeBufferPointer(rebasing: bytes[start..<start + 4]))
            return Int(reader.read(UInt32.self) ?? 0)
        }
        guard frame >= 48 else { throw corrupt("an event of \(frame) bytes") }
        if try !fill(4 + frame) { throw corrupt("the file ends inside an event") }
        let valid = buffer.withUnsafeBufferPointer { bytes -> Bool in
            var reader = LittleEndianReader(UnsafeBufferPointer(rebasing: bytes[start + 4..<start + 4 + frame]))
            guard let userCount = reader.read(UInt32.self), let itemCount = reader.read(UInt32.self),
                  let timestamp = reader.read(Int64.self), let reward = reader.read(UInt64.self),
                  let sequence = reader.read(UInt64.self), let fileIndex = reader.read(UInt64.self),
                  let line = reader.read(UInt64.self),
                  let user = reader.read(count: Int(userCount)), let item = reader.read(count: Int(itemCount)), reader.isAtEnd
            else { return false }
            event.user.removeAll(keepingCapacity: true)
            event.user.append(contentsOf: user)
            event.item.removeAll(keepingCapacity: true)
            event.item.append(contentsOf: item)
            event.timestamp = timestamp
            event.reward = Double(bitPattern: reward)
            event.sequence = sequence
            event.fileIndex = Int(truncatingIfNeeded: fileIndex)
            event.line = Int(truncatingIfNeeded: line)
            return true
        }
        guard valid else { throw corrupt("an event whose lengths do not add up") }
        start += 4 + frame
        return true
    }
}
