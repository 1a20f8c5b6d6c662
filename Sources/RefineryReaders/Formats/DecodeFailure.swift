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
