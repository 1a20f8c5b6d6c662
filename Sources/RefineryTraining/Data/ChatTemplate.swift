import RefineryRecords

/// Who speaks a chat message.
public enum ChatRole: String, Sendable, CaseIterable {
    case system, user, assistant
}

/// One message of a chat, as in Hugging Face's `messages`.
public struct ChatMessage: Sendable, Equatable {
    /// Who speaks it.
    public var role: ChatRole
    /// What is said.
    public var content: String

    /// Creates a message.
    public init(role: ChatRole, content: String) {
        self.role = role
        self.content = content
    }
}

/// How records become tokens: the chat template and plain documents, over a ``BPETokenizer`` with the default
/// special tokens.
///
/// A chat renders each message as its role token (`<|system|>`, `<|user|>`, `<|assistant|>`), the content's tokens
/// and `<|end|>`, then `<|endoftext|>` after the last message. Only the assistant's words are trained on: its
/// content tokens and its `<|end|>` (so the model learns to stop); role tokens, system and user turns, and the final
/// `<|endoftext|>` are context. An assistant turn whose content is empty or only whitespace is not trained on at all
/// (an empty reply is not a behaviour to learn). A plain document is its tokens then `<|endoftext|>`, all trained.
///
/// Contents are encoded as ordinary text: a special token's spelling inside a message (`"<|assistant|>"`) becomes the
/// tokens of those characters, never the special token, so data cannot forge a turn boundary.
///
/// Not `Sendable` (the tokenizer caches): give each thread its own.
public struct ChatTemplate {
    /// The tokenizer.
    public let tokenizer: BPETokenizer
    /// `<|endoftext|>`: ends every example; also the padding token.
    public let endOfText: Int32
    /// `<|end|>`: ends every message.
    public let endOfMessage: Int32
    private let roleTokens: [ChatRole: Int32]

    /// Creates the template over a tokenizer.
    /// - Throws: ``RefineryError`` (code `usage`) when the tokenizer lacks one of the special tokens
    ///   `<|endoftext|> <|system|> <|user|> <|assistant|> <|end|>`.
    public init(tokenizer: BPETokenizer) throws {
        func special(_ token: String) throws -> Int32 {
            guard let id = tokenizer.id(ofSpecial: token) else {
                throw RefineryError(.usage, "the tokenizer has no special token \(token); train one with `refinery tokenizer train`")
            }
            return id
        }
        self.tokenizer = tokenizer
        endOfText = try special("<|endoftext|>")
        endOfMessage = try special("<|end|>")
        var roleTokens: [ChatRole: Int32] = [:]
        for role in ChatRole.allCases { roleTokens[role] = try special("<|\(role.rawValue)|>") }
        self.roleTokens = roleTokens
    }

    /// The token of a role.
    public func token(of role: ChatRole) -> Int32 { roleTokens[role] ?? endOfText }

    /// Token ids of ordinary text: special tokens' spellings in it are text, not special tokens.
    public func encodeText(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for piece in PreTokenizer.split(text) { ids += tokenizer.encodePiece(Array(piece.utf8)) }
        return ids
    }

    /// The tokens and loss mask of a chat, `<|endoftext|>` included (see the type's description for the rule).
    /// - Parameter messages: the chat's messages, in order.
    /// - Returns: token ids and, per token, whether predicting it is trained on.
    public func render(_ messages: [ChatMessage]) -> (tokens: [Int32], mask: [Bool]) {
        var tokens: [Int32] = []
        var mask: [Bool] = []
        for message in messages { append(message, to: &tokens, mask: &mask) }
        tokens.append(endOfText)
        mask.append(false)
        return (tokens, mask)
    }

    /// The tokens of a chat ready for the assistant's reply: the messages as in training, then `<|assistant|>`, so a
    /// model continues as the assistant (and says `<|end|>` when done).
    /// - Parameter messages: the chat so far.
    /// - Returns: token ids to feed a model.
    public func prompt(messages: [ChatMessage]) -> [Int32] {
        var tokens: [Int32] = []
        var mask: [Bool] = []
        for message in messages { append(message, to: &tokens, mask: &mask) }
        tokens.append(token(of: .assistant))
        return tokens
    }

    /// The tokens and mask of a plain document: its tokens then `<|endoftext|>`, every one trained on but the first
    /// (which has no context).
    public func render(text: String) -> (tokens: [Int32], mask: [Bool]) {
        var tokens = encodeText(text)
        tokens.append(endOfText)
        var mask = [Bool](repeating: true, count: tokens.count)
        mask[0] = false
        return (tokens, mask)
    }

    private func append(_ message: ChatMessage, to tokens: inout [Int32], mask: inout [Bool]) {
        let content = encodeText(message.content)
        let trained = message.role == .assistant && message.content.contains { !$0.isWhitespace }
        tokens.append(token(of: message.role))
        mask.append(false)
        tokens += content
        mask += repeatElement(trained, count: content.count)
        tokens.append(endOfMessage)
        mask.append(trained)
    }
}
