import Foundation
import Logging
import RefineryRecords

/// A swift-log handler that writes each event as one JSON object on one line, for log shippers:
/// `ts` (ISO 8601, UTC, milliseconds), `level`, `label`, `message`, `error` when the event carries one, then the
/// metadata as string fields in key order. Nested metadata is flattened to dotted keys (`"a": ["b": "c"]` gives
/// `"a.b":"c"`); a metadata key that would shadow one of the fixed fields is written as `metadata.KEY`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// The fields every line starts with, which metadata keys must not repeat.
    private static let fixedFields: Set<String> = ["ts", "level", "label", "message", "error"]

    /// Creates a handler that writes to stderr, with swift-log's global metadata provider.
    /// - Parameter label: the logger's label.
    public init(label: String) {
        self.init(label: label, metadataProvider: LoggingSystem.metadataProvider) { line in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// Creates a handler that hands each line, newline included, to `write`.
    /// - Parameters:
    ///   - label: the logger's label.
    ///   - metadataProvider: adds metadata to every event, or nil.
    ///   - write: called once per event with a whole line; it may be called from several threads at once.
    public init(label: String, metadataProvider: Logger.MetadataProvider?, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes the event as one JSON line.
    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        var fields: [(key: String, value: String)] = []
        for (key, value) in merged { Self.flatten(value, key: key, into: &fields) }
        fields.sort { $0.key < $1.key }

        var json = JSONWriter(reservingCapacity: 256)
        json.byte(UInt8(ascii: "{"))
        json.key("ts")
        json.string(Self.timestamp(Date().timeIntervalSince1970))
        for (key, value) in [("level", event.level.rawValue), ("label", label), ("message", event.message.description)] {
            json.byte(UInt8(ascii: ","))
            json.key(key)
            json.string(value)
        }
        if let error = event.error {
            json.byte(UInt8(ascii: ","))
            json.key("error")
            json.string("\(error)")
        }
        for field in fields {
            json.byte(UInt8(ascii: ","))
            json.key(Self.fixedFields.contains(field.key) ? "metadata." + field.key : field.key)
            json.string(field.value)
        }
        json.raw("}\n")
        write(String(decoding: json.bytes, as: UTF8.self))
    }

    /// Appends a metadata value as string fields: dictionaries as dotted keys, everything else as its description.
    private static func flatten(_ value: Logger.Metadata.Value, key: String, into fields: inout [(key: String, value: String)]) {
        switch value {
        case .dictionary(let members):
            for (inner, member) in members { flatten(member, key: key + "." + inner, into: &fields) }
        case .string(let text):
            fields.append((key, text))
        case .stringConvertible, .array:
            fields.append((key, value.description))
        }
    }

    /// Formats unix seconds as ISO 8601 in UTC with milliseconds: `2026-11-22T10:15:03.042Z`.
    static func timestamp(_ unixSeconds: Double) -> String {
        let milliseconds = Int64((unixSeconds * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(parts.tm_year + 1900, 4) + "-" + padded(parts.tm_mon + 1, 2) + "-" + padded(parts.tm_mday, 2)
            + "T" + padded(parts.tm_hour, 2) + ":" + padded(parts.tm_min, 2) + ":" + padded(parts.tm_sec, 2)
            + "." + padded(Int32(milliseconds % 1000), 3) + "Z"
    }
}
