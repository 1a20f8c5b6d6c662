/// The measurements quality scoring is built from, computed in one pass over a ``TextView``'s words, lines and
/// paragraphs. Fractions are in [0, 1]; rules that need more text than a record has are `nil` (not applicable).
///
/// Sources of the rules: Gopher (Rae et al. 2021, appendix A: quality and repetition filters), C4 (Raffel et al.
/// 2020: terminal punctuation, `lorem ipsum`, curly braces, policy boilerplate) and FineWeb (Penedo et al. 2024:
/// line-level rules).
struct QualitySignals {
    var words = 0
    /// Mean word length in characters, over words of alphabetic scripts (nil for ideographic text).
    var meanWordLength: Double?
    /// `#` and ellipses per word.
    var symbolRatio = 0.0
    /// Lines (non-empty) starting with a bullet; nil under 3 lines.
    var bulletLines: Double?
    /// Lines (non-empty) ending with an ellipsis; nil under 5 lines.
    var ellipsisLines: Double?
    /// Words holding at least one letter.
    var alphabeticWords = 1.0
    /// Stop words of the record's language found (nil when the language has no list or the text is under 10 words).
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

    init(_ view: TextView, lang: String?) {
        let bytes = view.bytes
        words = view.words.count
        // Characters by class, mojibake markers.
        var letters = 0
        var nonSpace = 0
        var characters = 0
        var mojibake = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
            characters += 1
            if b < 0x80 {
                if b > 0x20 { nonSpace += 1 }
                if (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A { letters += 1 }
            } else {
                nonSpace += 1
                let scalar = TextView.scalar(at: i, in: bytes)
                if scalar.properties.isAlphabetic { letters += 1 }
                // Ã (C3 83) or Â (C3 82) followed by a Latin-1 supplement character; â€ (C3 A2 E2 82 AC); U+FFFD.
                if b == 0xC3, i + 3 < bytes.count, bytes[i + 1] == 0x83 || bytes[i + 1] == 0x82, bytes[i + 2] == 0xC2 || bytes[i + 2] == 0xC3 {
                    mojibake += 1
                } else if b == 0xC3, i + 4 < bytes.count, bytes[i + 1] == 0xA2, bytes[i + 2] == 0xE2, bytes[i + 3] == 0x82, bytes[i + 4] == 0xAC {
                    mojibake += 1
                } else if b == 0xEF, i + 2 < bytes.count, bytes[i + 1] == 0xBF, bytes[i + 2] == 0xBD {
                    mojibake += 1
                }
            }
            i += length
        }
        letterFraction = nonSpace == 0 ? 1 : Double(letters) / Double(nonSpace)
        mojibakePerThousand = characters == 0 ? 0 : Double(mojibake) * 1000 / Double(characters)

        // Words: lengths, letters, symbols, stop words, hashes for n-grams.
        var alphabeticLengths = 0
        var alphabeticCount = 0
        var ideographs = 0
        var withLetter = 0
        var hashes: [UInt64] = []
        hashes.reserveCapacity(words)
        var wordCharacters: [Int] = []
        wordCharacters.reserveCapacity(words)
        let stops = lang.flatMap { StopWords.lists[$0] }
        var stopHits = 0
        for range in view.words {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            var scalars = 0
            var hasLetter = false
            for k in range {
                let c = bytes[k]
                hash = (hash ^ UInt64(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)) &* 0x0000_0100_0000_01B3
                if c & 0xC0 != 0x80 { scalars += 1 }
                if (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || c >= 0xC0 { hasLetter = true }
            }
            if range.count > 1 && bytes[range.lowerBound] >= 0xE3 && scalars == 1 { ideographs += 1 }
            hashes.append(hash)
            wordCharacters.append(scalars)
            if hasLetter { withLetter += 1 }
            if scalars > 1 || bytes[range.lowerBound] < 0xE3 {
                alphabeticLengths += scalars
                alphabeticCount += 1
            }
            if let stops, stops.contains(hash) { stopHits += 1 }
        }
        alphabeticWords = words == 0 ? 1 : Double(withLetter) / Double(words)
        let totalWordCharacters = wordCharacters.reduce(0, +)
        if totalWordCharacters > 0 {
            longWordCharacters = Double(wordCharacters.lazy.filter { $0 > 100 }.reduce(0, +)) / Double(totalWordCharacters)
        }
        if alphabeticCount > 0 && ideographs * 2 < words {
            meanWordLength = Double(alphabeticLengths) / Double(alphabeticCount)
        }
        if stops != nil && words >= 10 { stopWords = stopHits }

        // Symbols: '#' and ellipses ("..." or "…") per word.
        var symbols = 0
        var k = 0
        while k < bytes.count {
            if bytes[k] == 0x23 {
                symbols += 1
            } else if bytes[k] == 0x2E, k + 2 < bytes.count, bytes[k + 1] == 0x2E, bytes[k + 2] == 0x2E {
                symbols += 1
                k += 2
            } else if bytes[k] == 0xE2, k + 2 < bytes.count, bytes[k + 1] == 0x80, bytes[k + 2] == 0xA6 {
                symbols += 1
            }
            k += 1
        }
        symbolRatio = words == 0 ? (symbols > 0 ? 1 : 0) : Double(symbols) / Double(words)

        // Lines.
        var nonEmpty = 0
        var bullets = 0
        var ellipses = 0
        var terminal = 0
        var short = 0
        var boilerplate = 0
        var braces = 0
        for line in view.lines {
            var start = line.lowerBound
            var end = line.upperBound
            while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
            while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
            guard start < end else { continue }
            nonEmpty += 1
            let first = bytes[start]
            if first == 0x2D || first == 0x2A || (first == 0xE2 && start + 2 < end && bytes[start + 1] == 0x80 && (bytes[start + 2] == 0xA2 || bytes[start + 2] == 0xA3))
                || (first == 0xE2 && start + 2 < end && bytes[start + 1] == 0x97 && bytes[start + 2] == 0xA6) {
                bullets += 1
            }
            let last = bytes[end - 1]
            if (last == 0x2E && end - start >= 3 && bytes[end - 2] == 0x2E && bytes[end - 3] == 0x2E)
                || (last == 0xA6 && end - start >= 3 && bytes[end - 2] == 0x80 && bytes[end - 3] == 0xE2) {
                ellipses += 1
            }
            if Self.endsWithTerminalPunctuation(bytes, start..<end) { terminal += 1 }
            var scalars = 0
            for p in start..<end where bytes[p] & 0xC0 != 0x80 { scalars += 1 }
            if scalars < 30 { short += 1 }
            if let phrase = Self.boilerplatePhrase(in: bytes, start..<end) {
                boilerplate += 1
                if phrase == 0 { loremIpsum = true }
            }
            if bytes[start..<end].contains(0x7B) { braces += 1 }
        }
        if nonEmpty >= 3 { bulletLines = Double(bullets) / Double(nonEmpty) }
        if nonEmpty >= 5 {
            ellipsisLines = Double(ellipses) / Double(nonEmpty)
            terminalPunctuation = Double(terminal) / Double(nonEmpty)
        }
        if nonEmpty >= 10 { shortLines = Double(short) / Double(nonEmpty) }
        if nonEmpty > 0 {
            boilerplateLines = Double(boilerplate) / Double(nonEmpty)
            curlyBraceLines = Double(braces) / Double(nonEmpty)
        }

        duplicateLines = Self.duplicates(view.lines, in: bytes, minimum: 3)
        duplicateParagraphs = Self.duplicates(view.paragraphs, in: bytes, minimum: 3)

        // Word n-grams (Gopher): characters of the top 2-4-gram, and of every repeated 5-10-gram. An n-gram's hash
        // comes from prefix sums of a polynomial over word hashes, so each costs O(1) whatever n is.
        if words >= 50 {
            let totalCharacters = max(1, wordCharacters.reduce(0, +))
            let base: UInt64 = 0x9E37_79B9_7F4A_7C15
            var prefixSums = [UInt64](repeating: 0, count: words + 1)
            var characterSums = [Int](repeating: 0, count: words + 1)
            for w in 0..<words {
                prefixSums[w + 1] = prefixSums[w] &* base &+ hashes[w]
                characterSums[w + 1] = characterSums[w] + wordCharacters[w]
            }
            let prefix = prefixSums, characterPrefix = characterSums
            var power: UInt64 = 1
            let powers = (0...10).map { n -> UInt64 in
                defer { power = power &* base }
                return power
            }
            func ngram(_ start: Int, _ n: Int) -> UInt64 { (prefix[start + n] &- prefix[start] &* powers[n]) ^ UInt64(n) }
            var table = HashCounter()
            table.reset(for: words)
            topNgram = (2...4).map { n in
                table.reset(for: words)
                var best = (count: 1, characters: 0)
                for start in 0...(words - n) {
                    let (count, first) = table.add(ngram(start, n), at: start)
                    let characters = characterPrefix[first + n] - characterPrefix[first]
                    if count > best.count || (count == best.count && count > 1 && characters > best.characters) {
                        best = (count, characters)
                    }
                }
                return best.count > 1 ? min(1, Double(best.count * best.characters) / Double(totalCharacters)) : 0
            }
            var covered = [Bool](repeating: false, count: words)
            duplicateNgrams = (5...10).map { n in
                guard words >= n else { return 0 }
                table.reset(for: words)
                for w in 0..<words { covered[w] = false }
                for start in 0...(words - n) {
                    let (count, first) = table.add(ngram(start, n), at: start)
                    guard count > 1 else { continue }
                    for w in start..<(start + n) { covered[w] = true }
                    if count == 2 { for w in first..<(first + n) { covered[w] = true } }
                }
                var characters = 0
                for w in 0..<words where covered[w] { characters += wordCharacters[w] }
                return Double(characters) / Double(totalCharacters)
            }
        }
    }

    static let lorem = Array("lorem ipsum".utf8)
    static let boilerplate: [[UInt8]] = [lorem] + ["terms of use", "privacy policy", "cookie policy", "uses cookies",
        "use of cookies", "all rights reserved", "javascript", "enable cookies", "click here"].map { Array($0.utf8) }

    /// Boilerplate phrases by their first (lower-case) byte, so a line is scanned once, not once per phrase.
    static let phrasesByFirstByte: [[Int]] = {
        var table = [[Int]](repeating: [], count: 256)
        for (i, phrase) in boilerplate.enumerated() { table[Int(phrase[0])].append(i) }
        return table
    }()

    /// The index of the first boilerplate phrase found in `bytes[range]` (ASCII case ignored), if any.
    static func boilerplatePhrase(in bytes: [UInt8], _ range: Range<Int>) -> Int? {
        var i = range.lowerBound
        while i < range.upperBound {
            let candidates = phrasesByFirstByte[Int(bytes[i] | 0x20)]
            if !candidates.isEmpty {
                for index in candidates {
                    let phrase = boilerplate[index]
                    guard i + phrase.count <= range.upperBound else { continue }
                    var k = 1
                    while k < phrase.count && (bytes[i + k] == phrase[k] || (bytes[i + k] | 0x20 == phrase[k] && phrase[k] >= 0x61)) { k += 1 }
                    if k == phrase.count { return index }
                }
            }
            i += 1
        }
        return nil
    }

    /// The hash words are compared by (FNV-1a over the bytes, ASCII lower-cased), as in ``init(_:lang:)``.
    static func wordHash(_ word: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for c in word.utf8 { hash = (hash ^ UInt64(c >= 0x41 && c <= 0x5A ? c | 0x20 : c)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    static func endsWithTerminalPunctuation(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        var end = range.upperBound
        // Closing quotes and brackets after the punctuation do not count.
        while end > range.lowerBound, [0x22, 0x27, 0x29, 0x5D].contains(bytes[end - 1]) { end -= 1 }
        guard end > range.lowerBound else { return false }
        let last = bytes[end - 1]
        if last == 0x2E || last == 0x21 || last == 0x3F || last == 0x3A { return true }
        // … ” ’ 。 ！ ？ (E2 80 A6, E2 80 9D, E2 80 99, E3 80 82, EF BC 81, EF BC 9F)
        if end - range.lowerBound >= 3 {
            let a = bytes[end - 3], b = bytes[end - 2]
            if a == 0xE2 && b == 0x80 && (last == 0xA6 || last == 0x9D || last == 0x99) { return true }
            if a == 0xE3 && b == 0x80 && last == 0x82 { return true }
            if a == 0xEF && b == 0xBC && (last == 0x81 || last == 0x9F) { return true }
        }
        // Arabic question mark ؟ (D8 9F), Greek question mark ; counted above.
        return end - range.lowerBound >= 2 && bytes[end - 2] == 0xD8 && last == 0x9F
    }

    /// Fraction of items that repeat an earlier item, and of characters in them (Gopher). Items are compared by a
    /// 64-bit hash of their bytes.
    static func duplicates(_ items: [Range<Int>], in bytes: [UInt8], minimum: Int) -> (items: Double, characters: Double)? {
        guard items.count >= minimum else { return nil }
        var table = HashCounter()
        table.reset(for: items.count)
        var nonEmpty = 0
        var repeated = 0
        var total = 0
        var repeatedCharacters = 0
        for item in items {
            var start = item.lowerBound
            var end = item.upperBound
            while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
            while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
            guard start < end else { continue }
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for k in start..<end { hash = (hash ^ UInt64(bytes[k])) &* 0x0000_0100_0000_01B3 }
            nonEmpty += 1
            total += end - start
            if table.add(hash, at: nonEmpty).count > 1 {
                repeated += 1
                repeatedCharacters += end - start
            }
        }
        guard nonEmpty >= minimum else { return nil }
        return (Double(repeated) / Double(nonEmpty), Double(repeatedCharacters) / Double(max(total, 1)))
    }
}
