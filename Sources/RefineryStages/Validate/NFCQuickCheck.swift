/// A conservative test for "this text is already in Unicode NFC", so that most texts skip Foundation's
/// normaliser (which profiling showed taking a quarter of the validate stage's time on mixed-language chats).
///
/// It answers `true` only when every scalar lies in ranges whose characters are all NFC_QC=Yes with canonical
/// combining class 0 (so neither composition nor reordering can apply): everything below U+0300, and the
/// common blocks of Cyrillic, general punctuation and currency, kana (without the combining sound marks),
/// CJK ideographs and Hangul syllables. Any other scalar sends the text to the full normaliser.
enum NFCQuickCheck {
    static func isCertainlyNFC(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let count = utf8.count
        while i < count {
            let lead = utf8[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            let scalar: UInt32
            if lead < 0xE0 {
                guard i + 1 < count else { return false }
                scalar = UInt32(lead & 0x1F) << 6 | UInt32(utf8[i + 1] & 0x3F)
                i += 2
            } else if lead < 0xF0 {
                guard i + 2 < count else { return false }
                scalar = UInt32(lead & 0x0F) << 12 | UInt32(utf8[i + 1] & 0x3F) << 6 | UInt32(utf8[i + 2] & 0x3F)
                i += 3
            } else {
                return false
            }
            switch scalar {
            case 0x80..<0x300,  // Latin-1, Latin Extended-A/B, IPA, spacing modifiers
                 0x400...0x482, 0x48A...0x52F,  // Cyrillic without combining marks
                 0x2010...0x2027, 0x2030...0x205E, 0x20A0...0x20C0,  // dashes, quotes, punctuation, currency
                 0x3001...0x3029, 0x3041...0x3096, 0x30A1...0x30FA,  // CJK punctuation, hiragana, katakana
                 0x4E00...0x9FFF,  // CJK unified ideographs
                 0xAC00...0xD7A3:  // Hangul syllables
                continue
            default:
                return false
            }
        }
        return true
    }
}
