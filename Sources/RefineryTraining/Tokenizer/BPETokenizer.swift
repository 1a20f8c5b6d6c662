import Foundation
import RefineryRecords

/// A byte-level BPE tokenizer in GPT-2's format: token ids 0–255 are the bytes, each merge adds one token, and
/// the special tokens come last. Saved as `vocab.json` + `merges.txt` (what `GPT2Tokenizer` reads) and
/// `tokenizer.json` + `tokenizer_config.json` (what `AutoTokenizer.from_pretrained(folder)` reads, with the special
/// tokens kept whole).
///
/// Encoding cuts text at the special tokens, pre-tokenises the rest (``PreTokenizer``) and applies the merges to
/// each piece by rank, lowest first, as GPT-2 does; pieces are cached.
public final class BPETokenizer {
    /// Special tokens: end of text and the chat roles of the chat template.
    public static let defaultSpecialTokens = ["<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]

    /// Token bytes by id (special tokens: their UTF-8).
    public let tokens: [[UInt8]]
    /// Merges in rank order, as token id pairs.
    public let merges: [(Int32, Int32)]
    public let specialTokens: [String]
    private let rank: [UInt64: Int32]
    private let mergedID: [UInt64: Int32]
    private let specialIDs: [String: Int32]
    private var cache: [[UInt8]: [Int32]] = [:]

    public var vocabularySize: Int { tokens.count }
    /// The id of a special token.
    public func id(ofSpecial token: String) -> Int32? { specialIDs[token] }

    /// Builds a tokenizer from merges (as learned by ``BPETrainer``).
    public init(merges learned: [(left: [UInt8], right: [UInt8])], specialTokens: [String] = BPETokenizer.defaultSpecialTokens) throws {
        var tokens = ByteLevel.bytesByID.map { [$0] }
        var idOf: [[UInt8]: Int32] = [:]
        for (id, token) in tokens.enumerated() { idOf[token] = Int32(id) }
        var merges: [(Int32, Int32)] = []
        var rank: [UInt64: Int32] = [:]
        var mergedID: [UInt64: Int32] = [:]
        for (index, merge) in learned.enumerated() {
            guard let a = idOf[merge.left], let b = idOf[merge.right] else {
                throw RefineryError(.input, "merge \(index + 1) joins a token no earlier merge made")
            }
            let joined = merge.left + merge.right
            let key = UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
            guard rank[key] == nil else { throw RefineryError(.input, "merge \(index + 1) repeats an earlier one") }
            let id = idOf[joined] ?? Int32(tokens.count)
            if id == Int32(tokens.count) {
                tokens.append(joined)
                idOf[joined] = id
            }
            merges.append((a, b))
            rank[key] = Int32(index)
            mergedID[key] = id
        }
        var specialIDs: [String: Int32] = [:]
        for token in specialTokens {
            specialIDs[token] = Int32(tokens.count)
            tokens.append(Array(token.utf8))
        }
        self.tokens = tokens
        self.merges = merges
        self.rank = rank
        self.mergedID = mergedID
        self.specialTokens = specialTokens
        self.specialIDs = specialIDs
    }

    /// Token ids of a text; special tokens written in it become their ids (the longest one starting at a `<|`,
    /// matched on bytes, as Hugging Face does, whatever follows it).
    /// - Complexity: one pass over the bytes to find the special tokens, then the pieces' merges.
    public func encode(_ text: String) -> [Int32] {
        let bytes = Array(text.utf8)
        var ids: [Int32] = []
        func plain(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            for piece in PreTokenizer.split(String(decoding: bytes[range], as: UTF8.self)) { ids += encodePiece(Array(piece.utf8)) }
        }
        var plainStart = 0
        var i = 0
        while i + 1 < bytes.count {
            guard bytes[i] == 0x3C && bytes[i + 1] == 0x7C else { // "<|"
                i += 1
                continue
            }
            let rest = bytes[i...]
            guard let special = specialTokens.filter({ rest.starts(with: $0.utf8) }).max(by: { $0.utf8.count < $1.utf8.count }) else {
                i += 1
                continue
            }
            plain(plainStart..<i)
            ids.append(specialIDs[special]!)
            i += special.utf8.count
            plainStart = i
        }
        plain(plainStart..<bytes.count)
        return ids
    }

    /// Token ids of one piece: its bytes merged by rank, lowest first.
    public func encodePiece(_ bytes: [UInt8]) -> [Int32] {
        if let cached = cache[bytes] { return cached }
        var symbols = bytes.map { ByteLevel.idOfByte[Int($0)] }
        while symbols.count > 1 {
            var best: (rank: Int32, at: Int)?
            for k in 0..<(symbols.count - 1) {
                if let r = rank[Self.key(symbols[k], symbols[k + 1])], r < (best?.rank ?? .max) { best = (r, k) }
            }
            guard let best else { break }
            let a = symbols[best.at], b = symbols[best.at + 1]
            let merged = mergedID[Self.key(a, b)]!
            var out: [Int32] = []
            out.reserveCapacity(symbols.count)
            var k = 0
            while k < symbols.count {
                if k + 1 < symbols.count && symbols[k] == a && symbols[k + 1] == b {
                    out.append(merged)
                    k += 2
                } else {
                    out.append(symbols[k])
                    k += 1
                }
            }
            symbols = out
        }
        if cache.count < 1 << 20 { cache[bytes] = symbols }
        return symbols
    }

    /// The text of token ids (invalid UTF-8 replaced).
    public func decode(_ ids: [Int32]) -> String {
        String(decoding: ids.flatMap { tokens[Int($0)] }, as: UTF8.self)
    }

    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }
}
