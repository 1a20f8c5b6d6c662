/// Collects units into batches and hands each full batch on.
public final class BatchBuilder {
    private let maxRecords: Int
    private let maxBytes: Int
    private let emit: (Batch) throws -> Void
    private let buffers: BatchBuffers?
    private var current: Batch
    private var nextIndex = 0
    private var preamble: (fileIndex: Int, bytes: [UInt8])?

    /// - Parameters:
    ///   - maxRecords: units per batch at most.
    ///   - maxBytes: input bytes per batch at most (a single larger unit still makes one batch).
    ///   - buffers: where the batches' buffers come back once processed, to be filled again.
    ///   - emit: called with each full batch, in order.
    public init(maxRecords: Int, maxBytes: Int, buffers: BatchBuffers? = nil, emit: @escaping (Batch) throws -> Void) {
        self.maxRecords = maxRecords
        self.maxBytes = maxBytes
        self.buffers = buffers
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

    /// Sets bytes that every unit of one file needs to be decoded (a CSV header): each batch holding units of
    /// that file carries them, so a worker decodes a unit without seeing the rest of the file.
    public func setPreamble(_ bytes: [UInt8], fileIndex: Int) {
        preamble = (fileIndex, bytes)
    }

    /// Adds one unit; `inputBytes`: the input it stands for, when `bytes` are not simply those (``RawUnit/inputBytes``).
    public func add(_ bytes: UnsafeBufferPointer<UInt8>, fileIndex: Int, line: Int, problem: RawUnit.Problem? = nil,
                    inputBytes: Int? = nil) throws {
        if !current.units.isEmpty && (current.units.count >= maxRecords || current.buffer.count + bytes.count > maxBytes) {
            try flush()
        }
        if let preamble, preamble.fileIndex == fileIndex, current.preambles[fileIndex] == nil {
            current.preambles[fileIndex] = preamble.bytes
        }
        let start = current.buffer.count
        current.buffer.append(contentsOf: bytes)
        current.units.append(RawUnit(range: start..<current.buffer.count, fileIndex: fileIndex, line: line, problem: problem,
                                     inputBytes: inputBytes))
    }

    /// Adds one unit held in an array.
    public func add(_ bytes: [UInt8], fileIndex: Int, line: Int, problem: RawUnit.Problem? = nil, inputBytes: Int? = nil) throws {
        try bytes.withUnsafeBufferPointer { try add($0, fileIndex: fileIndex, line: line, problem: problem, inputBytes: inputBytes) }
    }

    /// The index the next batch will get.
    public var nextBatchIndex: Int { current.index }

    /// Skips `count` batch indices: the batches of a work unit that an earlier, interrupted run already
    /// processed, so that the batches after it are numbered as in a run that read it. Call between units.
    public func skip(batches count: Int) {
        precondition(current.units.isEmpty, "skip(batches:) between units only")
        nextIndex += count
        current.index = nextIndex
    }

    /// Hands on the batch being collected, if it holds anything.
    public func flush() throws {
        guard !current.units.isEmpty else { return }
        let batch = current
        current = Batch(index: nextIndex + 1, sourceIndex: batch.sourceIndex)
        if let buffer = buffers?.take() { current.buffer = buffer }
        current.buffer.reserveCapacity(batch.buffer.capacity)
        nextIndex += 1
        try emit(batch)
    }
}
