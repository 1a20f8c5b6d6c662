/// A conservative test for "this text is already in Unicode NFC", so that most texts skip Foundation's
/// normaliser (which profiling showed taking a quarter of the validate stage's time on mixed-language chats).
///
/// It answers `true` only when every scalar lies in ranges whose characters are all NFC_QC=Yes with canonical
/// combining class 0 (so neither composition nor reordering can apply): everything below U+0300, and the
/// common blocks of Greek, Cyrillic, Hebrew and Arabic letters, Devanagari without nukta and virama, Vietnamese's
/// precomposed letters, general punctuation and currency, kana (without the combining sound marks), CJK
/// ideographs, Hangul syllables and fullwidth forms. Any other scalar sends the text to the standard library's
/// check and then the full normaliser. A test checks every scalar these ranges pass against Foundation's
/// decompositions. (Before the Greek, Hebrew, Arabic, Devanagari, Vietnamese and fullwidth ranges, a fifth of the
/// benchmark corpus's texts went to the standard library's check, 1 % of a run.)
enum NFCQuickCheck {
    static func isCertainlyNFC(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let count = utf8.count
        let twoByte = Self.twoByte
        while i < count {
            // ASCII, most of most texts, eight bytes at a time.
            if i + 8 <= count && ByteLanes.load(utf8, at: i) & ByteLanes.highBits == 0 {
                i += 8
                continue
            }
            let lead = utf8[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            if lead < 0xE0 {
                // Two bytes (Latin, Greek, Cyrillic, Hebrew, Arabic): one bit of a table made from `isCertain`.
                guard i + 1 < count else { return false }
                let scalar = Int(lead & 0x1F) << 6 | Int(utf8[i + 1] & 0x3F)
                guard twoByte[scalar >> 6] >> UInt64(scalar & 63) & 1 != 0 else { return false }
                i += 2
            } else if lead < 0xF0 {
                guard i + 2 < count else { return false }
                let scalar = UInt32(lead & 0x0F) << 12 | UInt32(utf8[i + 1] & 0x3F) << 6 | UInt32(utf8[i + 2] & 0x3F)
                guard isCertain(scalar) else { return false }
                i += 3
            } else {
                return false
            }
        }
        return true
    }

    /// ``isCertain(_:)`` for U+0000 to U+07FF, a bit each.
    private static let twoByte: [UInt64] = {
        var words = [UInt64](repeating: 0, count: 32)
        for scalar in 0..<0x800 where isCertain(UInt32(scalar)) { words[scalar >> 6] |= 1 << UInt64(scalar & 63) }
        return words
    }()

    /// Whether a non-ASCII scalar is one of those (see the type's summary).
    @inline(__always)
    static func isCertain(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x80..<0x300,  // Latin-1, Latin Extended-A/B, IPA, spacing modifiers
             0x370...0x373, 0x375...0x37D, 0x37F...0x386, 0x388...0x3FF,  // Greek but three singletons
             0x400...0x482, 0x48A...0x52F,  // Cyrillic without combining marks
             0x5D0...0x5F4,  // Hebrew letters (not its points)
             0x60C, 0x61B, 0x61F, 0x620...0x64A, 0x660...0x66F, 0x671...0x6D5,  // Arabic without its marks
             0x904...0x939, 0x93E...0x94C, 0x950, 0x960...0x970,  // Devanagari without nukta and virama
             0x1E00...0x1EFF,  // Latin Extended Additional (Vietnamese)
             0xFF01...0xFF5E, 0xFF61...0xFF9F,  // fullwidth ASCII, halfwidth CJK punctuation and katakana
             0x2010...0x2027, 0x2030...0x205E, 0x20A0...0x20C0,  // dashes, quotes, punctuation, currency
             0x3001...0x3029, 0x3041...0x3096, 0x30A1...0x30FA,  // CJK punctuation, hiragana, katakana
             0x4E00...0x9FFF,  // CJK unified ideographs
             0xAC00...0xD7A3:  // Hangul syllables
            return true
        default:
            return false
        }
    }
}
