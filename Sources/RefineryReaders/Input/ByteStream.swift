import Foundation
import RefineryCodecs
import RefineryRecords
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file in chunks, decompressing `.zst` files on the way.
/// Not `Sendable`: one stream per file, on the reading thread.
public final class ByteStream {
    /// Bytes read from disk per call.
    public static let chunkSize = 1 << 20
    private let descriptor: Int32
    private let path: String
    private let decompressor: ZstdDecompressor?
    private var raw: [UInt8]
    private var ended = false
    /// Bytes read from disk so far (compressed bytes for `.zst`).
    public private(set) var bytesRead = 0

    /// Opens a file for reading.
    /// - Throws: ``RefineryError`` with code `input` when it cannot be opened.
    public init(path: String, zstd: Bool) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RefineryError(.input, "cannot open for reading: \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
        }
        descriptor = fd
        self.path = path
        decompressor = zstd ? try ZstdDecompressor() : nil
        raw = [UInt8](repeating: 0, count: Self.chunkSize)
    }

    deinit { close(descriptor) }

    /// Appends the next piece of (decompressed) content to `sink`.
    /// - Returns: `false` at the end of the file.
    /// - Throws: ``RefineryError`` on a read error, corrupt zstd data, or a truncated zstd frame.
    public func next(into sink: inout [UInt8]) throws -> Bool {
        if ended { return false }
        let count = raw.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            throw RefineryError(.input, "read failed after \(bytesRead) bytes: \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
        }
        if count == 0 {
            ended = true
            if let decompressor {
                do { try decompressor.finish() } catch {
                    throw RefineryError(.input, "\(error)", at: SourceLocation(file: path))
                }
            }
            return false
        }
        bytesRead += count
        if let decompressor {
            do {
                try raw.withUnsafeBytes { try decompressor.decompress(UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &sink) }
            } catch {
                throw RefineryError(.input, "\(error)", at: SourceLocation(file: path))
            }
        } else {
            sink.append(contentsOf: raw[0..<count])
        }
        return true
    }
}
