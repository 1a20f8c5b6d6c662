/// A text with `{column}` placeholders, filled from one row of a table: `"Describe {title} ({year})"`.
///
/// `{{` and `}}` stand for literal braces. A placeholder names a column exactly as the header spells it (spaces
/// included); the template is parsed once, when the spec is read.
public struct RowTemplate: Sendable, Equatable {
    /// A piece of the template: text kept as it is, or the value of ``columns``[index].
    public enum Piece: Sendable, Equatable {
        /// Text written as it is.
        case literal(String)
        /// The value of the column at this index of ``RowTemplate/columns``.
        case column(Int)
    }

    /// The columns the template names, each once, in order of first use.
    public let columns: [String]
    /// The template cut into literal text and placeholders.
    public let pieces: [Piece]

    /// Parses a template.
    /// - Throws: a message saying what is wrong (an unclosed `{`, a lone `}`, an empty `{}`, no placeholder at all);
    ///   the format adds the spec line.
    public init(parsing text: String) throws(RowTemplateError) {
        var columns: [String] = []
        var pieces: [Piece] = []
        var literal = ""
        let characters = Array(text.unicodeScalars)
        var i = 0
        while i < characters.count {
            let scalar = characters[i]
            if scalar == "{" {
                if i + 1 < characters.count && characters[i + 1] == "{" {
                    literal.unicodeScalars.append("{")
                    i += 2
                    continue
                }
                guard let close = characters[(i + 1)...].firstIndex(of: "}") else {
                    throw RowTemplateError(message: "'{' at character \(i + 1) is never closed; write '{{' for a literal brace")
                }
                var name = ""
                name.unicodeScalars.append(contentsOf: characters[(i + 1)..<close])
                if name.isEmpty {
                    throw RowTemplateError(message: "'{}' at character \(i + 1) names no column")
                }
                if name.unicodeScalars.contains("{") {
                    throw RowTemplateError(message: "'{' inside the placeholder at character \(i + 1); write '{{' for a literal brace")
                }
                if !literal.isEmpty {
                    pieces.append(.literal(literal))
                    literal = ""
                }
                if let known = columns.firstIndex(of: name) {
                    pieces.append(.column(known))
                } else {
                    pieces.append(.column(columns.count))
                    columns.append(name)
                }
                i = close + 1
            } else if scalar == "}" {
                guard i + 1 < characters.count && characters[i + 1] == "}" else {
                    throw RowTemplateError(message: "'}' at character \(i + 1) closes nothing; write '}}' for a literal brace")
                }
                literal.unicodeScalars.append("}")
                i += 2
            } else {
                literal.unicodeScalars.append(scalar)
                i += 1
            }
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        guard !columns.isEmpty else {
            throw RowTemplateError(message: "the template names no column; write {column} where a column's value goes")
        }
        self.columns = columns
        self.pieces = pieces
    }

    /// The template with every placeholder replaced.
    /// - Parameter value: the value of ``columns``[index].
    public func render(_ value: (Int) -> String) -> String {
        var text = ""
        for piece in pieces {
            switch piece {
            case .literal(let literal): text += literal
            case .column(let index): text += value(index)
            }
        }
        return text
    }
}

/// Why a ``RowTemplate`` could not be parsed.
public struct RowTemplateError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and how to write it instead.
    public var message: String
    /// The message.
    public var description: String { message }
}
