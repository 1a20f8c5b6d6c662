extension Record {
    /// Appends the record as one compact JSON object (no newline), fields in DESIGN.md's order:
    /// id, source, category, lang, text | messages, reward, scores, pii, meta. Absent fields are omitted.
    public func writeJSON(to writer: inout JSONWriter) {
        writer.raw("{\"id\":")
        writer.string(id)
        writer.raw(",\"source\":")
        writer.string(source)
        if let category {
            writer.raw(",\"category\":")
            writer.string(category)
        }
        if let lang {
            writer.raw(",\"lang\":")
            writer.string(lang)
        }
        if let text {
            writer.raw(",\"text\":")
            writer.string(text)
        }
        if let messages {
            writer.raw(",\"messages\":[")
            for (i, message) in messages.enumerated() {
                if i > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.raw("{\"role\":")
                writer.string(message.role)
                writer.raw(",\"content\":")
                writer.string(message.content)
                writer.byte(UInt8(ascii: "}"))
            }
            writer.byte(UInt8(ascii: "]"))
        }
        if let reward {
            writer.raw(",\"reward\":")
            writer.number(reward)
        }
        if !scores.isEmpty {
            writer.raw(",\"scores\":{")
            for (i, score) in scores.enumerated() {
                if i > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.key(score.key)
                writer.number(score.value)
            }
            writer.byte(UInt8(ascii: "}"))
        }
        if !pii.isEmpty {
            writer.raw(",\"pii\":{")
            for (i, count) in pii.enumerated() {
                if i > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.key(count.key)
                writer.number(count.value)
            }
            writer.byte(UInt8(ascii: "}"))
        }
        if !meta.isEmpty {
            writer.raw(",\"meta\":")
            writer.value(.object(meta))
        }
        writer.byte(UInt8(ascii: "}"))
    }

    /// The record as a JSON string, for messages and tests.
    public var jsonString: String {
        var writer = JSONWriter()
        writeJSON(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
