import RefineryRecords

/// A source format: how a file (or a whole source) is cut into units on the reading thread, and how one unit
/// becomes records on a worker. Adding a format is one file conforming to this and one line in ``ReaderRegistry``.
///
/// Most formats make one record per unit and conform to ``SingleRecordFormat``; subtitle files make a record per
/// dialogue window, bilingual pairs one per aligned cue pair, interaction logs one per user.
public protocol RecordFormat: Sendable {
    /// Cuts one file into units and adds them to `builder`.
    /// - Returns: counts of what was read, for the run summary.
    func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> LineSplitter.Counts

    /// Cuts all files of one source into units, in the order given. The default splits file by file; formats
    /// whose units span files (pairs of subtitle files, per-user interaction logs) override it.
    func splitSource(_ files: [SourceFile], into builder: BatchBuilder) throws -> LineSplitter.Counts

    /// Whether one record can come from several files of the source (pairs of subtitle files, per-user
    /// interaction logs): then the whole source is one work unit of a run, otherwise each file is.
    var unitsSpanFiles: Bool { get }

    /// Turns one unit into records and rejects (each with a named reason and its own line).
    func decodeUnit(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext, into output: inout DecodedUnit)
}

extension RecordFormat {
    public var unitsSpanFiles: Bool { false }

    public func splitSource(_ files: [SourceFile], into builder: BatchBuilder) throws -> LineSplitter.Counts {
        var total = LineSplitter.Counts()
        for file in files {
            let counts = try split(try file.open(), fileIndex: file.index, into: builder)
            total.add(counts)
        }
        return total
    }
}

/// A format that makes exactly one record (or one reject) per unit.
public protocol SingleRecordFormat: RecordFormat {
    /// Turns one unit into a record.
    /// - Throws: ``DecodeFailure`` with a named reason; the engine quarantines the unit.
    func decode(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext) throws(DecodeFailure) -> Record
}

extension SingleRecordFormat {
    public func decodeUnit(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext, into output: inout DecodedUnit) {
        do {
            output.records.append(try decode(bytes, context: context))
        } catch {
            output.reject(error, context: context, raw: bytes)
        }
    }
}
