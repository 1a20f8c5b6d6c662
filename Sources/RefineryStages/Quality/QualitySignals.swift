/// The measurements quality scoring is built from, computed from a ``TextView`` in a few passes: one over the
/// scalars, one over the words, one over the lines, one over the paragraphs, and the n-gram passes of
/// `QualitySignals+Repetition.swift`. Fractions are in [0, 1]; rules that need more text than a record has are
/// `nil` (not applicable).
///
/// The passes read ASCII eight bytes at a time (``ByteLanes``), classify other scalars with ``ScalarClassTable``,
/// hash each word once and count in flat tables (``HashCounter``, ``StopWords/HashSet``), never `Set` or
/// `Dictionary`: on one core they measure the benchmark corpus's documents at about 100 MB/s (13 MB/s before).
///
/// Sources of the rules: Gopher (Rae et al. 2021, appendix A: quality and repetition filters), C4 (Raffel et al.
/// 2020: terminal punctuation, `lorem ipsum`, curly braces, policy boilerplate) and FineWeb (Penedo et al. 2024:
/// line-level rules).
struct QualitySignals {
    var words = 0
    /// Mean word length in characters, over words of alphabetic scripts (nil for ideographic or Hangul text).
    var meanWordLength: Double?
    /// `#` and ellipses per word.
    var symbolRatio = 0.0
    /// Lines (non-empty) starting with a bullet (`*`, `•`, `‣`, `◦`, or `-` on a line without terminal punctuation: a
    /// dash before a sentence is a line of dialogue); nil under 3 lines.
    var bulletLines: Double?
    /// Lines (non-empty) ending with an ellipsis; nil under 5 lines.
    var ellipsisLines: Double?
    /// Words holding at least one letter.
    var alphabeticWords = 1.0
    /// Stop words of the record's language found, counted up to 2 (the rule asks for at least 2; nil when the
    /// language has no list or the text is under 10 words).
    var stopWords: Int?
    /// Gopher duplicate lines / paragraphs: fraction of items, and of characters, in repeated items.
    var duplicateLines: (items: Double, characters: Double)?
    var duplicateParagraphs: (items: Double, characters: Double)?
    /// Characters covered by the most frequent 2-, 3- and 4-gram of words (nil under 50 words).
    var topNgram: [Double]?
    /// Characters covered by repeated 5- to 10-grams of words (nil under 50 words).
    var duplicateNgrams: [Double]?
    /// Non-empty lines ending with terminal punctuation; nil under 5 lines.
    var terminalPunctuation: Double?
    /// Non-empty lines shorter than 30 characters; nil under 10 lines.
    var shortLines: Double?
    /// Lines holding boilerplate (`lorem ipsum`, policy and cookie notices, `javascript`).
    var boilerplateLines = 0.0
    var loremIpsum = false
    /// Lines holding `{`.
    var curlyBraceLines = 0.0
    /// Mojibake markers (`Ã©`, `â€™`, `Â `, U+FFFD) per 1 000 characters.
    var mojibakePerThousand = 0.0
    /// Letters among non-space characters.
    var letterFraction = 1.0
    /// Characters in words of more than 100 characters (runs of one character, base64, minified code).
    var longWordCharacters = 0.0

    /// Measures `view`; `lang` (a two-letter code) picks the stop-word list.
    /// - Complexity: O(n) in the text's bytes for most text; the n-gram passes are O(words × n) on text that
    ///   repeats itself everywhere.
    init(_ view: TextView, lang: String?) {
        var buffers = QualityBuffers()
        self.init(view, lang: lang, buffers: &buffers)
    }

    /// Measures `view` with a worker's `buffers` (see ``StageScratch``).
    init(_ view: TextView, lang: String?, buffers: inout QualityBuffers) {
        words = view.words.count
        view.bytes.withUnsafeBufferPointer { bytes in
            measureCharacters(bytes, characters: view.scalarCount)
            let totalCharacters = measureWords(view.words, in: bytes, stops: lang.flatMap { StopWords.lists[$0] },
                                               prefix: &buffers.prefix, characters: &buffers.characters)
            measureLines(view.lines, in: bytes)
            duplicateLines = Self.duplicates(view.lines, in: bytes, minimum: 3, table: &buffers.items)
            duplicateParagraphs = Self.duplicates(view.paragraphs, in: bytes, minimum: 3, table: &buffers.items)
            if words >= 50 {
                (topNgram, duplicateNgrams) = Self.ngramRepetition(prefix: buffers.prefix, characters: buffers.characters,
                                                                   totalCharacters: totalCharacters, buffers: &buffers)
            }
        }
    }

    /// Letters among non-space characters, mojibake markers, and `#` and ellipses per word, in one pass over the
    /// scalars. `characters` is the text's length in scalars.
    private mutating func measureCharacters(_ bytes: UnsafeBufferPointer<UInt8>, characters: Int) {
        let table = ScalarClassTable.shared
        let n = bytes.count
        var letters = 0
        var mojibake = 0
        var symbols = 0
        // Dots in a row: every third one completes an ellipsis ("......" is two).
        var dots = 0
        var nonSpaceLanes = ByteLanes.Counter()
        var letterLanes = ByteLanes.Counter()
        var i = 0
        while i < n {
            if i + 8 <= n {
                // Eight ASCII bytes without `#` (most of a text in a Latin script) are counted at once, unless a dot
                // may be part of an ellipsis: two dots side by side, or a dot in the first or last lane (where a
                // run of dots may cross into the neighbouring chunk). A lone dot inside the chunk counts nothing
                // and leaves no run behind.
                let chunk = ByteLanes.load(bytes, at: i)
                let dotLanes = ByteLanes.equal(chunk, 0x2E)
                if chunk & ByteLanes.highBits == 0 && !ByteLanes.contains(chunk, 0x23)
                    && dotLanes & (dotLanes &>> 8 | 0x8000_0000_0000_0080) == 0 {
                    nonSpaceLanes.add(ByteLanes.inRange(chunk, 0x21, 0x7F))
                    letterLanes.add(ByteLanes.inRange(chunk | ByteLanes.ones &* 0x20, 0x61, 0x7A))
                    dots = 0
                    i += 8
                    continue
                }
            }
            // Other bytes go one scalar at a time, up to the end of these eight, but non-space characters and ASCII
            // letters are still counted by lanes: every scalar here starts in these bytes (`i` is at a scalar's
            // start), and a non-ASCII scalar, always non-space, is its lead byte. Counted per scalar instead, the
            // counters spilled to the stack and every byte waited on the previous one's increment in memory.
            let stop = min(n, i + 8)
            let chunk = ByteLanes.load(bytes, at: i, count: stop - i)
            nonSpaceLanes.add(ByteLanes.inRange(chunk, 0x21, 0x7F) | ByteLanes.multibyteLead(chunk))
            letterLanes.add(ByteLanes.letter(chunk))
            while i < stop {
                let b = bytes[i]
                if b < 0x80 {
                    if b == 0x2E {
                        dots &+= 1
                        if dots == 3 {
                            symbols &+= 1
                            dots = 0
                        }
                    } else {
                        dots = 0
                        if b == 0x23 { symbols &+= 1 }
                    }
                    i &+= 1
                    continue
                }
                dots = 0
                let (scalar, length) = TextView.decode(bytes, at: i)
                letters &+= table.isAlphabetic(scalar) ? 1 : 0
                // Ã (C3 83) or Â (C3 82) followed by a Latin-1 supplement character; â€ (C3 A2 E2 82 AC); U+FFFD.
                if b == 0xC3, i + 3 < n, bytes[i + 1] == 0x83 || bytes[i + 1] == 0x82, bytes[i + 2] == 0xC2 || bytes[i + 2] == 0xC3 {
                    mojibake &+= 1
                } else if b == 0xC3, i + 4 < n, bytes[i + 1] == 0xA2, bytes[i + 2] == 0xE2, bytes[i + 3] == 0x82, bytes[i + 4] == 0xAC {
                    mojibake &+= 1
                } else if b == 0xEF, i + 2 < n, bytes[i + 1] == 0xBF, bytes[i + 2] == 0xBD {
                    mojibake &+= 1
                } else if b == 0xE2, i + 2 < n, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA6 {
                    symbols &+= 1  // …
                }
                i &+= length
            }
        }
        letters += letterLanes.total
        let nonSpace = nonSpaceLanes.total
        letterFraction = nonSpace == 0 ? 1 : Double(letters) / Double(nonSpace)
        mojibakePerThousand = characters == 0 ? 0 : Double(mojibake) * 1000 / Double(characters)
        symbolRatio = words == 0 ? (symbols > 0 ? 1 : 0) : Double(symbols) / Double(words)
    }

    /// Word lengths, letters and stop words. Leaves in `prefix` and `wordCharacters`, for the n-gram rules, the
    /// prefix sums of the word hashes (see ``ngramBase``) and each word's length in characters; returns their sum.
    private mutating func measureWords(_ ranges: [Range<Int>], in bytes: UnsafeBufferPointer<UInt8>, stops: StopWords.HashSet?,
                                       prefix: inout [UInt64], characters wordCharacters: inout [Int32]) -> Int {
        QualityBuffers.zero(&prefix, count: words + 1)
        QualityBuffers.zero(&wordCharacters, count: words)
        var alphabeticLengths = 0
        var alphabeticCount = 0
        var ideographs = 0
        var withLetter = 0
        var totalCharacters = 0
        var longCharacters = 0
        var stopHits = 0
        prefix.withUnsafeMutableBufferPointer { prefix in
            wordCharacters.withUnsafeMutableBufferPointer { wordCharacters in
                for (index, range) in ranges.enumerated() {
                    let (hash, scalars, hasLetter) = Self.measureWord(bytes, range)
                    prefix[index + 1] = prefix[index] &* Self.ngramBase &+ hash
                    wordCharacters[index] = Int32(truncatingIfNeeded: scalars)
                    // One scalar of three or four bytes: an ideograph (or a kana…), not a word of an alphabetic script.
                    // A word of Hangul syllables (lead bytes EA-ED: U+A000-U+DFFF, the syllables are U+AC00-U+D7A3)
                    // neither: a block is a syllable, so Korean words are 2-3 "characters" long and Gopher's 3-10
                    // would drop ordinary Korean. Counted without branches: most of these tests go either way.
                    let lead = bytes[range.lowerBound]
                    let ideographic = (scalars == 1 && lead >= 0xE3) || (lead &- 0xEA) < 4
                    ideographs &+= ideographic ? 1 : 0
                    alphabeticLengths &+= ideographic ? 0 : scalars
                    alphabeticCount &+= ideographic ? 0 : 1
                    totalCharacters &+= scalars
                    longCharacters &+= scalars > 100 ? scalars : 0
                    withLetter &+= hasLetter ? 1 : 0
                    // The rule only asks for two: no lookups after the second.
                    if stopHits < 2, let stops, stops.contains(hash) { stopHits += 1 }
                }
            }
        }
        alphabeticWords = words == 0 ? 1 : Double(withLetter) / Double(words)
        if totalCharacters > 0 { longWordCharacters = Double(longCharacters) / Double(totalCharacters) }
        if alphabeticCount > 0 && ideographs * 2 < words {
            meanWordLength = Double(alphabeticLengths) / Double(alphabeticCount)
        }
        if stops != nil && words >= 10 { stopWords = stopHits }
        return totalCharacters
    }

    /// The hash of the word at `range` (ASCII case folded), its length in scalars, and whether it holds a letter
    /// (an ASCII letter, or any scalar of two or more bytes: such scripts are alphabetic or ideographic).
    ///
    /// Eight bytes per step (see ``ByteLanes``), so most words take one step. The hash multiplies in one folded
    /// eight-byte chunk at a time (by an odd constant: no difference between two words is lost), then mixes in the
    /// length; two different words collide with probability about 2^-64. It replaced FNV-1a over single bytes,
    /// whose multiply per byte made hashing the words the largest part of the quality signals.
    ///
    /// The ASCII bytes of a word are letters, digits, `'` and `-` (see ``TextView``): of those only the capitals
    /// lack bit 0x20, so setting it on every ASCII byte folds case, and the letters are the ASCII bytes from 0x41.
    @inline(__always)
    static func measureWord(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> (hash: UInt64, scalars: Int, hasLetter: Bool) {
        let length = range.count
        if length <= 8 && range.lowerBound &+ 8 <= bytes.count {
            // The common case, one load: the loop below, unrolled once.
            let lanes = ByteLanes.first(length)
            let chunk = ByteLanes.load(bytes, at: range.lowerBound) & lanes
            let ascii = ~chunk & ByteLanes.highBits & lanes
            var letters = ((chunk & ~ByteLanes.highBits) &+ ByteLanes.ones &* 0x3F) & ascii
            var scalars = length
            if chunk & ByteLanes.highBits != 0 {
                scalars &-= ByteLanes.count(ByteLanes.continuation(chunk))
                letters |= ByteLanes.multibyteLead(chunk)
            }
            return (Self.mix(((chunk | ascii &>> 2) &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(length)), scalars, letters != 0)
        }
        var hash: UInt64 = 0
        var continuations = 0
        var letters: UInt64 = 0
        var i = range.lowerBound
        repeat {
            let count = min(8, range.upperBound &- i)
            let chunk = ByteLanes.load(bytes, at: i, count: count)
            // The high bit of each lane of the word that holds an ASCII byte.
            let ascii = ~chunk & ByteLanes.highBits & ByteLanes.first(count)
            letters |= ((chunk & ~ByteLanes.highBits) &+ ByteLanes.ones &* 0x3F) & ascii
            // Only non-ASCII chunks hold continuation bytes.
            if chunk & ByteLanes.highBits != 0 {
                continuations &+= ByteLanes.count(ByteLanes.continuation(chunk))
                letters |= ByteLanes.multibyteLead(chunk)
            }
            hash = (hash ^ (chunk | ascii &>> 2)) &* 0x9E37_79B9_7F4A_7C15
            i &+= 8
        } while i < range.upperBound
        return (Self.mix(hash ^ UInt64(length)), length - continuations, letters != 0)
    }

    /// A bijection of 64-bit words that spreads every input bit over the output (the finaliser of MurmurHash3).
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var x = x
        x = (x ^ (x >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        x = (x ^ (x >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return x ^ (x >> 33)
    }

    /// The hash words are compared by, as ``measureWord(_:_:)`` computes it.
    static func wordHash(_ word: String) -> UInt64 {
        let bytes = Array(word.utf8)
        return bytes.withUnsafeBufferPointer { measureWord($0, 0..<$0.count).hash }
    }
}
