import Foundation

/// One word of text as the toxicity lexicon and classifier see it: case-folded, diacritics removed, leetspeak,
/// homoglyphs and zero-width characters undone.
struct ToxToken: Sendable, Equatable {
    /// FNV-1a of the normalised scalars (``ToxText/hash(_:)``).
    var hash: UInt64
    /// Where the normalised scalars are in ``ToxText/scalars``.
    var scalars: Range<Int>
    /// Byte range in the UTF-8 that was read, for details and reject excerpts.
    var bytes: Range<Int>
    /// Written in a script without spaces between words (Han, kana, Hangul, Thai): matched by substring.
    var unspaced: Bool
    /// Held `*` or `#` between letters (`f*ck`), matched against the lexicon's masked forms.
    var masked: Bool
    /// A spelled-out word (`f.u.c.k`, `f u c k`) joined from single letters, not a word of the text itself.
    var joined: Bool
    /// The one ASCII byte between this token and the one before (0 when there were several or none).
    var separatorBefore: UInt8 = 0
}

/// Splits UTF-8 text into ``ToxToken``s the way obfuscated abuse has to be read.
///
/// What normalisation undoes, each because word lists are otherwise evaded by it:
/// - case and diacritics (`FÜCK`, `pütä`): folded with Foundation's case- and diacritic-insensitive folding, one
///   table for the first 8 192 scalars (Latin, Greek, Cyrillic, Hebrew, Arabic, Devanagari, Vietnamese) built
///   once, so the scan does no Unicode property lookups for them; full-width forms read as ASCII;
/// - leetspeak (`sh1t`, `@ss`, `$hit`, `a55`): digits and `@ $ ! | +` inside a word that has a letter become the
///   letters they stand for; a word of digits alone stays a number;
/// - masks (`f*ck`, `sh#t`): `*` and `#` between letters stay as wildcards, matched against masked lexicon forms;
/// - homoglyphs: in a word mixing Latin with Cyrillic or Greek letters, the minority script's look-alikes (`а е о
///   р с х у і`, `α ο ε ι κ ν ρ τ υ χ`) become the majority script's;
/// - zero-width and soft-hyphen characters, combining marks, and apostrophes inside a word are dropped;
/// - separators (`f.u.c.k`, `f-u-c-k`, `f u c k`): three or more single letters separated by one of `. - _` or a
///   space give an extra, joined token.
/// Repeated letters (`fuuuck`) are left to the lexicon, which tries the word with runs shortened.
///
/// Word boundaries are kept: a token is a whole word, so `Scunthorpe`, `assessment` and `cocktail` are one token
/// each and never match `cunt`, `ass` or `cock`. Scripts without spaces are the exception (see ``ToxToken``).
///
/// Runs of ASCII letters, most of most texts, are found eight bytes at a time (``ByteLanes``) and added without
/// table lookups, and a word of ASCII letters only skips trimming and undoing; with the lexicon's filtered
/// ``TermTable`` that took the toxicity stage from 43.5 to 51 MB/s on one core (`tools/bench/text_stages.sh`; the
/// stage's time relative to `validate`'s in the same runs fell by a quarter).
struct ToxText {
    /// Normalised scalars of all tokens, back to back.
    private(set) var scalars: [UInt32] = []
    private(set) var tokens: [ToxToken] = []

    /// Empties the buffers, keeping their storage.
    mutating func reset() {
        scalars.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
    }

    /// The normalised scalars of a token.
    func scalars(of token: ToxToken) -> ArraySlice<UInt32> { scalars[token.scalars] }

    /// Calls `body` with the tokens and scalars as raw buffers (no retain per word in hot loops).
    func withBuffers<R>(_ body: (UnsafeBufferPointer<ToxToken>, UnsafeBufferPointer<UInt32>) throws -> R) rethrows -> R {
        try tokens.withUnsafeBufferPointer { tokens in try scalars.withUnsafeBufferPointer { try body(tokens, $0) } }
    }

    /// FNV-1a over scalars; the hash lexicon terms and tokens are compared by.
    static func hash<C: Collection>(_ scalars: C) -> UInt64 where C.Element == UInt32 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for s in scalars {
            h = (h ^ UInt64(s)) &* 0x0000_0100_0000_01B3
        }
        return h
    }

    // MARK: Scanning

    /// Appends the tokens of `bytes` (UTF-8; invalid bytes are boundaries). Byte ranges are offset by `base`.
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>, base: Int = 0) {
        var current = WordBuilder(start: scalars.count)
        let firstToken = tokens.count
        // The boundary bytes since the last word: one ASCII byte makes a separator for spelled-out words.
        var gapByte: UInt8 = 0
        var gapCount = 0
        var i = 0
        let n = bytes.count
        scalars.reserveCapacity(scalars.count + n)
        tokens.reserveCapacity(tokens.count + n / 5)
        // The table once, not a lazy-global check per scalar.
        let table = CharClass.table
        while i < n {
            if (bytes[i] | 0x20) &- 0x61 < 26 {
                // A run of ASCII letters (most of most texts), found eight bytes at a time and added at once: each
                // is a Latin letter folding to its lower case, as `CharClass.table` says, so the run needs no lookups.
                if current.isEmpty {
                    current.byteStart = i
                    current.separatorBefore = gapCount == 1 ? gapByte : 0
                    gapCount = 0
                }
                let end = Self.endOfASCIILetterRun(bytes, from: i + 1)
                current.addASCIILetters(UnsafeBufferPointer(rebasing: bytes[i..<end]), scalars: &scalars)
                current.byteEnd = end
                i = end
                continue
            }
            let (scalar, length) = Self.decode(bytes, at: i)
            let entry = scalar < UInt32(CharClass.tableSize) ? table[Int(scalar)] : CharClass.beyondTable(scalar)
            // Compared, not switched on: a boundary (a space, punctuation), the most common case here, then a
            // letter or digit. The switch's jump table was an indirect branch per non-letter byte.
            let kind = entry.kind
            var takes = false
            if kind == .boundary {
                finish(&current, base: base)
                gapByte = length == 1 ? bytes[i] : 0
                gapCount += 1
            } else if kind == .letter || kind == .digit {
                takes = true
            } else if kind == .leet || kind == .mask {
                // Inside a word, or starting one when a letter or digit follows (`$hit`, `@ss`).
                takes = !current.isEmpty || (i + length < n && Self.isWordScalar(bytes, at: i + length))
            }
            // An ignorable character (zero-width, soft hyphen, an apostrophe inside a word) neither ends a word nor
            // joins it.
            if takes {
                if current.isEmpty {
                    current.byteStart = i
                    current.separatorBefore = gapCount == 1 ? gapByte : 0
                    gapCount = 0
                }
                current.add(entry, scalars: &scalars)
                current.byteEnd = i + length
            }
            i += length
        }
        finish(&current, base: base)
        joinSpelledOut(from: firstToken, in: bytes, base: base)
    }

    /// The end of the run of ASCII letters at `start`, eight bytes per step.
    @inline(__always)
    static func endOfASCIILetterRun(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        ByteLanes.endOfRun(bytes, from: start, lanes: ByteLanes.letter, byte: { ($0 | 0x20) &- 0x61 < 26 })
    }

    /// The scalar at `i` and its length; an invalid or truncated sequence reads as one boundary byte.
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { return (b0, 1) }
        let n = bytes.count
        if b0 >= 0xC2 && b0 < 0xE0 && i + 1 < n && bytes[i + 1] & 0xC0 == 0x80 {
            return ((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F), 2)
        }
        if b0 >= 0xE0 && b0 < 0xF0 && i + 2 < n && bytes[i + 1] & 0xC0 == 0x80 && bytes[i + 2] & 0xC0 == 0x80 {
            return ((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F), 3)
        }
        if b0 >= 0xF0 && b0 < 0xF5 && i + 3 < n && bytes[i + 1] & 0xC0 == 0x80 && bytes[i + 2] & 0xC0 == 0x80
            && bytes[i + 3] & 0xC0 == 0x80 {
            return ((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                | UInt32(bytes[i + 3] & 0x3F), 4)
        }
        return (0xFFFD, 1)
    }

    private static func isWordScalar(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        let kind = CharClass.of(decode(bytes, at: i).0).kind
        return kind == .letter || kind == .digit || kind == .leet
    }

    /// Closes the word being built: trims masks and leet symbols at its ends, undoes leetspeak and homoglyphs when
    /// it has letters, and appends it.
    private mutating func finish(_ word: inout WordBuilder, base: Int) {
        defer { word = WordBuilder(start: scalars.count) }
        guard !word.isEmpty else { return }
        var start = word.start
        var end = scalars.count
        var masked = false
        // A word of ASCII letters only (most words) has nothing to trim or undo: its scalars are `a`…`z`.
        if word.asciiLetters < word.count {
            // `hello!`, `*sigh*`: punctuation-like symbols at a word's ends are not part of it; `$` and `@` are kept
            // at the start (`$hit`, `@ss`) and `$` at the end (`a$$`).
            while start < end, scalars[start] == Self.bang || scalars[start] == Self.bar || scalars[start] == Self.plus
                    || scalars[start] == Self.star || scalars[start] == Self.hashSign { start += 1 }
            while end > start, scalars[end - 1] != Self.dollar, Self.isSymbol(scalars[end - 1]) { end -= 1 }
            guard start < end else {
                scalars.removeSubrange(word.start...)
                return
            }
            // A number, or symbols, without letters is kept as written, so `1`, `3` stay numbers.
            if word.letters > 0 {
                for k in start..<end {
                    let s = scalars[k]
                    if s == Self.star || s == Self.hashSign { scalars[k] = Self.star; masked = true; continue }
                    if let letter = Self.leet(s) { scalars[k] = letter }
                }
                if word.latin > 0 && word.cyrillic + word.greek > 0 {
                    Self.unifyHomoglyphs(&scalars[start..<end], toLatin: word.latin >= word.cyrillic + word.greek)
                }
            }
        }
        tokens.append(ToxToken(hash: Self.hash(scalars[start..<end]), scalars: start..<end,
                               bytes: (base + word.byteStart)..<(base + word.byteEnd),
                               unspaced: word.unspaced > 0 && word.latin + word.cyrillic + word.greek == 0,
                               masked: masked, joined: false, separatorBefore: word.separatorBefore))
    }

    /// Adds a joined token for each run of three or more one-letter tokens separated by the same single separator
    /// (`f.u.c.k`, `f-u-c-k`, `f u c k`).
    private mutating func joinSpelledOut(from first: Int, in bytes: UnsafeBufferPointer<UInt8>, base: Int) {
        let end = tokens.count
        var k = first
        while k < end {
            guard tokens[k].scalars.count == 1 else { k += 1; continue }
            var last = k
            let separator = k + 1 < end ? tokens[k + 1].separatorBefore : 0
            if Self.isSpellingSeparator(separator) {
                while last + 1 < end && tokens[last + 1].scalars.count == 1 && tokens[last + 1].separatorBefore == separator {
                    last += 1
                }
            }
            if last - k + 1 >= 3 {
                let start = scalars.count
                for t in k...last { scalars.append(scalars[tokens[t].scalars.lowerBound]) }
                tokens.append(ToxToken(hash: Self.hash(scalars[start...]), scalars: start..<scalars.count,
                                       bytes: tokens[k].bytes.lowerBound..<tokens[last].bytes.upperBound,
                                       unspaced: false, masked: false, joined: true))
            }
            k = last + 1
        }
    }

    // MARK: Character tables

    static let star: UInt32 = 0x2A, hashSign: UInt32 = 0x23, bang: UInt32 = 0x21, bar: UInt32 = 0x7C
    static let plus: UInt32 = 0x2B, dollar: UInt32 = 0x24, at: UInt32 = 0x40
    /// Whether a byte separates the letters of a spelled-out word: `.`, `-`, `_` or a space. (Compared, not looked up
    /// in a `Set`, whose SipHash ran for every one-letter token.)
    @inline(__always)
    static func isSpellingSeparator(_ byte: UInt8) -> Bool {
        byte == 0x2E || byte == 0x2D || byte == 0x5F || byte == 0x20
    }

    static func isSymbol(_ s: UInt32) -> Bool {
        s == star || s == hashSign || s == bang || s == bar || s == plus || s == dollar || s == at
    }

    /// The letter a leetspeak digit or symbol stands for.
    @inline(__always)
    static func leet(_ s: UInt32) -> UInt32? {
        switch s {
        case 0x30: return 0x6F // 0 → o
        case 0x31, bang, bar: return 0x69 // 1 ! | → i
        case 0x33: return 0x65 // 3 → e
        case 0x34, at: return 0x61 // 4 @ → a
        case 0x35, dollar: return 0x73 // 5 $ → s
        case 0x37, plus: return 0x74 // 7 + → t
        case 0x38: return 0x62 // 8 → b
        case 0x39: return 0x67 // 9 → g
        default: return nil
        }
    }

    /// Cyrillic and Greek lower-case letters that look like a Latin one, with that letter.
    static let homoglyphs: [(UInt32, UInt32)] = [
        (0x0430, 0x61), (0x0435, 0x65), (0x043E, 0x6F), (0x0440, 0x70), (0x0441, 0x63), (0x0445, 0x78),
        (0x0443, 0x79), (0x0456, 0x69), (0x0458, 0x6A), (0x0455, 0x73), (0x043A, 0x6B), (0x043C, 0x6D),
        (0x03B1, 0x61), (0x03BF, 0x6F), (0x03B5, 0x65), (0x03B9, 0x69), (0x03BA, 0x6B), (0x03BD, 0x76),
        (0x03C1, 0x70), (0x03C4, 0x74), (0x03C5, 0x75), (0x03C7, 0x78),
    ]
    private static let toLatin: [UInt32: UInt32] = Dictionary(homoglyphs, uniquingKeysWith: { a, _ in a })
    /// Latin → Cyrillic only (a Cyrillic word with a Latin `a` or `o` in it).
    private static let toCyrillic: [UInt32: UInt32] = Dictionary(
        homoglyphs.filter { $0.0 < 0x0500 }.map { ($0.1, $0.0) }, uniquingKeysWith: { a, _ in a })

    static func unifyHomoglyphs(_ word: inout ArraySlice<UInt32>, toLatin latin: Bool) {
        let table = latin ? toLatin : toCyrillic
        for k in word.indices {
            if let mapped = table[word[k]] { word[k] = mapped }
        }
    }
}

/// Where a word is while ``ToxText/scan(_:base:)`` builds it.
private struct WordBuilder {
    var start: Int
    var byteStart = 0
    var byteEnd = 0
    var letters = 0
    var latin = 0
    var cyrillic = 0
    var greek = 0
    var unspaced = 0
    /// The single boundary byte before this word (0 when there were several, or a multi-byte one).
    var separatorBefore: UInt8 = 0
    var count = 0
    /// Scalars added by ``addASCIILetters(_:scalars:)``.
    var asciiLetters = 0

    init(start: Int) {
        self.start = start
    }

    var isEmpty: Bool { count == 0 }

    /// Adds ASCII letters: Latin letters, folded to lower case.
    @inline(__always)
    mutating func addASCIILetters(_ run: UnsafeBufferPointer<UInt8>, scalars: inout [UInt32]) {
        count += run.count
        letters += run.count
        latin += run.count
        asciiLetters += run.count
        // Widened 32 at a time on the stack and appended as a buffer (a copy), not a scalar per `append` or through
        // a lazy map (each of which ran the array's uniqueness and capacity checks per scalar). The index adds wrap:
        // an overflow check per byte kept the widening loop from being vectorised.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 32) { wide in
            var k = 0
            while k < run.count {
                let m = min(32, run.count &- k)
                for j in 0..<m { wide[j] = UInt32(run[k &+ j] | 0x20) }
                scalars.append(contentsOf: UnsafeBufferPointer(rebasing: wide[0..<m]))
                k += m
            }
        }
    }

    mutating func add(_ entry: CharClass, scalars: inout [UInt32]) {
        count += 1
        if entry.kind == .letter {
            letters += 1
            switch entry.script {
            case .latin: latin += 1
            case .cyrillic: cyrillic += 1
            case .greek: greek += 1
            case .unspaced: unspaced += 1
            case .other: break
            }
        }
        scalars.append(entry.first)
        if entry.second != 0 { scalars.append(entry.second) }
    }
}

/// What a scalar is to the tokenizer, and what it folds to.
struct CharClass: Sendable {
    enum Kind: UInt8, Sendable { case boundary, letter, digit, leet, mask, ignorable }
    enum Script: UInt8, Sendable { case latin, greek, cyrillic, unspaced, other }

    var kind: Kind
    var script: Script
    /// The folded scalar, and a second one when folding gives two (`ß` → `ss`, `æ` → `ae`).
    var first: UInt32
    var second: UInt32

    /// Scalars below this come from ``table``.
    static let tableSize = 0x2000

    @inline(__always)
    static func of(_ scalar: UInt32) -> CharClass {
        if scalar < UInt32(tableSize) { return table[Int(scalar)] }
        return beyondTable(scalar)
    }

    /// Scalars above the table: the common blocks by range (no Unicode property lookup and no folding, which
    /// for CJK text was half of the stage's time), the rest classified one by one.
    @inline(__always)
    static func beyondTable(_ value: UInt32) -> CharClass {
        switch value {
        case 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7AF, 0xF900...0xFAFF, 0x20000...0x2FFFF:
            // Kana, Han, Hangul syllables: letters of scripts written without spaces; nothing to fold.
            return CharClass(kind: .letter, script: .unspaced, first: value, second: 0)
        case 0x2000...0x200A, 0x2010...0x205F, 0x2070...0x2BFF, 0x3000...0x303F, 0xFE30...0xFE4F, 0x1F000...0x1FAFF:
            // Spaces, punctuation, arrows, maths and symbols, CJK punctuation, emoji.
            return CharClass(kind: .boundary, script: .other, first: 0, second: 0)
        default:
            return classify(value)
        }
    }

    /// Folds and classifies the first 8 192 scalars once, with Foundation's folding and Unicode's properties.
    static let table: [CharClass] = (0..<tableSize).map { classify(UInt32($0)) }

    static func classify(_ value: UInt32) -> CharClass {
        switch value {
        case 0x2A, 0x23:
            return CharClass(kind: .mask, script: .other, first: value, second: 0)
        case 0x40, 0x24, 0x21, 0x7C, 0x2B:
            return CharClass(kind: .leet, script: .other, first: value, second: 0)
        case 0x27, 0x2019, 0x00AD, 0x200B...0x200F, 0x2060...0x2064, 0xFEFF:
            // Apostrophes inside a word (`don't`), soft hyphens, zero-width and bidi marks.
            return CharClass(kind: .ignorable, script: .other, first: 0, second: 0)
        case 0xFF01...0xFF5E:
            // Full-width ASCII.
            return classify(value - 0xFEE0)
        default:
            break
        }
        guard let scalar = Unicode.Scalar(value) else { return CharClass(kind: .boundary, script: .other, first: 0, second: 0) }
        let properties = scalar.properties
        if properties.numericType == .decimal, let digit = properties.numericValue {
            // Every script's digits read as ASCII digits (leetspeak applies to them too).
            return CharClass(kind: .digit, script: .other, first: 0x30 + UInt32(digit), second: 0)
        }
        let category = properties.generalCategory
        switch category {
        case .nonspacingMark, .enclosingMark:
            // Accents written as separate marks; Devanagari and Thai vowel signs are spacing marks and stay.
            if (0x0900...0x0DFF).contains(value) || (0x0E00...0x0EFF).contains(value) {
                return CharClass(kind: .letter, script: script(of: value), first: value, second: 0)
            }
            return CharClass(kind: .ignorable, script: .other, first: 0, second: 0)
        case .spacingMark:
            return CharClass(kind: .letter, script: script(of: value), first: value, second: 0)
        default:
            break
        }
        guard properties.isAlphabetic else { return CharClass(kind: .boundary, script: .other, first: 0, second: 0) }
        let folded = String(Character(scalar)).folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            .lowercased().unicodeScalars.map(\.value).filter { !(0x300...0x36F).contains($0) }
        let first = folded.first ?? value
        let second = folded.count >= 2 ? folded[1] : 0
        return CharClass(kind: .letter, script: script(of: first), first: first, second: second)
    }

    static func script(of value: UInt32) -> Script {
        switch value {
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: return .latin
        case 0x370...0x3FF, 0x1F00...0x1FFF: return .greek
        case 0x400...0x52F: return .cyrillic
        case 0x0E00...0x0E7F, 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0xAC00...0xD7AF,
             0x1100...0x11FF, 0x3130...0x318F, 0x20000...0x2FFFF:
            return .unspaced
        default: return .other
        }
    }
}
