import RefineryRecords
#if canImport(Glibc)
import Glibc
#endif

/// Splits a file's content into lines: strips a UTF-8 BOM at the start, accepts LF and CRLF ends, skips blank
/// lines (counting them), and cuts lines longer than a limit without holding them whole.
public struct LineSplitter: Sendable {
    /// Longest line kept whole; longer ones become a `lineTooLong` unit holding their first bytes.
    public var maxLineBytes: Int
    /// Bytes of an over-long line kept for the reject record.
    public static let previewBytes = 1024

    /// What splitting one file found.
    public struct Counts: Sendable {
        public var lines = 0
        public var blankLines = 0
        public var bytes = 0

        public init() {}

        /// Adds another file's counts.
        public mutating func add(_ other: Counts) {
            lines += other.lines
            blankLines += other.blankLines
            bytes += other.bytes
        }
    }

    public init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// Reads `stream` to the end and passes every non-blank line to `builder`.
    /// - Returns: line counts; a truncated or unreadable tail becomes a `truncated` unit rather than an error.
    public func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> Counts {
        var counts = Counts()
        var pending: [UInt8] = []
        pending.reserveCapacity(ByteStream.chunkSize * 2)
        var lineNumber = 1
        var atStart = true
        // While skipping the rest of an over-long line: its first line number and length so far.
        var overlong: (line: Int, bytes: Int, preview: [UInt8])?

        func emitLine(_ line: UnsafeBufferPointer<UInt8>, number: Int) throws {
            var end = line.count
            if end > 0 && line[end - 1] == 0x0D { end -= 1 }
            var start = 0
            while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
            if start == end {
                counts.blankLines += 1
                return
            }
            try builder.add(UnsafeBufferPointer(rebasing: line[0..<end]), fileIndex: fileIndex, line: number)
        }

        func consume(final: Bool) throws {
            var consumed = 0
            try pending.withUnsafeBufferPointer { buffer in
                if atStart && buffer.count >= 3 {
                    if buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { consumed = 3 }
                    atStart = false
                } else if atStart && final {
                    atStart = false
                }
                while consumed < buffer.count {
                    let rest = UnsafeBufferPointer(rebasing: buffer[consumed...])
                    guard let found = memchr(rest.baseAddress!, 0x0A, rest.count) else { break }
                    let length = UnsafeRawPointer(found) - UnsafeRawPointer(rest.baseAddress!)
                    let line = UnsafeBufferPointer(rebasing: rest[0..<length])
                    counts.lines += 1
                    if var long = overlong {
                        long.bytes += length
                        try builder.add(long.preview, fileIndex: fileIndex, line: long.line,
                                        problem: .lineTooLong(bytes: long.bytes, limit: maxLineBytes))
                        overlong = nil
                    } else if length - (length > 0 && line[length - 1] == 0x0D ? 1 : 0) > maxLineBytes {
                        let preview = Array(line[0..<min(length, Self.previewBytes)])
                        try builder.add(preview, fileIndex: fileIndex, line: lineNumber,
                                        problem: .lineTooLong(bytes: length, limit: maxLineBytes))
                    } else {
                        try emitLine(line, number: lineNumber)
                    }
                    lineNumber += 1
                    consumed += length + 1
                }
            }
            pending.removeFirst(consumed)
            // A line still open and already over the limit: remember its start, drop its bytes.
            if !final && pending.count > maxLineBytes {
                if overlong == nil {
                    overlong = (lineNumber, 0, Array(pending.prefix(Self.previewBytes)))
                }
                overlong!.bytes += pending.count
                pending.removeAll(keepingCapacity: true)
            }
        }

        while true {
            let more: Bool
            do {
                more = try stream.next(into: &pending)
            } catch let error as RefineryError {
                // Keep what was read; the unfinished tail becomes one reject naming the failure.
                try consume(final: false)
                counts.lines += 1
                let tail = Array(pending.prefix(Self.previewBytes))
                try builder.add(tail, fileIndex: fileIndex, line: lineNumber,
                                problem: .truncated(detail: error.message))
                counts.bytes = stream.bytesRead
                return counts
            }
            try consume(final: !more)
            if !more { break }
        }
        // The last line may have no newline.
        if let long = overlong {
            counts.lines += 1
            try builder.add(long.preview, fileIndex: fileIndex, line: long.line,
                            problem: .lineTooLong(bytes: long.bytes + pending.count, limit: maxLineBytes))
        } else if !pending.isEmpty {
            counts.lines += 1
            if pending.count > maxLineBytes {
                let preview = Array(pending.prefix(Self.previewBytes))
                try builder.add(preview, fileIndex: fileIndex, line: lineNumber,
                                problem: .lineTooLong(bytes: pending.count, limit: maxLineBytes))
            } else {
                try pending.withUnsafeBufferPointer { try emitLine($0, number: lineNumber) }
            }
        }
        counts.bytes = stream.bytesRead
        return counts
    }
}
