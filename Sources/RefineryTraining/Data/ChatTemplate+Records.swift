import RefineryRecords
import RefineryShards

/// What a record became: an example, or a reason it could not be one.
public enum ExampleOutcome: Sendable, Equatable {
    /// The record's example, not yet cut to the context.
    case example(TrainingExample)
    /// The record gives no example, for this reason.
    case skipped(SkipReason)
}

extension ChatMessage {
    /// The messages of a record's `messages` array.
    /// - Returns: the messages in order.
    /// - Throws: ``SkipError`` saying why they cannot be read (``SkipReason/malformedMessages``,
    ///   ``SkipReason/unknownRole``).
    public static func messages(of array: [JSONValue]) throws(SkipError) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        messages.reserveCapacity(array.count)
        for value in array {
            guard let role = value["role"]?.stringValue, let content = value["content"]?.stringValue else {
                throw SkipError(reason: .malformedMessages)
            }
            guard let known = ChatRole(rawValue: role) else { throw SkipError(reason: .unknownRole) }
            messages.append(ChatMessage(role: known, content: content))
        }
        return messages
    }
}

/// A ``SkipReason`` thrown by ``ChatMessage/messages(of:)``.
public struct SkipError: Error, Sendable, Equatable {
    /// Why.
    public let reason: SkipReason
}

extension ChatTemplate {
    /// The training example of a record: a chat (`messages`) through the template, else a document (`text`).
    ///
    /// Interaction histories (`items`) and records with neither are skipped, and so is a record none of whose tokens
    /// would be trained on (``SkipReason/noTargets``): the caller reports it rather than train on nothing.
    /// - Parameters:
    ///   - record: the record's JSON object.
    ///   - id: its id (``DatasetRecord/id``).
    /// - Returns: the example with the record's `reward`, `category` and `source`, or the reason it has none.
    public func example(from record: JSONValue, id: String) -> ExampleOutcome {
        let rendered: (tokens: [Int32], mask: [Bool])
        if case .array(let array)? = record["messages"] {
            do {
                rendered = render(try ChatMessage.messages(of: array))
            } catch {
                return .skipped(error.reason)
            }
        } else if let text = record["text"]?.stringValue {
            rendered = render(text: text)
        } else if record["items"] != nil {
            return .skipped(.interactions)
        } else {
            return .skipped(.noText)
        }
        let example = TrainingExample(id: id, tokens: rendered.tokens, mask: rendered.mask, reward: record["reward"]?.doubleValue,
                                      category: record["category"]?.stringValue, source: record["source"]?.stringValue)
        return example.targetCount > 0 ? .example(example) : .skipped(.noTargets)
    }
}
