import RefineryRecords
import RefinerySpec

/// `kind: text` — plain text or Markdown files, one record per file (`split: file`, the default; id
/// `source/path:1`) or one per blank-line-separated document (`split: paragraph`; id `source/path:LINE` of the
/// document's first line).
///
/// Options: `split` (`file` | `paragraph`), `max_document_bytes` (default 64MiB; with `split: file`, larger
/// documents are quarantined as `document_too_long`; paragraph mode holds the whole file, see the README).
public struct TextFormat: SingleRecordFormat {
    public enum Split: String, Sendable { case file, paragraph }
    public var mode: Split
    public var maxDocumentBytes: Int

    public init(options: SpecNode?) throws {
        let table = try options?.table(allowed: ["split", "max_document_bytes"])
        if let node = table?.optional("split") {
            guard let mode = Split(rawValue: try node.string()) else {
                throw node.error("must be 'file' or 'paragraph', found '\(try node.string())'")
            }
            self.mode = mode
        } else {
            mode = .file
        }
        maxDocumentBytes = try table?.optional("max_document_bytes")?.byteSize() ?? 64 << 20
    }

    public func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> LineSplitter.Counts {
        // Documents are read whole (bounded by maxDocumentBytes in file mode), then cut at blank lines if asked.
        var counts = LineSplitter.Counts()
        let (content, problem) = WholeFile.read(stream, limit: mode == .file ? maxDocumentBytes : Int.max)
        counts.bytes = stream.bytesRead
        var start = 0
        if content.count >= 3 && content[0] == 0xEF && content[1] == 0xBB && content[2] == 0xBF { start = 3 }
        if let problem {
            counts.lines = 1
            if case .truncated = problem {
                try builder.add(content, fileIndex: fileIndex, line: 1, problem: problem)
            } else {
                try builder.add(Array(content[min(start, content.count)...]), fileIndex: fileIndex, line: 1, problem: problem)
            }
            return counts
        }
        switch mode {
        case .file:
            counts.lines = 1
            let isBlank = content[start...].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
            if isBlank {
                counts.blankLines = 1
            } else {
                try content.withUnsafeBufferPointer { try builder.add(UnsafeBufferPointer(rebasing: $0[start...]), fileIndex: fileIndex, line: 1) }
            }
        case .paragraph:
            try content.withUnsafeBufferPointer { buffer in
                var line = 1
                var docStart: Int?
                var docLine = 1
                var lastContentEnd = start
                var position = start
                while position <= buffer.count {
                    let lineEnd = buffer[position...].firstIndex(of: 0x0A) ?? buffer.count
                    let isBlank = buffer[position..<lineEnd].allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
                    if isBlank {
                        if let begin = docStart {
                            try builder.add(UnsafeBufferPointer(rebasing: buffer[begin..<lastContentEnd]), fileIndex: fileIndex, line: docLine)
                            docStart = nil
                        }
                        if lineEnd < buffer.count || position < lineEnd { counts.blankLines += 1 }
                    } else {
                        if docStart == nil {
                            docStart = position
                            docLine = line
                        }
                        // A CRLF line's CR is part of the line end, not of the document (as in LineSplitter).
                        lastContentEnd = lineEnd > position && buffer[lineEnd - 1] == 0x0D ? lineEnd - 1 : lineEnd
                    }
                    if lineEnd < buffer.count || position < lineEnd { counts.lines += 1 }
                    line += 1
                    position = lineEnd + 1
                }
                if let begin = docStart {
                    try builder.add(UnsafeBufferPointer(rebasing: buffer[begin..<lastContentEnd]), fileIndex: fileIndex, line: docLine)
                }
            }
        }
        return counts
    }

    public func decode(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext) throws(DecodeFailure) -> Record {
        var record = context.makeRecord()
        if let text = String(validating: bytes, as: UTF8.self) {
            record.text = text
        } else {
            record.utf8Repairs = JSONParser.countInvalidSequences(bytes)
            record.text = String(decoding: bytes, as: UTF8.self)
        }
        return record
    }
}
