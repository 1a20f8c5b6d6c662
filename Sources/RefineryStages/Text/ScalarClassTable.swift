/// The word role (``TextView/Kind``) and the `Alphabetic` property of every Unicode scalar, read from a table
/// instead of asked of `Unicode.Scalar.Properties` scalar by scalar.
///
/// Each property question is a lookup in the standard library's Unicode tables (`_swift_stdlib_getBinaryProperties`,
/// `_swift_stdlib_getGeneralCategory`); asked for every non-ASCII scalar they held ``TextView`` at 15–20 MB/s and were
/// a tenth of the quality stage's time. The table is filled once per process from those same properties for the
/// whole basic multilingual plane (U+0000–U+FFFF: 64 KiB of kinds and an 8 KiB bit set, about 12 ms), so its
/// answers are the standard library's by construction, whatever its Unicode version. Scalars above U+FFFF (emoji,
/// historic scripts, rare ideographs) are rare in text: they ask the properties directly.
struct ScalarClassTable: Sendable {
    /// The process-wide table, built on first use.
    static let shared = ScalarClassTable()

    /// The kind of each scalar below U+10000 (surrogate code points, which never occur in a `String`, are `.other`).
    private let kinds: [TextView.Kind]
    /// Bit `v & 63` of word `v >> 6` is set when scalar `v` is alphabetic.
    private let alphabetic: [UInt64]

    private init() {
        var kinds = [TextView.Kind](repeating: .other, count: 0x10000)
        var alphabetic = [UInt64](repeating: 0, count: 0x10000 / 64)
        for value in 0..<UInt32(0x10000) {
            guard let scalar = Unicode.Scalar(value) else { continue }
            kinds[Int(value)] = Self.kind(of: scalar)
            if scalar.properties.isAlphabetic { alphabetic[Int(value >> 6)] |= 1 << UInt64(value & 63) }
        }
        self.kinds = kinds
        self.alphabetic = alphabetic
    }

    /// The kind of the scalar with this value (a valid scalar value, as decoded from a `String`'s UTF-8).
    @inline(__always)
    func kind(of value: UInt32) -> TextView.Kind {
        if value < 0x10000 { return kinds[Int(value)] }
        return Unicode.Scalar(value).map(Self.kind(of:)) ?? .other
    }

    /// Whether the scalar with this value has the Unicode `Alphabetic` property (letters, letter numbers and the
    /// marks that are part of letters).
    @inline(__always)
    func isAlphabetic(_ value: UInt32) -> Bool {
        if value < 0x10000 { return alphabetic[Int(value >> 6)] & (1 << UInt64(value & 63)) != 0 }
        return Unicode.Scalar(value)?.properties.isAlphabetic ?? false
    }

    /// The definition the table holds: a scalar's kind from its Unicode properties. A word character is a letter,
    /// digit or mark (general categories L, N, M); `'`, `-`, `’` and `‐` join words; scripts written without spaces
    /// (Han, Hiragana, Katakana, Thai) make one word per character; `White_Space` scalars are spaces.
    static func kind(of scalar: Unicode.Scalar) -> TextView.Kind {
        let v = scalar.value
        if v < 0x80 {
            switch v {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return .word
            case 0x27, 0x2D: return .joiner
            case 0x20, 0x09, 0x0D, 0x0B, 0x0C: return .space
            default: return .other
            }
        }
        if v == 0x2019 || v == 0x2010 { return .joiner }
        if (0x3040...0x30FF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x0E00...0x0E7F).contains(v) || (0x20000...0x2FA1F).contains(v) {
            return .ideograph
        }
        if scalar.properties.isWhitespace { return .space }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber:
            return .word
        default:
            return .other
        }
    }
}
