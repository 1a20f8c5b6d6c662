import Foundation
import RefineryRecords

/// The item tokens of a generative recommender: `<bos>` (0, the start of a history, also padding), `<unk>` (1,
/// every item seen fewer than `minCount` times in training) and the items, most frequent first (ties by id in
/// byte order), from 2. Saved beside the model as `items.json`.
public struct ItemVocabulary: Codable, Sendable, Equatable {
    public static let beginToken: Int32 = 0
    public static let unknownToken: Int32 = 1
    /// Tokens before the first item.
    public static let reserved = 2

    /// Item ids in token order (token `reserved + i` is `items[i]`).
    public private(set) var items: [String]
    /// Fewest training events an item needs to get its own token.
    public var minCount: Int
    private var index: [String: Int32] = [:]

    private enum CodingKeys: String, CodingKey { case items, minCount = "min_count" }

    /// Learns the vocabulary from training sequences.
    public init(training: [TrainingSequence], minCount: Int) {
        var counts: [String: Int] = [:]
        for sequence in training { for item in sequence.items { counts[item, default: 0] += 1 } }
        let kept = counts.filter { $0.value >= minCount }.sorted {
            $0.value != $1.value ? $0.value > $1.value : Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8))
        }
        self.init(items: kept.map(\.key), minCount: minCount)
    }

    public init(items: [String], minCount: Int) {
        self.items = items
        self.minCount = minCount
        buildIndex()
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        items = try container.decode([String].self, forKey: .items)
        minCount = try container.decode(Int.self, forKey: .minCount)
        buildIndex()
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(minCount, forKey: .minCount)
    }

    private mutating func buildIndex() {
        index = Dictionary(uniqueKeysWithValues: items.enumerated().map { ($0.element, Int32($0.offset + Self.reserved)) })
    }

    /// Tokens in all, the model's vocabulary size.
    public var count: Int { items.count + Self.reserved }

    /// The token of an item id (`<unk>` when it has none).
    public func token(_ item: String) -> Int32 { index[item] ?? Self.unknownToken }

    /// The item id of an item token, `nil` for `<bos>` and `<unk>`.
    public func item(_ token: Int32) -> String? {
        let i = Int(token) - Self.reserved
        return items.indices.contains(i) ? items[i] : nil
    }

    /// Writes `items.json` into `directory`.
    public func save(to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let path = (directory as NSString).appendingPathComponent("items.json")
        do { try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw RefineryError(.output, "cannot write the item vocabulary: \((error as NSError).localizedDescription)", at: SourceLocation(file: path))
        }
    }

    /// Reads `items.json` from `directory`.
    public static func load(from directory: String) throws -> ItemVocabulary {
        let path = (directory as NSString).appendingPathComponent("items.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RefineryError(.input, "no item vocabulary (items.json) in \(directory); is it a recommender's output folder?", at: SourceLocation(file: path))
        }
        do { return try JSONDecoder().decode(ItemVocabulary.self, from: data) } catch {
            throw RefineryError(.integrity, "items.json is not an item vocabulary: \(error)", at: SourceLocation(file: path))
        }
    }
}
