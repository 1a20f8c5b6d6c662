/// The lexicon's one-word terms of three letters or more, for masked tokens (`f*ck`, `f**k`, `sh#t`): a token matches
/// a term of its length and first letter when every letter it shows is the term's, and it masks one, or for terms of
/// up to eight letters two, of the term's letters after the first.
///
/// Terms are grouped by length and first letter and compared letter by letter. The lexicon used to hash every masked
/// form of every term into a table instead: about 260,000 forms for the shipped lists, built in every process that
/// scores toxicity, for tokens that are rare in text. A group holds a few dozen terms at most, and only a token that
/// has a mask in it reads one.
struct MaskedTerms: Sendable {
    private struct Term: Sendable {
        var start: Int
        var lists: UInt64
    }

    /// Every term's letters, one after another.
    private var letters: [UInt32] = []
    /// Length and first letter (``key(_:_:)``) → the terms with them, in the order they were added.
    private var groups: [UInt64: [Term]] = [:]

    /// Shorter terms are not matched masked.
    static let shortest = 3
    /// Terms up to this long match with two letters masked; longer ones with one.
    static let longestWithTwoMasks = 8

    /// Adds a term (its normalised scalars) held by the lists in `lists`.
    mutating func insert(_ term: [UInt32], lists: UInt64) {
        guard term.count >= Self.shortest else { return }
        groups[Self.key(term.count, term[0]), default: []].append(Term(start: letters.count, lists: lists))
        letters.append(contentsOf: term)
    }

    /// The lists holding a term that `token` (normalised scalars, masks as ``ToxText/star``) is a masked form of; 0
    /// when none.
    func lists(_ token: Slice<UnsafeBufferPointer<UInt32>>) -> UInt64 {
        let count = token.count
        guard count >= Self.shortest, let first = token.first, first != ToxText.star else { return 0 }
        let masks = token.reduce(0) { $0 + ($1 == ToxText.star ? 1 : 0) }
        guard masks >= 1, masks <= (count <= Self.longestWithTwoMasks ? 2 : 1),
              let group = groups[Self.key(count, first)] else { return 0 }
        var found: UInt64 = 0
        for term in group where found & term.lists != term.lists {
            var offset = term.start + 1
            var index = token.startIndex + 1
            var same = true
            while index < token.endIndex {
                let letter = token[index]
                if letter != ToxText.star && letter != letters[offset] { same = false; break }
                index += 1
                offset += 1
            }
            if same { found |= term.lists }
        }
        return found
    }

    private static func key(_ count: Int, _ first: UInt32) -> UInt64 { UInt64(count) << 32 | UInt64(first) }
}
