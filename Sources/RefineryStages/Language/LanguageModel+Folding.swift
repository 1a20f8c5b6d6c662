/// How the language model sees characters: case folding, what counts as a separator, and which script a letter
/// belongs to. These rules are the same as `fold` and `group` in `tools/langid/train.py`; the model is only valid
/// with them, and `LanguageStageTests` checks both agree on n-gram hashes of strings that touch every rule.
extension LanguageModel {
    /// The code point every non-letter folds to.
    static let separator: UInt32 = 0x20

    /// A script group: the unit script detection decides on before the n-gram model picks a language.
    enum ScriptGroup: UInt8, CaseIterable {
        case none = 0, latin, cyrillic, greek, hebrew, arabic, devanagari, hangul, cjk, other
        static let count = 10
    }

    /// The folded form of a code point: lowercase for Latin, Greek and Cyrillic capitals; ``separator`` for
    /// digits, punctuation, symbols, spaces, zero-width and bidi controls, U+FFFD, private use and astral symbols.
    static func fold(_ cp: UInt32) -> UInt32 {
        let sep = separator
        if cp < 0x80 {
            if cp >= 0x41 && cp <= 0x5A { return cp + 0x20 }
            return cp >= 0x61 && cp <= 0x7A ? cp : sep
        }
        if cp <= 0xBF || cp == 0xD7 || cp == 0xF7 { return sep }
        if cp <= 0xDE { return cp + 0x20 }
        if cp <= 0xFF { return cp }
        if cp <= 0x17F {
            if cp == 0x130 { return 0x69 }
            if cp == 0x178 { return 0xFF }
            if cp == 0x131 || cp == 0x138 || cp == 0x149 || cp == 0x17F { return cp }
            if (0x139...0x148).contains(cp) || (0x179...0x17E).contains(cp) { return cp % 2 == 1 ? cp + 1 : cp }
            return cp % 2 == 0 ? cp + 1 : cp
        }
        if cp == 0x1A0 || cp == 0x1AF { return cp + 1 }
        if (0x218...0x21B).contains(cp) { return cp % 2 == 0 ? cp + 1 : cp }
        if (0x2B0...0x2FF).contains(cp) { return sep }
        if cp < 0x370 { return cp }
        if cp < 0x400 {
            if (0x391...0x3A9).contains(cp) { return cp + 0x20 }
            if cp == 0x386 { return 0x3AC }
            if (0x388...0x38A).contains(cp) { return cp + 0x25 }
            if cp == 0x38C { return 0x3CC }
            if cp == 0x38E || cp == 0x38F { return cp + 0x3F }
            if cp == 0x3C2 { return 0x3C3 }
            if cp == 0x37E || cp == 0x387 { return sep }
            return cp
        }
        if cp < 0x530 {
            if cp <= 0x40F { return cp + 0x50 }
            if cp <= 0x42F { return cp + 0x20 }
            if (0x460...0x481).contains(cp) || (0x48A...0x4BF).contains(cp) || (0x4D0...0x52F).contains(cp) {
                return cp % 2 == 0 ? cp + 1 : cp
            }
            return cp
        }
        if cp < 0x900 {
            switch cp {
            case 0x5BE, 0x5C0, 0x5C3, 0x5C6, 0x5F3, 0x5F4, 0x6D4, 0x640: return sep
            case 0x600...0x60F, 0x61B...0x61F, 0x660...0x66D, 0x6F0...0x6F9: return sep
            default: return cp
            }
        }
        if cp < 0x1E00 { return (0x964...0x970).contains(cp) ? sep : cp }
        if cp < 0x1F00 {
            if cp <= 0x1E95 || cp >= 0x1EA0 { return cp % 2 == 0 ? cp + 1 : cp }
            return cp
        }
        if cp < 0x2000 { return cp }
        if cp < 0x2C00 || (0x2E00...0x2E7F).contains(cp) { return sep }
        if (0x3000...0x303F).contains(cp) { return (0x3005...0x3007).contains(cp) ? cp : sep }
        if cp == 0x30FB { return sep }
        if (0xD800...0xF8FF).contains(cp) { return sep }
        if (0xFE00...0xFE6F).contains(cp) || cp == 0xFEFF { return sep }
        if (0xFF00...0xFFFF).contains(cp) {
            if (0xFF21...0xFF3A).contains(cp) { return cp - 0xFEE0 + 0x20 }
            if (0xFF41...0xFF5A).contains(cp) { return cp - 0xFEE0 }
            return (0xFF66...0xFFDC).contains(cp) ? cp : sep
        }
        if cp >= 0x10000 { return (0x20000...0x3FFFF).contains(cp) ? cp : sep }
        return cp
    }

    /// The script group of a folded code point (``ScriptGroup/none`` for the separator).
    static func group(ofFolded f: UInt32) -> ScriptGroup {
        if f == separator { return .none }
        if f < 0x250 || (0x1E00...0x1EFF).contains(f) { return .latin }
        if (0x370...0x3FF).contains(f) || (0x1F00...0x1FFF).contains(f) { return .greek }
        if (0x400...0x52F).contains(f) { return .cyrillic }
        if (0x590...0x5FF).contains(f) || (0xFB1D...0xFB4F).contains(f) { return .hebrew }
        if (0x600...0x6FF).contains(f) || (0x750...0x77F).contains(f) || (0x8A0...0x8FF).contains(f)
            || (0xFB50...0xFDFF).contains(f) || (0xFE70...0xFEFE).contains(f) {
            return .arabic
        }
        if (0x900...0x97F).contains(f) { return .devanagari }
        if (0x1100...0x11FF).contains(f) || (0x3130...0x318F).contains(f) || (0xAC00...0xD7AF).contains(f)
            || (0xFFA0...0xFFDC).contains(f) {
            return .hangul
        }
        if (0x3005...0x3007).contains(f) || (0x3040...0x30FF).contains(f) || (0x31F0...0x31FF).contains(f)
            || (0xFF66...0xFF9F).contains(f) || (0x3400...0x4DBF).contains(f) || (0x4E00...0x9FFF).contains(f)
            || (0xF900...0xFAFF).contains(f) || (0x20000...0x3FFFF).contains(f) {
            return .cjk
        }
        return .other
    }

    /// Folded code point (low 24 bits) and script group (high 8 bits) of every BMP code point, so the hot loop
    /// does one load per character instead of the range checks above.
    static let foldTable: ContiguousArray<UInt32> = {
        var table = ContiguousArray<UInt32>(repeating: 0, count: 0x10000)
        for cp in 0..<UInt32(0x10000) {
            let f = fold(cp)
            table[Int(cp)] = f | UInt32(group(ofFolded: f).rawValue) << 24
        }
        return table
    }()
}
