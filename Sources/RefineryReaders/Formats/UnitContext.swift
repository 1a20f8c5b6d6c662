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
    /// The file's preamble, when its format set one (``BatchBuilder/setPreamble(_:fileIndex:)``).
    public var preamble: [UInt8]?

    public init(source: String, category: String?, lang: String?, relativePath: String, path: String, line: Int,
                preamble: [UInt8]? = nil) {
        self.preamble = preamble
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
