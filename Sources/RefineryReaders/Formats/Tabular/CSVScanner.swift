import RefineryRecords
import RefinerySpec

/// Finds the records of delimited text (RFC 4180 CSV, TSV, `;`-separated files) and splits records into fields;
/// shared by `kind: metadata_csv` and `kind: interactions`.
///
/// Records end at LF, CRLF or CR outside quotes. A field that starts with `"` is quoted: it may hold delimiters,
/// line ends and `""` (one quote), and ends at the next lone `"`, which must be followed by the delimiter or the
/// end of the record (anything else is `malformed_quotes`). A `"` inside an unquoted field is kept as it is. A UTF-8
/// BOM at the start of a file is dropped. Blank records (a line of nothing but spaces and tabs that are not the
/// delimiter) are skipped and counted.
///
/// With a delimiter longer than one byte (MovieLens' `::`) or with quoting off, quotes mean nothing: records are
/// lines and fields are whatever lies between delimiters.
///
/// Reading streams: memory holds the record being read plus one chunk of the file. A record longer than
/// ``maxRecordBytes`` is handed on as a `record_too_long` problem holding its first bytes; a quote still open at
/// the end of the file makes the rest of the file one `unterminated_quote` problem at the line where its record
/// started.
public struct CSVScanner: Sendable {
    /// The field separator: one byte, or several when ``quoting`` is off.
    public var delimiter: [UInt8]
    /// Whether `"` quotes fields; only with a one-byte delimiter.
    public var quoting: Bool
    /// Longest record handed on whole; longer ones become `record_too_long` problems.
    public var maxRecordBytes: Int

    /// A scanner for one delimiter.
    /// - Parameters:
    ///   - delimiter: the separator bytes; must not be empty, hold a line end, or be `"` when quoting.
    ///   - quoting: whether `"` quotes fields; ignored (off) for a delimiter longer than one byte.
    ///   - maxRecordBytes: longest record kept whole (default 1MiB).
    public init(delimiter: [UInt8], quoting: Bool = true, maxRecordBytes: Int = 1 << 20) {
        self.delimiter = delimiter
        self.quoting = quoting && delimiter.count == 1
        self.maxRecordBytes = maxRecordBytes
    }

    // MARK: Records

    /// Reads `stream` to the end and hands every non-blank record to `body`.
    /// - Parameters:
    ///   - stream: the file's content.
    ///   - body: called with each record's bytes (without its line end; valid only during the call), the 1-based
    ///     line where it starts, and a problem when the record cannot be used: `.rejected` with
    ///     `record_too_long`, `malformed_quotes` or `unterminated_quote` (the bytes are then the record's start),
    ///     or `.truncated` when the file ended early.
    /// - Returns: lines, blank lines and bytes read.
    /// - Throws: what `body` throws; a read failure becomes a `.truncated` record, not an error.
    public func records(in stream: ByteStream,
                        _ body: (_ record: UnsafeBufferPointer<UInt8>, _ line: Int, _ problem: RawUnit.Problem?) throws -> Void)
        throws -> LineSplitter.Counts
    {
        var counts = try records(reading: { try stream.next(into: &$0) }, body)
        counts.bytes = stream.bytesRead
        return counts
    }

    /// Like ``records(in:_:)``, reading chunks from `next` (which appends to its argument and returns `false` at
    /// the end); this is how tests cut a file into chunks of any size. `bytes` of the result is 0.
    public func records(reading next: (inout [UInt8]) throws -> Bool,
                        _ body: (_ record: UnsafeBufferPointer<UInt8>, _ line: Int, _ problem: RawUnit.Problem?) throws -> Void)
        throws -> LineSplitter.Counts
    {
        var pending: [UInt8] = []
        var cutter = RecordCutter(scanner: self)
        var bomChecked = false

        // The BOM is looked for once three bytes (or the whole file) are in.
        func checkBOM(final: Bool) -> Bool {
            if bomChecked { return true }
            guard pending.count >= 3 || final else { return false }
            bomChecked = true
            if pending.count >= 3 && pending[0] == 0xEF && pending[1] == 0xBB && pending[2] == 0xBF {
                cutter.skip(3)
            }
            return true
        }

        while true {
            let more: Bool
            do {
                more = try next(&pending)
            } catch let error as RefineryError {
                // Keep what was read; the unfinished record becomes one reject naming the failure.
                _ = checkBOM(final: true)
                try pending.withUnsafeBufferPointer { try cutter.scan($0, final: false, body) }
                try pending.withUnsafeBufferPointer { try cutter.truncate($0, detail: error.message, body) }
                return cutter.counts
            }
            guard checkBOM(final: !more) else { continue }
            try pending.withUnsafeBufferPointer { try cutter.scan($0, final: !more, body) }
            if !more {
                try pending.withUnsafeBufferPointer { try cutter.finish($0, body) }
                return cutter.counts
            }
            cutter.compact(&pending)
        }
    }

    /// Where the quote state machine is within a record.
    private enum State {
        case fieldStart, unquoted, quoted, quoteInQuoted
    }

    /// The resumable state of cutting one file into records: scanning picks up where the last chunk ended, so a
    /// long record is scanned once however many chunks it spans.
    private struct RecordCutter {
        let scanner: CSVScanner
        let separator: UInt8
        var counts = LineSplitter.Counts()
        /// Offset in the pending bytes where the open record starts.
        var start = 0
        /// Offset of the next byte to scan.
        var position = 0
        var state = State.fieldStart
        /// Line where a closing quote was followed by something other than a delimiter, in the open record.
        var malformed: (line: Int, byte: UInt8)?
        /// Line of the byte at `position`.
        var line = 1
        /// Line where the open record starts.
        var recordLine = 1
        /// Whether the current line has bytes (so an unterminated last line still counts as a line).
        var lineOpen = false
        /// Bytes of the open record already dropped because it is over the limit, and its first bytes.
        var dropped = 0
        var preview: [UInt8] = []

        init(scanner: CSVScanner) {
            self.scanner = scanner
            separator = scanner.delimiter.first ?? 0
        }

        mutating func skip(_ count: Int) {
            start += count
            position += count
        }

        /// Scans `buffer` from `position`, handing on every record that ends within it.
        mutating func scan(_ buffer: UnsafeBufferPointer<UInt8>, final: Bool,
                           _ body: (UnsafeBufferPointer<UInt8>, Int, RawUnit.Problem?) throws -> Void) throws
        {
            let count = buffer.count
            let quoting = scanner.quoting
            var i = position
            while i < count {
                let byte = buffer[i]
                if byte == 0x0A || byte == 0x0D {
                    var end = i + 1
                    if byte == 0x0D {
                        if i + 1 < count {
                            if buffer[i + 1] == 0x0A { end = i + 2 }
                        } else if !final {
                            break  // A CR at the end of the chunk: wait to see whether LF follows.
                        }
                    }
                    counts.lines += 1
                    line += 1
                    lineOpen = false
                    if state == .quoted {
                        i = end
                        continue
                    }
                    try emit(buffer, end: i, body)
                    i = end
                    start = end
                    recordLine = line
                    continue
                }
                lineOpen = true
                if quoting {
                    switch state {
                    case .fieldStart:
                        state = byte == 0x22 ? .quoted : byte == separator ? .fieldStart : .unquoted
                    case .unquoted:
                        if byte == separator { state = .fieldStart }
                    case .quoted:
                        if byte == 0x22 { state = .quoteInQuoted }
                    case .quoteInQuoted:
                        if byte == 0x22 {
                            state = .quoted
                        } else if byte == separator {
                            state = .fieldStart
                        } else {
                            if malformed == nil { malformed = (line, byte) }
                            state = .unquoted
                        }
                    }
                }
                i += 1
            }
            position = i
        }

        /// Hands on the open record, which ends at `end`, and starts the next.
        mutating func emit(_ buffer: UnsafeBufferPointer<UInt8>, end: Int,
                           _ body: (UnsafeBufferPointer<UInt8>, Int, RawUnit.Problem?) throws -> Void) throws
        {
            let length = dropped + (end - start)
            defer {
                dropped = 0
                preview.removeAll()
                malformed = nil
                state = .fieldStart
            }
            if dropped > 0 || length > scanner.maxRecordBytes {
                let failure = DecodeFailure(
                    reason: "record_too_long",
                    detail: "\(length) bytes, limit \(scanner.maxRecordBytes) (max_record_bytes); first \(min(length, LineSplitter.previewBytes)) bytes kept")
                try withHead(buffer, end: end) { try body($0, recordLine, .rejected(failure)) }
                return
            }
            let record = UnsafeBufferPointer(rebasing: buffer[start..<end])
            if scanner.isBlank(record) {
                counts.blankLines += 1
            } else if let malformed {
                let shown = malformed.byte >= 0x20 && malformed.byte < 0x7F ? "'\(Character(Unicode.Scalar(malformed.byte)))'" : "byte \(malformed.byte)"
                let failure = DecodeFailure(
                    reason: "malformed_quotes",
                    detail: "a closing quote is followed by \(shown) instead of the delimiter or a line end (line \(malformed.line)); write \"\" for a quote inside a quoted field")
                try body(record, recordLine, .rejected(failure))
            } else {
                try body(record, recordLine, nil)
            }
        }

        /// Drops the bytes of records already handed on, and of an open record over the limit (keeping its start).
        mutating func compact(_ pending: inout [UInt8]) {
            if start > 0 {
                pending.removeSubrange(0..<start)
                position -= start
                start = 0
            }
            if dropped > 0 || position > scanner.maxRecordBytes {
                preview.append(contentsOf: pending[0..<position].prefix(LineSplitter.previewBytes - preview.count))
                dropped += position
                pending.removeSubrange(0..<position)
                position = 0
            }
        }

        /// Hands on the record open at the end of the file.
        mutating func finish(_ buffer: UnsafeBufferPointer<UInt8>,
                             _ body: (UnsafeBufferPointer<UInt8>, Int, RawUnit.Problem?) throws -> Void) throws
        {
            guard dropped > 0 || position > start else { return }
            if lineOpen { counts.lines += 1 }
            if scanner.quoting && state == .quoted {
                let length = dropped + (buffer.count - start)
                let lastLine = lineOpen ? line : line - 1
                let lines = recordLine == lastLine ? "line \(recordLine)" : "lines \(recordLine)–\(lastLine)"
                let failure = DecodeFailure(
                    reason: "unterminated_quote",
                    detail: "a quoted field opened in the record at line \(recordLine) is never closed; the rest of the file (\(length) bytes, \(lines)) is this one reject")
                try withHead(buffer, end: buffer.count) { try body($0, recordLine, .rejected(failure)) }
                return
            }
            try emit(buffer, end: buffer.count, body)
        }

        /// Hands on the open record as cut short by a read failure.
        mutating func truncate(_ buffer: UnsafeBufferPointer<UInt8>, detail: String,
                               _ body: (UnsafeBufferPointer<UInt8>, Int, RawUnit.Problem?) throws -> Void) throws
        {
            counts.lines += 1
            try withHead(buffer, end: buffer.count) { try body($0, recordLine, .truncated(detail: detail)) }
        }

        /// Calls `body` with the open record's first bytes (at most `LineSplitter.previewBytes`), whether or not
        /// some of them were already dropped, so the kept start does not depend on how the file was chunked.
        func withHead(_ buffer: UnsafeBufferPointer<UInt8>, end: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
            let rest = buffer[start..<end]
            if dropped == 0 {
                try body(UnsafeBufferPointer(rebasing: rest.prefix(LineSplitter.previewBytes)))
            } else {
                let head = preview + rest.prefix(LineSplitter.previewBytes - preview.count)
                try head.withUnsafeBufferPointer { try body($0) }
            }
        }
    }

    /// Whether a record is blank: empty, or only spaces and tabs that are not the delimiter.
    func isBlank(_ record: UnsafeBufferPointer<UInt8>) -> Bool {
        let separator: UInt8? = delimiter.count == 1 ? delimiter[0] : nil
        for byte in record where (byte != 0x20 && byte != 0x09) || byte == separator {
            return false
        }
        return true
    }

    // MARK: Fields

    /// The fields of one record, unquoted, held back to back in one reusable buffer.
    public struct Fields: Sendable {
        /// The fields' bytes, back to back.
        public private(set) var bytes: [UInt8] = []
        private var ends: [Int] = []

        /// No fields; reuse one value across records to keep its buffers.
        public init() {}

        /// Number of fields.
        public var count: Int { ends.count }

        /// The bytes of field `index` (0-based).
        public subscript(index: Int) -> ArraySlice<UInt8> {
            bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
        }

        /// Field `index` as text, invalid UTF-8 replaced by U+FFFD.
        public func string(_ index: Int) -> String {
            String(decoding: self[index], as: UTF8.self)
        }

        mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
        }

        mutating func append(_ byte: UInt8) { bytes.append(byte) }

        mutating func append(_ slice: UnsafeBufferPointer<UInt8>.SubSequence) { bytes.append(contentsOf: slice) }

        mutating func endField() { ends.append(bytes.count) }
    }

    /// Splits one record (as handed on by ``records(in:_:)``) into its fields, removing quotes and `""` escapes.
    /// - Parameters:
    ///   - record: the record's bytes, without its line end.
    ///   - fields: replaced with the record's fields; an empty record is one empty field.
    /// - Throws: `malformed_quotes` when text follows a closing quote, `unterminated_quote` when a quoted field
    ///   does not end.
    public func fields(of record: UnsafeBufferPointer<UInt8>, into fields: inout Fields) throws(DecodeFailure) {
        fields.removeAll()
        let count = record.count
        guard quoting else {
            splitPlain(record, into: &fields)
            return
        }
        let separator = delimiter[0]
        var i = 0
        while true {
            if i < count && record[i] == 0x22 {
                // A quoted field: up to the next lone quote.
                let opened = i
                i += 1
                var closed = false
                while i < count {
                    let byte = record[i]
                    if byte == 0x22 {
                        if i + 1 < count && record[i + 1] == 0x22 {
                            fields.append(0x22)
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    // Copy the run of bytes up to the next quote at once.
                    var j = i + 1
                    while j < count && record[j] != 0x22 { j += 1 }
                    fields.append(record[i..<j])
                    i = j
                }
                guard closed else {
                    throw DecodeFailure(reason: "unterminated_quote",
                                        detail: "field \(fields.count + 1) opens a quote at byte \(opened + 1) that is never closed")
                }
                if i < count && record[i] != separator {
                    throw DecodeFailure(reason: "malformed_quotes",
                                        detail: "field \(fields.count + 1): text follows its closing quote; write \"\" for a quote inside a quoted field")
                }
            } else {
                var j = i
                while j < count && record[j] != separator { j += 1 }
                fields.append(record[i..<j])
                i = j
            }
            fields.endField()
            if i >= count { return }
            i += 1  // The delimiter; a record ending with one has an empty last field.
        }
    }

    /// Splits at every occurrence of the delimiter, quotes being ordinary bytes.
    private func splitPlain(_ record: UnsafeBufferPointer<UInt8>, into fields: inout Fields) {
        let count = record.count
        let width = delimiter.count
        let first = delimiter[0]
        var fieldStart = 0
        var i = 0
        while i + width <= count {
            if record[i] == first && (width == 1 || delimiter.indices.allSatisfy { record[i + $0] == delimiter[$0] }) {
                fields.append(record[fieldStart..<i])
                fields.endField()
                i += width
                fieldStart = i
            } else {
                i += 1
            }
        }
        fields.append(record[fieldStart..<count])
        fields.endField()
    }
}

extension CSVScanner {
    /// Builds a scanner from a format's options: `delimiter`, `quoting` and `max_record_bytes`.
    /// - Parameters:
    ///   - table: the format's checked options, or `nil` for defaults.
    ///   - defaultDelimiter: the delimiter when the option is absent.
    ///   - allowMultiByte: whether a delimiter of several bytes (`::`) is accepted; it never quotes.
    /// - Throws: ``RefineryError`` naming the option's line when a value is unusable.
    static func fromOptions(_ table: SpecTable?, defaultDelimiter: UInt8, allowMultiByte: Bool) throws -> CSVScanner {
        var delimiter = [defaultDelimiter]
        if let node = table?.optional("delimiter") {
            let text = try node.string()
            switch text {
            case "tab", "\\t": delimiter = [0x09]
            default: delimiter = Array(text.utf8)
            }
            if delimiter.isEmpty || delimiter.contains(0x0A) || delimiter.contains(0x0D) {
                throw node.error("a delimiter must be a byte such as ',', ';' or '\\t' (or 'tab'), without line ends")
            }
            if delimiter.count > 1 && !allowMultiByte {
                throw node.error("'\(text)' is \(delimiter.count) bytes; a delimiter here is one byte such as ',', ';' or '\\t' (or 'tab')")
            }
        }
        var quoting = delimiter.count == 1
        if let node = table?.optional("quoting") {
            quoting = try node.bool()
            if quoting && delimiter.count > 1 {
                throw node.error("a delimiter of several bytes does not quote; remove 'quoting' or set it to false")
            }
        }
        if quoting, delimiter == [0x22], let node = table?.optional("delimiter") {
            throw node.error("'\"' cannot be the delimiter while it quotes fields; set quoting: false")
        }
        var maxRecordBytes = 1 << 20
        if let node = table?.optional("max_record_bytes") {
            maxRecordBytes = try node.byteSize()
            if maxRecordBytes < 1 { throw node.error("must be at least 1 byte") }
        }
        return CSVScanner(delimiter: delimiter, quoting: quoting, maxRecordBytes: maxRecordBytes)
    }
}
