/// A value bound to a statement's `?` parameter.
enum SQLValue: Sendable, Equatable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case null

    /// An integer.
    static func int(_ value: Int) -> SQLValue { .integer(Int64(value)) }

    /// Text, or `NULL` for `nil`.
    static func optional(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }

    /// An integer, or `NULL` for `nil`.
    static func optional(_ value: Int?) -> SQLValue { value.map { .int($0) } ?? .null }
}
