import RefineryRecords

/// Maps a parsed JSON object onto a ``Record``: the shared core of the JSON-lines formats.
///
/// Known fields (`text`, `messages`, `category`, `lang`, `reward`, `items`, `rewards`, `timestamps`, `scores`, `pii`, `meta`) fill the record and
/// are type-checked; every other field, `id` and `source` included, is kept under `meta` so nothing is lost.
enum JSONRecordMapping {
    static let roles: Set<String> = ["system", "user", "assistant", "tool"]

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(DecodeFailure) -> (members: [(key: String, value: JSONValue)], repairs: Int) {
        let parsed: (value: JSONValue, repairs: Int)
        do {
            parsed = try JSONParser.parse(bytes)
        } catch {
            throw DecodeFailure(reason: "invalid_json", detail: error.description)
        }
        guard case .object(let members) = parsed.value else {
            throw .wrongShape("expected a JSON object per line, found \(parsed.value.typeName)")
        }
        return (members, parsed.repairs)
    }

    static func fill(_ record: inout Record, from members: [(key: String, value: JSONValue)], skipping skipped: Set<String> = [])
        throws(DecodeFailure)
    {
        for (key, value) in members where !skipped.contains(key) {
            switch key {
            case "text":
                if case .null = value { continue }
                guard case .string(let text) = value else { throw .wrongShape("'text' must be a string, found \(value.typeName)") }
                record.text = text
            case "messages":
                if case .null = value { continue }
                record.messages = try messages(value)
            case "category":
                if case .null = value { continue }
                guard case .string(let text) = value else { throw .wrongShape("'category' must be a string, found \(value.typeName)") }
                record.category = text
            case "lang":
                if case .null = value { continue }
                guard case .string(let text) = value else { throw .wrongShape("'lang' must be a string, found \(value.typeName)") }
                record.lang = text
            case "reward":
                if case .null = value { continue }
                guard let reward = value.doubleValue else { throw .wrongShape("'reward' must be a number, found \(value.typeName)") }
                guard reward.isFinite, (0...1).contains(reward) else { throw DecodeFailure(reason: "invalid_reward", detail: "'reward' must be in [0, 1], found \(reward)") }
                record.reward = reward
            case "items", "rewards", "timestamps":
                if case .null = value { continue }
                guard case .array(let elements) = value else { throw .wrongShape("'\(key)' must be an array, found \(value.typeName)") }
                var history = record.interactions ?? Interactions()
                for (i, element) in elements.enumerated() {
                    switch key {
                    case "items":
                        guard case .string(let item) = element else { throw .wrongShape("items[\(i)] must be a string") }
                        history.items.append(item)
                    case "rewards":
                        guard let reward = element.doubleValue, reward.isFinite else { throw .wrongShape("rewards[\(i)] must be a number") }
                        history.rewards.append(reward)
                    default:
                        guard let time = element.doubleValue, let whole = Int64(exactly: time) else {
                            throw .wrongShape("timestamps[\(i)] must be a whole number of seconds")
                        }
                        history.timestamps.append(whole)
                    }
                }
                record.interactions = history
            case "scores":
                if case .null = value { continue }
                guard case .object(let scores) = value else { throw .wrongShape("'scores' must be an object, found \(value.typeName)") }
                for (name, score) in scores {
                    guard let number = score.doubleValue, number.isFinite else { throw .wrongShape("scores.\(name) must be a number") }
                    record.setScore(name, number)
                }
            case "pii":
                if case .null = value { continue }
                guard case .object(let counts) = value else { throw .wrongShape("'pii' must be an object, found \(value.typeName)") }
                for (name, count) in counts {
                    guard let number = count.doubleValue, number >= 0, let whole = Int(exactly: number) else {
                        throw .wrongShape("pii.\(name) must be a whole number from 0 to \(Int.max)")
                    }
                    record.pii.append((name, whole))
                }
            case "meta":
                switch value {
                case .null:
                    continue
                case .object(let extra):
                    record.meta.append(contentsOf: extra)
                case .string(let text):
                    // Refinery's own shards carry meta as a JSON string (see Record.writeJSON).
                    guard case .object(let extra)? = try? JSONParser.parse(Array(text.utf8)).value else {
                        throw .wrongShape("'meta' must be an object or a string holding a JSON object")
                    }
                    record.meta.append(contentsOf: extra)
                default:
                    throw .wrongShape("'meta' must be an object, found \(value.typeName)")
                }
            default:
                record.meta.append((key, value))
            }
        }
    }

    static func messages(_ value: JSONValue) throws(DecodeFailure) -> [Message] {
        guard case .array(let items) = value else { throw .wrongShape("'messages' must be an array, found \(value.typeName)") }
        var messages: [Message] = []
        messages.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .object(let fields) = item else { throw .wrongShape("messages[\(i)] must be an object, found \(item.typeName)") }
            var role: String?
            var content: String?
            for (key, field) in fields {
                switch key {
                case "role":
                    guard case .string(let text) = field else { throw .wrongShape("messages[\(i)].role must be a string") }
                    role = text
                case "content":
                    guard case .string(let text) = field else {
                        throw .wrongShape("messages[\(i)].content must be a string, found \(field.typeName)")
                    }
                    content = text
                default:
                    throw .wrongShape("messages[\(i)] has unsupported key '\(key)' (only role and content are kept)")
                }
            }
            guard let role else { throw .wrongShape("messages[\(i)] has no role") }
            guard roles.contains(role) else {
                throw .wrongShape("messages[\(i)].role '\(role)' is not one of system, user, assistant, tool")
            }
            guard let content else { throw .wrongShape("messages[\(i)] has no content") }
            messages.append(Message(role: role, content: content))
        }
        return messages
    }
}
