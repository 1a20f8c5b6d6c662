/// One unit of raw input (a line, a paragraph, a file) waiting to be decoded into a record.
public struct RawUnit: Sendable {
    /// The unit's bytes inside ``Batch/buffer``.
    public var range: Range<Int>
    /// Index into the run's file table.
    public var fileIndex: Int
    /// 1-based line where the unit starts.
    public var line: Int
    /// Set when the reader already knows the unit cannot become a record.
    public var problem: Problem?
    /// Input bytes the unit stands for, when its buffer holds something else (a bilingual pair: both files behind
    /// a header naming the second); `nil`: its range's length. The read stage counts these as its `bytes_in`.
    public var inputBytes: Int?

    /// Why a unit was cut short by the reader.
    public enum Problem: Sendable, Equatable {
        /// The line was longer than the reader's limit; only its start is kept, for the reject.
        case lineTooLong(bytes: Int, limit: Int)
        /// A `text` document was longer than `max_document_bytes`; only its start is kept.
        case documentTooLong(bytes: Int, limit: Int)
        /// The file ended early (truncated zstd frame, read error); the bytes are what was read.
        case truncated(detail: String)
        /// The reader already found the unit malformed (an unterminated quote, a row of a file without a
        /// header); the bytes are the unit's start, kept for the reject.
        case rejected(DecodeFailure)
    }

    public init(range: Range<Int>, fileIndex: Int, line: Int, problem: Problem? = nil, inputBytes: Int? = nil) {
        self.inputBytes = inputBytes
        self.range = range
        self.fileIndex = fileIndex
        self.line = line
        self.problem = problem
    }
}
