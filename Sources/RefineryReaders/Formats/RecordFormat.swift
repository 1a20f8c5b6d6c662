import RefineryRecords

/// A source format: how a file is cut into units (on the reading thread) and how one unit becomes a record
/// (on a worker). Adding a format is one file conforming to this and one line in ``ReaderRegistry``.
public protocol RecordFormat: Sendable {
    /// Cuts one file into units and adds them to `builder`.
    /// - Returns: counts of what was read, for the run summary.
    func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> LineSplitter.Counts

    /// Turns one unit into a record.
    /// - Throws: ``DecodeFailure`` with a named reason; the engine quarantines the unit.
    func decode(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext) throws(DecodeFailure) -> Record
}
