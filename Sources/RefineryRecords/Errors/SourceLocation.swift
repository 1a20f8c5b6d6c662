/// Where something came from: a file, and a line or other locator inside it.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The path as the user wrote it or as the glob matched it.
    public var file: String
    /// 1-based line number, when the source is line-oriented.
    public var line: Int?
    /// 1-based column, when known (spec errors).
    public var column: Int?

    public init(file: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let column { text += ":\(column)" }
        return text
    }
}
