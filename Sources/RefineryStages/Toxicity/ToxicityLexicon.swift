import Foundation
import RefineryRecords

/// Word lists of abusive and obscene terms per language, matched on ``ToxText`` tokens.
///
/// Each term is normalised exactly as text is (so `Fück`, `FUCK` and `fuck` in a list are one term) and kept as a
/// hash. A one-word term matches a whole token: the token itself, the token with runs of three or more repeated
/// letters shortened to one or two (`fuuuck`, `asssss`), an English token with a plural or verb ending taken off
/// (`shits`, `fucking`, when the stem has at least four letters), or a masked token (`f*ck`, `f**k`, `sh#t`) that
/// equals the term with one or two of its letters after the first masked. A term of several words matches the
/// same words in a row. A term in a script written without spaces (Chinese, Japanese, Thai; Korean words carry
/// particles) matches anywhere inside a token, when it is at least two characters long.
///
/// The lists are plain text, one term per line, `#` for comments, one file per language named by its code
/// (`en.txt`); see `Resources/toxicity/README.md` for where the shipped lists come from.
public struct ToxicityLexicon: Sendable {
    /// Language codes with a list, sorted; list `i` is bit `i` of a ``TermTable`` mask, and bit `32 + i` marks its
    /// terms of ``longTerm`` letters or more.
    public let languages: [String]
    private let counts: [Int]
    private var words = TermTable()
    private var masked = MaskedTerms()
    private var phrases = TermTable()
    private var phraseStarts = TermTable()
    private var unspaced = TermTable()
    private var longestUnspaced = 0
    /// The lists that hold terms of unspaced scripts (bits as in the tables).
    private var unspacedLists: UInt64 = 0
    /// Hashes of the first two characters of unspaced terms: a substring that does not start like a term is
    /// abandoned after two characters instead of being extended to the longest term's length.
    private var unspacedPrefixes = TermTable()

    /// One match: where it is in the bytes that were scanned.
    public struct Match: Sendable, Equatable {
        public var bytes: Range<Int>
    }

    /// At most this many lists (one bit each in the low half of a mask).
    public static let maxLanguages = 32

    /// Builds a lexicon from term lists.
    /// - Parameter lists: language code → terms as written; at most ``maxLanguages`` languages.
    public init(lists: [String: [String]]) {
        precondition(lists.count <= Self.maxLanguages, "at most \(Self.maxLanguages) word lists")
        var languages: [String] = []
        var counts: [Int] = []
        var text = ToxText()
        for (index, (language, terms)) in lists.sorted(by: { $0.key < $1.key }).enumerated() {
            let bit = UInt64(1) << UInt64(index)
            let long = bit << 32
            var count = 0
            for term in terms {
                text.reset()
                var copy = term
                copy.withUTF8 { text.scan($0) }
                let tokens = text.tokens.filter { !$0.joined }
                guard !tokens.isEmpty else { continue }
                count += 1
                if tokens.count == 1 {
                    let token = tokens[0]
                    let scalars = Array(text.scalars(of: token))
                    if token.unspaced {
                        guard scalars.count >= 2 else { continue }
                        unspaced.insert(token.hash, bits: bit | long)
                        unspacedPrefixes.insert(ToxText.hash(scalars.prefix(2)), bits: bit | long)
                        unspacedLists |= bit | long
                        longestUnspaced = max(longestUnspaced, scalars.count)
                    } else {
                        let bits = scalars.count >= Self.longTerm ? bit | long : bit
                        words.insert(token.hash, bits: bits)
                        masked.insert(scalars, lists: bits)
                    }
                } else {
                    phraseStarts.insert(tokens[0].hash, bits: bit | long)
                    phrases.insert(Self.combine(tokens.map(\.hash)), bits: bit | long)
                }
            }
            languages.append(language)
            counts.append(count)
        }
        self.languages = languages
        self.counts = counts
    }

    /// Loads every `<code>.txt` in a folder.
    /// - Throws: ``RefineryError`` (`input`) when the folder cannot be read, holds no list or too many.
    public init(folder: String) throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw RefineryError(.input, "cannot read the toxicity word lists in \(folder)")
        }
        var lists: [String: [String]] = [:]
        for name in names.sorted() where name.hasSuffix(".txt") {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let content = String(data: data, encoding: .utf8) else {
                throw RefineryError(.input, "cannot read the word list \(path) as UTF-8")
            }
            lists[String(name.dropLast(4))] = content.split(whereSeparator: \.isNewline).compactMap { line in
                let term = Self.trimmed(line)
                return term.isEmpty || term.hasPrefix("#") ? nil : String(term)
            }
        }
        guard !lists.isEmpty else { throw RefineryError(.input, "no word lists (<language>.txt) in \(folder)") }
        guard lists.count <= Self.maxLanguages else {
            throw RefineryError(.input, "\(folder) holds \(lists.count) word lists; at most \(Self.maxLanguages) are supported")
        }
        self.init(lists: lists)
    }

    /// `line` without the blanks around it: tabs, space separators (Unicode's Zs) and the zero-width space, the
    /// characters Foundation's `CharacterSet.whitespaces` trims, found scalar by scalar (Foundation's trimming took most
    /// of the lists' loading).
    static func trimmed(_ line: Substring) -> Substring {
        let scalars = line.unicodeScalars
        func isBlank(_ scalar: Unicode.Scalar) -> Bool { scalar == "\t" || scalar == "\u{200B}" || scalar.properties.generalCategory == .spaceSeparator }
        guard let first = scalars.firstIndex(where: { !isBlank($0) }), let last = scalars.lastIndex(where: { !isBlank($0) }) else { return "" }
        return Substring(scalars[first...last])
    }

    /// Number of terms in a language's list (0 when it has none).
    public func termCount(_ language: String) -> Int {
        guard let index = languages.firstIndex(of: language) else { return 0 }
        return counts[index]
    }

    /// Terms shorter than this are matched only in their own language (and English): short words collide across
    /// languages (Turkish `am`, Swedish `fan`).
    static let longTerm = 4

    /// The mask of the lists to use for a record: the record's language's list and English (sworn in every
    /// language); when the language is unknown, English and the long terms of every other list.
    func lists(for language: String?) -> UInt64 {
        var bits: UInt64 = 0
        if let english = languages.firstIndex(of: "en") { bits |= 1 << UInt64(english) }
        if let language, language != "und" {
            if let own = languages.firstIndex(of: language) { bits |= 1 << UInt64(own) }
        } else {
            bits |= (UInt64(1) << UInt64(languages.count) - 1) << 32
        }
        return bits
    }

    /// Whether English endings are taken off words for the lists in `active`.
    private func stems(_ active: UInt64) -> Bool {
        guard let english = languages.firstIndex(of: "en") else { return false }
        return active & (1 << UInt64(english)) != 0
    }

    /// Appends the matches among `text`'s tokens in `range` (default all), using the lists in `active`.
    func matches(in text: ToxText, tokens range: Range<Int>? = nil, lists active: UInt64, into found: inout [Match]) {
        let range = range ?? text.tokens.indices
        let stems = stems(active)
        var variant: [UInt32] = []
        text.withBuffers { tokens, scalars in
            for t in range {
                let token = tokens[t]
                let letters = scalars[token.scalars]
                if token.unspaced {
                    if unspacedLists & active != 0 { matchUnspaced(letters, token: token, active: active, into: &found) }
                    continue
                }
                if matchesWord(token, letters, active: active, stems: stems, variant: &variant) {
                    found.append(Match(bytes: token.bytes))
                    continue
                }
                // Phrases: the next tokens of the text itself (not spelled-out joins).
                guard !token.joined, phraseStarts.lists(token.hash) & active != 0 else { continue }
                var hashes = [token.hash]
                var next = t + 1
                while hashes.count < 4, next < range.upperBound {
                    if tokens[next].joined { next += 1; continue }
                    hashes.append(tokens[next].hash)
                    if phrases.lists(Self.combine(hashes)) & active != 0 {
                        found.append(Match(bytes: token.bytes.lowerBound..<tokens[next].bytes.upperBound))
                        break
                    }
                    next += 1
                }
            }
        }
    }

    private func matchesWord(_ token: ToxToken, _ scalars: Slice<UnsafeBufferPointer<UInt32>>, active: UInt64, stems: Bool,
                             variant: inout [UInt32]) -> Bool {
        if token.masked { return masked.lists(scalars) & active != 0 }
        if words.lists(token.hash) & active != 0 { return true }
        // Runs of three or more of one letter, shortened to one and to two.
        if Self.hasLongRun(scalars) {
            for keep in 1...2 {
                Self.shortenRuns(scalars, keep: keep, into: &variant)
                if words.lists(ToxText.hash(variant)) & active != 0 { return true }
            }
        }
        // English endings, tried only when the word ends like one (s, d, g, n, r, y).
        if stems, scalars.count >= 5, let last = scalars.last, Self.isEndingLetter(last) {
            for suffix in Self.englishSuffixes where scalars.count - suffix.count >= 4 && scalars.suffix(suffix.count).elementsEqual(suffix) {
                if words.lists(ToxText.hash(scalars.dropLast(suffix.count))) & active != 0 { return true }
            }
        }
        return false
    }

    private func matchUnspaced(_ scalars: Slice<UnsafeBufferPointer<UInt32>>, token: ToxToken, active: UInt64,
                               into found: inout [Match]) {
        var start = scalars.startIndex
        while start < scalars.endIndex {
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            var end = start
            var matched = false
            while end < scalars.endIndex && end - start < longestUnspaced {
                h = (h ^ UInt64(scalars[end])) &* 0x0000_0100_0000_01B3
                end += 1
                if end - start == 2 && unspacedPrefixes.lists(h) & active == 0 { break }
                if end - start >= 2 && unspaced.lists(h) & active != 0 { matched = true; break }
            }
            if matched {
                // Substring offsets are not tracked back to bytes: the whole run of text is named.
                found.append(Match(bytes: token.bytes))
                start = end
            } else {
                start += 1
            }
        }
    }

    static let englishSuffixes: [[UInt32]] = ["s", "es", "ed", "ing", "in", "er", "ers", "y"].map { $0.unicodeScalars.map(\.value) }
    /// Whether a letter is the last one of an ending in ``englishSuffixes`` (s, d, g, n, r, y). Compared, not looked
    /// up in a `Set`, whose SipHash ran for most English words.
    @inline(__always)
    static func isEndingLetter(_ s: UInt32) -> Bool {
        s == 0x73 || s == 0x64 || s == 0x67 || s == 0x6E || s == 0x72 || s == 0x79
    }

    static func hasLongRun<C: Collection>(_ scalars: C) -> Bool where C.Element == UInt32 {
        var run = 1
        var previous: UInt32 = 0
        for s in scalars {
            run = s == previous ? run + 1 : 1
            if run >= 3 { return true }
            previous = s
        }
        return false
    }

    static func shortenRuns<C: Collection>(_ scalars: C, keep: Int, into out: inout [UInt32]) where C.Element == UInt32 {
        out.removeAll(keepingCapacity: true)
        var run = 0
        var previous: UInt32 = 0
        for s in scalars {
            run = s == previous ? run + 1 : 1
            previous = s
            if run <= keep { out.append(s) }
        }
    }

    /// One hash for a sequence of token hashes.
    static func combine(_ hashes: [UInt64]) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for x in hashes { h = (h ^ x) &* 0xFF51_AFD7_ED55_8CCD; h ^= h >> 33 }
        return h
    }
}
