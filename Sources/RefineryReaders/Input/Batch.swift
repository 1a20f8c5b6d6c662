/// A run of units from one source, processed by one worker. Batch boundaries depend only on the input and
/// the spec, never on the number of workers, so outputs are the same whatever the parallelism.
public struct Batch: Sendable {
    /// Position in the run: results are written in this order.
    public var index: Int
    public var sourceIndex: Int
    /// The units' bytes, back to back.
    public var buffer: [UInt8]
    public var units: [RawUnit]
    /// Per-file bytes a format keeps for decoding every unit of that file (a CSV header), by file index.
    public var preambles: [Int: [UInt8]]

    public init(index: Int, sourceIndex: Int) {
        self.index = index
        self.sourceIndex = sourceIndex
        buffer = []
        units = []
        preambles = [:]
    }

    /// Input bytes held.
    public var byteCount: Int { buffer.count }
}
