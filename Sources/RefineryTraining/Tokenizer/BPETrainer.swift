/// Learns byte-level BPE merges from pre-tokenised text (the algorithm of GPT-2's tokenizer and Hugging Face's
/// `BpeTrainer`): start from the 256 bytes, then repeatedly merge the most frequent adjacent pair of tokens,
/// counted over every distinct piece times its frequency, until the vocabulary is full or no pair occurs twice.
///
/// Ties go to the pair whose merged bytes sort first (then to the smaller token ids), so the merges depend only on the counts, never on hash
/// order. Each merge touches only the pieces that hold its pair (an index from pair to pieces), and the best pair
/// comes from a max-heap with stale entries skipped, so training is roughly linear in the corpus' distinct pieces.
public struct BPETrainer {
    /// Frequency of each distinct piece (its UTF-8 bytes).
    public private(set) var pieces: [[UInt8]: Int] = [:]

    public init() {}

    /// Counts the pieces of one text.
    public mutating func add(_ text: String) {
        for piece in PreTokenizer.split(text) { pieces[Array(piece.utf8), default: 0] += 1 }
    }

    /// Learns merges until the vocabulary has `vocabularySize` tokens besides the special ones.
    /// - Returns: the merges in the order learned (each a pair of token byte strings).
    public func train(vocabularySize: Int) -> [(left: [UInt8], right: [UInt8])] {
        var tokens: [[UInt8]] = ByteLevel.bytesByID.map { [$0] }
        let idOfByte = ByteLevel.idOfByte

        // Pieces in a fixed order (by bytes), as token-id sequences.
        let sorted = pieces.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var words = sorted.map { $0.key.map { idOfByte[Int($0)] } }
        let counts = sorted.map(\.value)

        var pairCounts: [UInt64: Int] = [:]
        var where_: [UInt64: [Int32]] = [:]
        let key = BPETokenizer.key
        for (w, word) in words.enumerated() where word.count > 1 {
            for k in 0..<(word.count - 1) {
                let pair = key(word[k], word[k + 1])
                pairCounts[pair, default: 0] += counts[w]
                where_[pair, default: []].append(Int32(w))
            }
        }
        var heap = PairHeap()
        for (pair, count) in pairCounts { heap.push(count: count, pair: pair, bytes: tokens[Int(pair >> 32)] + tokens[Int(pair & 0xFFFF_FFFF)]) }

        var merges: [(left: [UInt8], right: [UInt8])] = []
        while tokens.count < vocabularySize, let top = heap.pop() {
            guard pairCounts[top.pair] == top.count else { continue } // stale
            guard top.count >= 2 else { break }
            let a = Int32(top.pair >> 32), b = Int32(top.pair & 0xFFFF_FFFF)
            let merged = Int32(tokens.count)
            tokens.append(top.bytes)
            merges.append((tokens[Int(a)], tokens[Int(b)]))
            var changed: Set<UInt64> = []
            var seen: Set<Int32> = []
            for w in where_[top.pair] ?? [] where seen.insert(w).inserted {
                let old = words[Int(w)]
                guard old.count > 1 else { continue }
                var new: [Int32] = []
                new.reserveCapacity(old.count)
                var k = 0
                var hit = false
                while k < old.count {
                    if k + 1 < old.count && old[k] == a && old[k + 1] == b {
                        new.append(merged)
                        k += 2
                        hit = true
                    } else {
                        new.append(old[k])
                        k += 1
                    }
                }
                guard hit else { continue }
                let count = counts[Int(w)]
                for k in 0..<(old.count - 1) {
                    let pair = key(old[k], old[k + 1])
                    pairCounts[pair, default: 0] -= count
                    changed.insert(pair)
                }
                for k in 0..<max(0, new.count - 1) {
                    let pair = key(new[k], new[k + 1])
                    pairCounts[pair, default: 0] += count
                    changed.insert(pair)
                    if new[k] == merged || new[k + 1] == merged { where_[pair, default: []].append(w) }
                }
                words[Int(w)] = new
            }
            where_[top.pair] = nil
            for pair in changed {
                let count = pairCounts[pair] ?? 0
                if count <= 0 {
                    pairCounts[pair] = nil
                } else {
                    heap.push(count: count, pair: pair, bytes: tokens[Int(pair >> 32)] + tokens[Int(pair & 0xFFFF_FFFF)])
                }
            }
        }
        return merges
    }
}

/// A max-heap of pair counts; ties to the pair whose merged bytes sort first.
struct PairHeap {
    struct Entry {
        var count: Int
        var pair: UInt64
        var bytes: [UInt8]
        func before(_ other: Entry) -> Bool {
            if count != other.count { return count > other.count }
            if bytes != other.bytes { return bytes.lexicographicallyPrecedes(other.bytes) }
            return pair < other.pair
        }
    }
    private var items: [Entry] = []

    mutating func push(count: Int, pair: UInt64, bytes: [UInt8]) {
        items.append(Entry(count: count, pair: pair, bytes: bytes))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].before(items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < items.count && items[l].before(items[best]) { best = l }
            if r < items.count && items[r].before(items[best]) { best = r }
            if best == i { break }
            items.swapAt(i, best)
            i = best
        }
        return top
    }
}
