/// Gopher's word n-gram repetition rules.
extension QualitySignals {
    /// The base of the polynomial n-gram hashes: `prefix[w + 1] = prefix[w] * base + hash of word w`.
    static let ngramBase: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// For n = 2, 3, 4, the share of characters covered by the most frequent n-gram (its count times its
    /// characters; nothing when no n-gram repeats); for n = 5…10, the share covered by all occurrences of every
    /// n-gram that occurs more than once. `prefix` holds the prefix sums of the word hashes (see ``ngramBase``; one
    /// more than the words, which are at least 2), `characters` the words' lengths and `totalCharacters` their sum.
    ///
    /// An n-gram's hash comes from prefix sums of a polynomial over word hashes, so each costs O(1) whatever n is,
    /// and n-grams are counted in a ``HashCounter``. The nine passes are chained: the (n+1)-gram at a position can
    /// only repeat where the n-grams at that position and at the next one both repeat, so pass n+1 inserts only
    /// those positions. Every occurrence of every repeated (n+1)-gram is among them, in the same order, so counts,
    /// first occurrences and covered words come out as in a pass over all positions (up to 64-bit hash collisions);
    /// the positions left out hold n-grams seen once, which no rule counts. On the licence texts of the quality
    /// evaluation pass 3 inserts 8% of the positions and pass 5 under 2% (on the generated benchmark corpus, 5% and
    /// none), so the nine passes cost little more than the first one; they used to cost nine.
    /// - Complexity: O(words × n) when every n-gram repeats (one word over and over), O(words) on ordinary text.
    /// The table and arrays are `buffers`' (a worker's; their contents on entry do not matter).
    static func ngramRepetition(prefix: [UInt64], characters: [Int32], totalCharacters: Int,
                                buffers: inout QualityBuffers) -> (top: [Double], duplicate: [Double]) {
        let words = characters.count
        let totalCharacters = max(1, totalCharacters)

        var top: [Double] = []
        var duplicate: [Double] = []
        top.reserveCapacity(3)
        duplicate.reserveCapacity(6)
        // Taken out of `buffers` for the passes (the closures below use them beside the table) and put back after.
        var table = HashCounter()
        var repeatsUpTo: [UInt8] = []
        var coveredAt: [UInt8] = []
        var candidates: [Int] = []
        swap(&table, &buffers.ngrams)
        swap(&repeatsUpTo, &buffers.repeatsUpTo)
        swap(&coveredAt, &buffers.coveredAt)
        swap(&candidates, &buffers.candidates)
        defer {
            swap(&table, &buffers.ngrams)
            swap(&repeatsUpTo, &buffers.repeatsUpTo)
            swap(&coveredAt, &buffers.coveredAt)
            swap(&candidates, &buffers.candidates)
        }
        // For each position, the last n whose n-gram there repeats (so the array needs no clearing between passes).
        QualityBuffers.zero(&repeatsUpTo, count: words)
        // For each word, the last n for which it was counted as covered.
        QualityBuffers.zero(&coveredAt, count: words)
        // The positions the next pass inserts, in order.
        candidates.removeAll(keepingCapacity: true)
        // base^n: an n-gram's hash is prefix[start + n] - prefix[start] * base^n (then XOR n).
        var power = Self.ngramBase
        for n in 2...10 {
            power = power &* Self.ngramBase
            // Pass 2 inserts every position; the others only the candidates the previous pass left.
            let inserts = n == 2 ? words - 1 : candidates.count
            table.reset(for: inserts)
            var best = (count: 1, characters: 0)
            var covered = 0
            table.withInserter { table in prefix.withUnsafeBufferPointer { prefix in
                for k in 0..<inserts {
                    let start = n == 2 ? k : candidates[k]
                    let hash = (prefix[start + n] &- prefix[start] &* power) ^ UInt64(n)
                    let (count, first) = table.add(hash, at: start)
                    guard count > 1 else { continue }
                    repeatsUpTo[start] = UInt8(n)
                    if count == 2 { repeatsUpTo[first] = UInt8(n) }
                    if n <= 4 {
                        var length = 0
                        for w in first..<(first + n) { length += Int(characters[w]) }
                        if count > best.count || (count == best.count && length > best.characters) {
                            best = (count, length)
                        }
                    } else {
                        // This occurrence, and the first one when it is the first repeat.
                        for w in start..<(start + n) where coveredAt[w] != n {
                            coveredAt[w] = UInt8(n)
                            covered += Int(characters[w])
                        }
                        if count == 2 {
                            for w in first..<(first + n) where coveredAt[w] != n {
                                coveredAt[w] = UInt8(n)
                                covered += Int(characters[w])
                            }
                        }
                    }
                }
            } }
            if n <= 4 {
                top.append(best.count > 1 ? min(1, Double(best.count * best.characters) / Double(totalCharacters)) : 0)
            } else {
                duplicate.append(Double(covered) / Double(totalCharacters))
            }
            // The next candidates: positions (all of them after pass 2, this pass's candidates after the others)
            // where this n-gram and the next one both repeat.
            if n == 2 {
                for start in 0..<max(0, words - 2) where repeatsUpTo[start] == 2 && repeatsUpTo[start + 1] == 2 {
                    candidates.append(start)
                }
            } else {
                candidates.removeAll { start in start + n + 1 > words || repeatsUpTo[start] != n || repeatsUpTo[start + 1] != n }
            }
        }
        return (top, duplicate)
    }
}
