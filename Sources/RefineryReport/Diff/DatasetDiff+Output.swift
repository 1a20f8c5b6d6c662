import Foundation

extension DatasetDiff {
    /// One self-contained HTML page.
    public var html: String { DiffPage.render(self) }

    /// JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(self)
    }
}
