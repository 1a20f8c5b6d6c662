import RefineryRecords

/// What a worker knows about the unit it is decoding.
public struct UnitContext: Sendable {
    /// The spec source's name (first part of the id).
    public var source: String
    /// Category for records that carry none.
    public var category: String?
    /// Language for records that carry none.
    public var lang: String?
    /// The file, relative to its glob's fixed folder (middle part of the id).
    public var relativePath: String
    /// The file as a path, for reject locations.
    public var path: String
    /// 1-based line where the unit starts.
    public var line: Int

    public init(source: String, category: String?, lang: String?, relativePath: String, path: String, line: Int) {
        self.source = source
        self.category = category
        self.lang = lang
        self.relativePath = relativePath
        self.path = path
        self.line = line
    }

    /// `source/relative/path:line`.
    public var recordID: String { "\(source)/\(relativePath):\(line)" }
    /// Where the unit came from.
    public var location: SourceLocation { SourceLocation(file: path, line: line) }

    /// A record with the id, source, location and defaults filled in.
    public func makeRecord() -> Record {
        Record(id: recordID, source: source, category: category, lang: lang, location: location)
    }
}

/// Why a unit could not become a record: a short stable reason and a detail for people.
public struct DecodeFailure: Error, Sendable, Equatable {
    /// A named reason: `invalid_json`, `wrong_shape`, `line_too_long`, `truncated_input`, ….
    public var reason: String
    public var detail: String

    public init(reason: String, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public static func wrongShape(_ detail: String) -> DecodeFailure { DecodeFailure(reason: "wrong_shape", detail: detail) }
}

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

/// A format with one unit per line (JSON lines): splitting is the shared ``LineSplitter``.
public protocol LineFormat: RecordFormat {
    var splitter: LineSplitter { get }
}

extension LineFormat {
    public func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> LineSplitter.Counts {
        try splitter.split(stream, fileIndex: fileIndex, into: builder)
    }
}
