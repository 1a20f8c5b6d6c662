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

    /// Why a unit was cut short by the reader.
    public enum Problem: Sendable, Equatable {
        /// The line was longer than the reader's limit; only its start is kept, for the reject.
        case lineTooLong(bytes: Int, limit: Int)
        /// A `text` document was longer than `max_document_bytes`; only its start is kept.
        case documentTooLong(bytes: Int, limit: Int)
        /// The file ended early (truncated zstd frame, read error); the bytes are what was read.
        case truncated(detail: String)
    }

    public init(range: Range<Int>, fileIndex: Int, line: Int, problem: Problem? = nil) {
        self.range = range
        self.fileIndex = fileIndex
        self.line = line
        self.problem = problem
    }
}

/// A run of units from one source, processed by one worker. Batch boundaries depend only on the input and
/// the spec, never on the number of workers, so outputs are the same whatever the parallelism.
public struct Batch: Sendable {
    /// Position in the run: results are written in this order.
    public var index: Int
    public var sourceIndex: Int
    /// The units' bytes, back to back.
    public var buffer: [UInt8]
    public var units: [RawUnit]

    public init(index: Int, sourceIndex: Int) {
        self.index = index
        self.sourceIndex = sourceIndex
        buffer = []
        units = []
    }

    /// Input bytes held.
    public var byteCount: Int { buffer.count }
}

/// Collects units into batches and hands each full batch on.
public final class BatchBuilder {
    private let maxRecords: Int
    private let maxBytes: Int
    private let emit: (Batch) throws -> Void
    private var current: Batch
    private var nextIndex = 0

    /// - Parameters:
    ///   - maxRecords: units per batch at most.
    ///   - maxBytes: input bytes per batch at most (a single larger unit still makes one batch).
    ///   - emit: called with each full batch, in order.
    public init(maxRecords: Int, maxBytes: Int, emit: @escaping (Batch) throws -> Void) {
        self.maxRecords = maxRecords
        self.maxBytes = maxBytes
        self.emit = emit
        current = Batch(index: 0, sourceIndex: 0)
    }

    /// Starts collecting for a source; flushes the batch of the previous source first.
    public func begin(sourceIndex: Int) throws {
        if current.sourceIndex != sourceIndex {
            try flush()
            current.sourceIndex = sourceIndex
        }
    }

    /// Adds one unit.
    public func add(_ bytes: UnsafeBufferPointer<UInt8>, fileIndex: Int, line: Int, problem: RawUnit.Problem? = nil) throws {
        if !current.units.isEmpty && (current.units.count >= maxRecords || current.buffer.count + bytes.count > maxBytes) {
            try flush()
        }
        let start = current.buffer.count
        current.buffer.append(contentsOf: bytes)
        current.units.append(RawUnit(range: start..<current.buffer.count, fileIndex: fileIndex, line: line, problem: problem))
    }

    /// Adds one unit held in an array.
    public func add(_ bytes: [UInt8], fileIndex: Int, line: Int, problem: RawUnit.Problem? = nil) throws {
        try bytes.withUnsafeBufferPointer { try add($0, fileIndex: fileIndex, line: line, problem: problem) }
    }

    /// Hands on the batch being collected, if it holds anything.
    public func flush() throws {
        guard !current.units.isEmpty else { return }
        let batch = current
        current = Batch(index: nextIndex + 1, sourceIndex: batch.sourceIndex)
        current.buffer.reserveCapacity(batch.buffer.capacity)
        nextIndex += 1
        try emit(batch)
    }
}
