/// A format with one unit per line (JSON lines): splitting is the shared ``LineSplitter``.
public protocol LineFormat: RecordFormat {
    var splitter: LineSplitter { get }
}

extension LineFormat {
    public func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> LineSplitter.Counts {
        try splitter.split(stream, fileIndex: fileIndex, into: builder)
    }
}
