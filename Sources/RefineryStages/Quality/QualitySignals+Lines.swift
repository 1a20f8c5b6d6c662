/// Line-level rules (Gopher bullets and ellipses, C4 terminal punctuation, boilerplate and curly braces, FineWeb
/// short lines) and Gopher's duplicate lines and paragraphs.
extension QualitySignals {
    /// Measures the non-empty lines (spaces and tabs at either end ignored).
    mutating func measureLines(_ lines: [Range<Int>], in bytes: UnsafeBufferPointer<UInt8>) {
        let phrases = BoilerplatePhrases.shared
        var nonEmpty = 0
        var bullets = 0
        var ellipses = 0
        var terminal = 0
        var short = 0
        var boilerplate = 0
        var braces = 0
        for line in lines {
            var start = line.lowerBound
            var end = line.upperBound
            while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
            while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
            guard start < end else { continue }
            nonEmpty += 1
            let first = bytes[start]
            let terminated = Self.endsWithTerminalPunctuation(bytes, start..<end)
            if terminated { terminal += 1 }
            // * • ‣ ◦, and - unless the line is a sentence: "- Where to?" is a line of dialogue (subtitles write a
            // change of speaker so, and the subtitle readers keep the dash), and a list of whole sentences is prose.
            // Gopher's rule is after pages that are mostly lists of links and menu items ("- Home", "- Contact").
            if (first == 0x2D && !terminated) || first == 0x2A
                || (first == 0xE2 && start + 2 < end && bytes[start + 1] == 0x80 && (bytes[start + 2] == 0xA2 || bytes[start + 2] == 0xA3))
                || (first == 0xE2 && start + 2 < end && bytes[start + 1] == 0x97 && bytes[start + 2] == 0xA6) {
                bullets += 1
            }
            let last = bytes[end - 1]
            if (last == 0x2E && end - start >= 3 && bytes[end - 2] == 0x2E && bytes[end - 3] == 0x2E)
                || (last == 0xA6 && end - start >= 3 && bytes[end - 2] == 0x80 && bytes[end - 3] == 0xE2) {
                ellipses += 1
            }
            // Under 30 characters: a scalar is 1 to 4 bytes, so only lines of 30 to 119 bytes need counting.
            let length = end - start
            if length < 30 || (length < 120 && ByteLanes.scalarCount(bytes, start..<end) < 30) { short += 1 }
            if let phrase = phrases.first(in: bytes, start..<end) {
                boilerplate += 1
                if phrase == BoilerplatePhrases.loremIpsum { loremIpsum = true }
            }
            if Self.contains(bytes, start..<end, 0x7B) { braces += 1 }
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
    }

    /// Whether `bytes[range]` holds `byte` (not 0), eight bytes per step.
    static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ byte: UInt8) -> Bool {
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            if ByteLanes.contains(ByteLanes.load(bytes, at: i), byte) { return true }
            i += 8
        }
        return i < range.upperBound && ByteLanes.contains(ByteLanes.load(bytes, at: i, count: range.upperBound - i), byte)
    }

    /// Whether a (trimmed) line ends with `.`, `!`, `?`, `:`, an ellipsis or their CJK and Arabic forms, closing
    /// quotes and brackets aside (C4).
    static func endsWithTerminalPunctuation(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var end = range.upperBound
        // Closing quotes and brackets after the punctuation do not count.
        while end > range.lowerBound {
            let b = bytes[end - 1]
            guard b == 0x22 || b == 0x27 || b == 0x29 || b == 0x5D else { break }
            end -= 1
        }
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
    /// 64-bit hash of their bytes, spaces and tabs at either end ignored; empty items do not count.
    /// `table`: a worker's, emptied here.
    static func duplicates(_ items: [Range<Int>], in bytes: UnsafeBufferPointer<UInt8>, minimum: Int,
                           table: inout HashCounter) -> (items: Double, characters: Double)? {
        guard items.count >= minimum else { return nil }
        table.reset(for: items.count)
        var nonEmpty = 0
        var repeated = 0
        var total = 0
        var repeatedCharacters = 0
        table.withInserter { table in
            for item in items {
                var start = item.lowerBound
                var end = item.upperBound
                while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
                while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
                guard start < end else { continue }
                let hash = Self.hash(bytes, start..<end)
                nonEmpty += 1
                total += end - start
                if table.add(hash, at: nonEmpty).count > 1 {
                    repeated += 1
                    repeatedCharacters += end - start
                }
            }
        }
        guard nonEmpty >= minimum else { return nil }
        return (Double(repeated) / Double(nonEmpty), Double(repeatedCharacters) / Double(max(total, 1)))
    }

    /// A 64-bit hash of `bytes[range]`, eight bytes per step, as ``measureWord(_:_:)`` hashes words (without folding
    /// case).
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64 {
        var hash: UInt64 = 0
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            hash = (hash ^ ByteLanes.load(bytes, at: i)) &* 0x9E37_79B9_7F4A_7C15
            i += 8
        }
        if i < range.upperBound {
            hash = (hash ^ ByteLanes.load(bytes, at: i, count: range.upperBound - i)) &* 0x9E37_79B9_7F4A_7C15
        }
        return mix(hash ^ UInt64(range.count))
    }
}

/// The C4 boilerplate phrases, found in a line with ASCII case ignored.
///
/// Most lines hold none, so the scan probes only every seventh position: a phrase is at least 10 bytes long, so
/// whatever position it starts at, one probe falls on one of its first seven bytes, where the phrase's four bytes
/// from there are one of its seven leading "windows". A probe looks its four bytes up (each `| 0x20`, which makes
/// ASCII capitals lower-case and leaves a space a space) in a 4096-bit set of all phrases' windows: one multiply
/// and one bit test per seven bytes. Only when the bit is set are the seven positions the probe stands for
/// compared phrase by phrase, from the left, so the first phrase found is the leftmost, as in a byte-by-byte scan.
/// Scanning every position of every line had been a fifth of the quality signals' time.
struct BoilerplatePhrases: Sendable {
    static let shared = BoilerplatePhrases()
    /// The index of `lorem ipsum`, which fails a text outright.
    static let loremIpsum = 0
    static let phrases = ["lorem ipsum", "terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                          "all rights reserved", "javascript", "enable cookies", "click here"]

    /// The phrases' bytes, one after the other.
    private let bytes: [UInt8]
    /// Where phrase `i` starts in ``bytes``; it ends where phrase `i + 1` starts.
    private let starts: [Int]
    /// Bit `i` of entry `b` is set when phrase `i` starts with byte `b`.
    private let byFirstByte: [UInt16]
    /// The shortest phrase, in bytes.
    private let shortest: Int
    /// The distance between probes: the number of four-byte windows in the shortest phrase.
    private let stride: Int
    /// The set of the phrases' first ``stride`` windows, hashed (see ``windowBit(_:)``): 64 words of 64 bits.
    private let windows: [UInt64]

    private init() {
        var bytes: [UInt8] = []
        var starts: [Int] = []
        var byFirstByte = [UInt16](repeating: 0, count: 256)
        for (i, phrase) in Self.phrases.enumerated() {
            starts.append(bytes.count)
            bytes.append(contentsOf: phrase.utf8)
            byFirstByte[Int(phrase.utf8.first ?? 0)] |= 1 << UInt16(i)
        }
        starts.append(bytes.count)
        let shortest = Self.phrases.map(\.utf8.count).min() ?? 4
        let stride = shortest - 3
        var windows = [UInt64](repeating: 0, count: 64)
        for phrase in Self.phrases {
            Array(phrase.utf8).withUnsafeBufferPointer { phrase in
                for offset in 0..<stride {
                    let bit = Self.windowBit(Self.window(phrase, at: offset))
                    windows[bit >> 6] |= 1 << UInt64(bit & 63)
                }
            }
        }
        self.bytes = bytes
        self.starts = starts
        self.byFirstByte = byFirstByte
        self.shortest = shortest
        self.stride = stride
        self.windows = windows
    }

    /// The four bytes at `position`, each `| 0x20`, as one word (needs four bytes there).
    @inline(__always)
    private static func window(_ text: UnsafeBufferPointer<UInt8>, at position: Int) -> UInt32 {
        UnsafeRawBufferPointer(text).loadUnaligned(fromByteOffset: position, as: UInt32.self) | 0x2020_2020
    }

    /// Where a window falls in the 4096-bit set (the top 12 bits of a multiplicative hash).
    @inline(__always)
    private static func windowBit(_ window: UInt32) -> Int { Int(truncatingIfNeeded: (window &* 0x9E37_79B1) &>> 20) }

    /// The index of the first phrase found in `text[range]`, scanning from the left; at one position, the first in
    /// ``phrases`` order.
    func first(in text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard range.count >= shortest else { return nil }
        var probe = range.lowerBound
        while probe + 4 <= range.upperBound {
            let bit = Self.windowBit(Self.window(text, at: probe))
            if windows[bit >> 6] & (1 << UInt64(bit & 63)) != 0 {
                for position in max(range.lowerBound, probe - stride + 1)...probe {
                    if let index = match(in: text, at: position, end: range.upperBound) { return index }
                }
            }
            probe += stride
        }
        return nil
    }

    /// The index of the first phrase (in ``phrases`` order) that starts at `text[position]` and ends by `end`, if
    /// any. Letters match in either case; other bytes exactly.
    private func match(in text: UnsafeBufferPointer<UInt8>, at position: Int, end: Int) -> Int? {
        var candidates = byFirstByte[Int(text[position] | 0x20)]
        while candidates != 0 {
            let index = candidates.trailingZeroBitCount
            candidates &= candidates - 1
            let start = starts[index], count = starts[index + 1] - start
            guard position + count <= end else { continue }
            var k = 1
            while k < count {
                let expected = bytes[start + k], found = text[position + k]
                guard found == expected || (found | 0x20 == expected && expected >= 0x61) else { break }
                k += 1
            }
            if k == count { return index }
        }
        return nil
    }
}
