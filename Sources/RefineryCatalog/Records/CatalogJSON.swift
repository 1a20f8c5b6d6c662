import Foundation
import RefineryRecords

/// The JSON text the catalog stores in columns (drop reasons, dataset lists, metrics): sorted keys, so equal
/// values give equal text.
enum CatalogJSON {
    static func encode<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw RefineryError(.internal, "cannot encode a catalog column as JSON: \(error)")
        }
    }

    /// Decodes a column; `fallback` when the text is not what Refinery wrote (a hand-edited catalog).
    static func decode<Value: Decodable>(_ type: Value.Type, _ text: String, fallback: Value) -> Value {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? decoder.decode(type, from: Data(text.utf8))) ?? fallback
    }
}
