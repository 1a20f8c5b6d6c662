import Foundation

/// Cleans one text in a single pass over its UTF-8: removes control characters (C0 but tab and newline, DEL,
/// C1, stray BOMs), turns CRLF and CR into LF, folds runs of spaces and tabs into one space, trims line ends and
/// the whole text, keeps at most one blank line in a row; then applies Unicode NFC. Counts characters (Unicode
/// scalars) and words (runs of non-whitespace) on the way, so later checks need no second pass.
struct TextCleaner: Sendable {
    var normalizeNFC = true
    var cleanWhitespace = true
    var stripControl = true

    struct Result {
        var text: String
        var characters: Int
        var words: Int
        var controlRemoved: Int
        var whitespaceChanged: Bool
        var nfcChanged: Bool
    }

    func clean(_ input: String) -> Result {
        var text = input
        var result = Result(text: "", characters: 0, words: 0, controlRemoved: 0, whitespaceChanged: false, nfcChanged: false)
        let first = text.withUTF8 { scan($0) }
        var needsCount = false
        var isASCII = first.isASCII
        if first.dirty {
            let (rebuilt, counts) = rebuild(text, result: &result)
            text = rebuilt
            if let counts {
                result.characters = counts.characters
                result.words = counts.words
                isASCII = counts.isASCII
            } else {
                needsCount = true
            }
        } else {
            result.characters = first.characters
            result.words = first.words
        }
        if normalizeNFC && !isASCII && !Self.isKnownNFC(&text) {
            let composed = text.precomposedStringWithCanonicalMapping
            if !composed.hasSameUTF8(as: text) {
                text = composed
                result.nfcChanged = true
                needsCount = true
            }
        }
        if needsCount {
            text.withUTF8 { utf8 in
                let counts = Self.count(utf8)
                result.characters = counts.characters
                result.words = counts.words
            }
        }
        result.text = text
        return result
    }

    /// Whether `text` is in NFC by a quick check (`false`: maybe not; Foundation's normaliser decides). First the
    /// ranges of ``NFCQuickCheck``, about five times as fast on the scripts they cover (Latin, Cyrillic, CJK), then
    /// the standard library's quick check, which knows every script's combining classes and composition
    /// properties: Greek, Arabic, Hebrew, Devanagari, Thai or fullwidth text that went to Foundation's normaliser
    /// before (6 % of a run's CPU on the multilingual benchmark corpus) stops there, at about six times its speed.
    static func isKnownNFC(_ text: inout String) -> Bool {
        if text.withUTF8({ NFCQuickCheck.isCertainlyNFC($0) }) { return true }
        var span = text.utf8Span
        return span.checkForNFC(quickCheck: true)
    }

    /// What one pass over a text found.
    struct Scan {
        /// Whether the text needs rebuilding (a control character, a whitespace run to fold, …).
        var dirty = false
        var isASCII = false
        /// Valid only when not dirty (a dirty scan stops early and says `false`, so NFC is still checked).
        var characters = 0
        var words = 0
    }

    /// Decides whether the text needs rebuilding, and counts characters and words.
    ///
    /// Both loops are branch-free over the bytes so the compiler vectorises them: on chat text, a loop that
    /// branched on every space spent most of its time in mispredictions (see tools/bench/README.md).
    private func scan(_ utf8: UnsafeBufferPointer<UInt8>) -> Scan {
        var result = Scan()
        let count = utf8.count
        guard count > 0, let p = utf8.baseAddress else { return result }
        @inline(__always) func bit(_ flag: Bool) -> UInt8 { unsafeBitCast(flag, to: UInt8.self) }
        @inline(__always) func isSpace(_ b: UInt8) -> UInt8 { bit(b == 0x20) | bit(b == 0x0A) | bit(b == 0x09) | bit(b == 0x0D) }

        // Every byte whose presence alone, or with its next byte, makes the text dirty.
        let fold = cleanWhitespace ? UInt8(1) : 0
        let strip = stripControl ? UInt8(1) : 0
        var dirty: UInt8 = 0
        var high: UInt8 = 0
        // Pad the text with a virtual newline after it: a space or newline at the very end is dirty.
        @inline(__always) func check(_ b: UInt8, _ c: UInt8, _ d: UInt8) -> UInt8 {
            let control = bit(b < 0x20) & (1 &- bit(b == 0x0A)) & (1 &- bit(b == 0x09)) | bit(b == 0x7F)
            let cr = bit(b == 0x0D)
            let tab = bit(b == 0x09)
            let spaceRun = bit(b == 0x20) & isSpace(c)
            let indent = bit(b == 0x0A) & (bit(c == 0x20) | bit(c == 0x09))
            let blankRun = bit(b == 0x0A) & bit(c == 0x0A) & bit(d == 0x0A)
            let c1 = bit(b == 0xC2) & bit(c >= 0x80) & bit(c <= 0x9F)
            let bom = bit(b == 0xEF) & bit(c == 0xBB) & bit(d == 0xBF)
            return (fold & (cr | tab | spaceRun | indent | blankRun)) | (strip & (control | cr | c1 | bom))
        }
        if count >= 3 {
            for i in 0..<(count - 2) {
                let b = p[i]
                high |= b
                dirty |= check(b, p[i + 1], p[i + 2])
            }
        }
        // The last two bytes, followed by the virtual end-of-text newline.
        let tailStart = max(0, count - 2)
        for i in tailStart..<count {
            let b = p[i]
            high |= b
            let c: UInt8 = i + 1 < count ? p[i + 1] : 0x0A
            let d: UInt8 = i + 2 < count ? p[i + 2] : (i + 1 < count ? 0x0A : 0)
            dirty |= check(b, c, d)
            if i == count - 1 { dirty |= fold & isSpace(b) }
        }
        if fold == 1 && (p[0] == 0x20 || p[0] == 0x0A) { dirty = 1 }
        if dirty != 0 {
            result.dirty = true
            return result
        }
        result.isASCII = high < 0x80
        let counts = Self.count(utf8)
        result.characters = counts.characters
        result.words = counts.words
        return result
    }

    /// Characters (Unicode scalars) and words (runs of non-whitespace) of valid UTF-8.
    static func count(_ utf8: UnsafeBufferPointer<UInt8>) -> (characters: Int, words: Int) {
        var characters = 0
        var words = 0
        var previousSpace = 1
        for byte in utf8 {
            characters &+= Int(unsafeBitCast(byte & 0xC0 != 0x80, to: UInt8.self))
            let space = Int(unsafeBitCast(byte == 0x20, to: UInt8.self) | unsafeBitCast(byte == 0x0A, to: UInt8.self)
                | unsafeBitCast(byte == 0x09, to: UInt8.self) | unsafeBitCast(byte == 0x0D, to: UInt8.self))
            words &+= previousSpace & (1 &- space)
            previousSpace = space
        }
        return (characters, words)
    }

    /// Writes the cleaned text in one pass into a new string's storage. Local variables only (no closures
    /// capturing mutable state), so the loop runs without exclusivity checks.
    /// Writes the separator owed before a word: one newline, a blank line (runs of more are folded), or a space.
    @inline(__always)
    private static func separate(_ dst: UnsafeMutableBufferPointer<UInt8>, _ o: inout Int, newlines: Int, space: Bool,
                                 _ characters: inout Int, _ folded: inout Bool) {
        if newlines > 0 {
            dst[o] = 0x0A
            o += 1
            characters += 1
            if newlines > 1 {
                dst[o] = 0x0A
                o += 1
                characters += 1
                if newlines > 2 { folded = true }
            }
        } else if space {
            dst[o] = 0x20
            o += 1
            characters += 1
        }
    }

    /// - Returns: the cleaned text, and its characters, words and ASCII-ness when they were counted on the way.
    private func rebuild(_ input: String, result: inout Result) -> (String, (characters: Int, words: Int, isASCII: Bool)?) {
        var text = input
        let strip = stripControl
        let fold = cleanWhitespace
        var removed = 0
        var folded = false
        var characters = 0
        var words = 0
        var high: UInt8 = 0
        let output = text.withUTF8 { src -> String in
            let count = src.count
            return String(unsafeUninitializedCapacity: count) { dst -> Int in
                // Locals, not the captured counters: the loop keeps them in registers.
                var localRemoved = 0
                var localFolded = false
                var localCharacters = 0
                var localWords = 0
                var localHigh: UInt8 = 0
                defer {
                    removed = localRemoved
                    folded = localFolded
                    characters = localCharacters
                    words = localWords
                    high = localHigh
                }
                var o = 0
                var i = 0
                var pendingSpace = false
                var pendingNewlines = 0
                while i < count {
                    let byte = src[i]
                    let ordinary = byte > 0x20 && byte != 0x7F && byte != 0xC2 && byte != 0xEF
                    if !ordinary {
                        if strip {
                            if byte == 0xC2 && i + 1 < count && src[i + 1] >= 0x80 && src[i + 1] <= 0x9F {
                                localRemoved += 1
                                i += 2
                                continue
                            }
                            if byte == 0xEF && i + 2 < count && src[i + 1] == 0xBB && src[i + 2] == 0xBF {
                                localRemoved += 1
                                i += 3
                                continue
                            }
                            if (byte < 0x20 && byte != 0x0A && byte != 0x09 && byte != 0x0D) || byte == 0x7F {
                                localRemoved += 1
                                i += 1
                                continue
                            }
                        }
                        var isNewline = byte == 0x0A
                        if byte == 0x0D {
                            isNewline = true
                            localFolded = true
                            if i + 1 < count && src[i + 1] == 0x0A { i += 1 }
                        }
                        if !fold && (isNewline || byte == 0x20 || byte == 0x09) {
                            dst[o] = isNewline ? 0x0A : byte
                            o += 1
                            i += 1
                            continue
                        }
                        if isNewline {
                            if pendingSpace { localFolded = true }
                            pendingNewlines += 1
                            pendingSpace = false
                            i += 1
                            continue
                        }
                        if byte == 0x20 || byte == 0x09 {
                            if pendingSpace || pendingNewlines > 0 || o == 0 || byte == 0x09 { localFolded = true }
                            if pendingNewlines == 0 { pendingSpace = true }
                            i += 1
                            continue
                        }
                    }
                    // A byte of a word: settle the separator owed before it, write it, and copy the rest of an
                    // ordinary run straight through. A removed control character does not split a word.
                    if o > 0 {
                        Self.separate(dst, &o, newlines: pendingNewlines, space: pendingSpace, &localCharacters, &localFolded)
                    } else if pendingNewlines > 0 {
                        localFolded = true
                    }
                    if o == 0 || pendingNewlines > 0 || pendingSpace { localWords += 1 }
                    pendingNewlines = 0
                    pendingSpace = false
                    dst[o] = byte
                    o += 1
                    i += 1
                    localHigh |= byte
                    localCharacters &+= Int(unsafeBitCast(byte & 0xC0 != 0x80, to: UInt8.self))
                    guard ordinary else { continue }
                    while i < count {
                        let next = src[i]
                        guard next > 0x20 && next != 0x7F && next != 0xC2 && next != 0xEF else { break }
                        dst[o] = next
                        o += 1
                        i += 1
                        localHigh |= next
                        localCharacters &+= Int(unsafeBitCast(next & 0xC0 != 0x80, to: UInt8.self))
                    }
                }
                if pendingSpace || pendingNewlines > 0 { localFolded = true }
                return o
            }
        }
        result.controlRemoved += removed
        if fold && folded { result.whitespaceChanged = true }
        // Without folding, separators were copied as they came and the counts above are incomplete.
        return (output, fold ? (characters, words, high < 0x80) : nil)
    }
}
