extension Record {
    /// Appends the record as one compact JSON object (no newline).
    ///
    /// Every record has the same keys in the same order — `id`, `source`, `category`, `lang`, `text`,
    /// `messages`, `reward`, `items`, `rewards`, `timestamps`, `scores`, `pii`, `meta` — with `null` for what it lacks, and
    /// `meta` (whose keys differ from source to source) as a JSON string, and rewards and scores always as floats
    /// (`0.0`, not `0`). A fixed schema is what lets Arrow-based readers (Hugging Face `datasets`, pandas with
    /// pyarrow) load chats and documents from several sources as one table.
    public func writeJSON(to writer: inout JSONWriter) {
        writer.raw("{\"id\":")
        writer.string(id)
        writer.raw(",\"source\":")
        writer.string(source)
        writer.raw(",\"category\":")
        if let category { writer.string(category) } else { writer.raw("null") }
        writer.raw(",\"lang\":")
        if let lang { writer.string(lang) } else { writer.raw("null") }
        writer.raw(",\"text\":")
        if let text { writer.string(text) } else { writer.raw("null") }
        writer.raw(",\"messages\":")
        if let messages {
            writer.byte(UInt8(ascii: "["))
            for (i, message) in messages.enumerated() {
                if i > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.raw("{\"role\":")
                writer.string(message.role)
                writer.raw(",\"content\":")
                writer.string(message.content)
                writer.byte(UInt8(ascii: "}"))
            }
            writer.byte(UInt8(ascii: "]"))
        } else {
            writer.raw("null")
        }
        writer.raw(",\"reward\":")
        if let reward { writer.float(reward) } else { writer.raw("null") }
        if let interactions {
            writer.raw(",\"items\":[")
            for (i, item) in interactions.items.enumerated() {
                if i > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.string(item)
            }
            writer.raw("],\"rewards\":[")
            for (i, reward) in interactions.rewards.enumerated() {
                if i > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.float(reward)
            }
            writer.raw("],\"timestamps\":[")
            for (i, time) in interactions.timestamps.enumerated() {
                if i > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.number(Int(time))
            }
            writer.byte(UInt8(ascii: "]"))
        } else {
            writer.raw(",\"items\":null,\"rewards\":null,\"timestamps\":null")
        }
        if scores.isEmpty {
            writer.raw(",\"scores\":null")
        } else {
            writer.raw(",\"scores\":{")
            for (i, score) in scores.enumerated() {
                if i > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.key(score.key)
                writer.float(score.value)
            }
            writer.byte(UInt8(ascii: "}"))
        }
        if pii.isEmpty {
            writer.raw(",\"pii\":null")
        } else {
            writer.raw(",\"pii\":{")
            for (i, count) in pii.enumerated() {
                if i > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.key(count.key)
                writer.number(count.value)
            }
            writer.byte(UInt8(ascii: "}"))
        }
        writer.raw(",\"meta\":")
        if meta.isEmpty {
            writer.raw("null")
        } else {
            var inner = JSONWriter()
            inner.value(.object(meta))
            writer.string(String(decoding: inner.bytes, as: UTF8.self))
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
