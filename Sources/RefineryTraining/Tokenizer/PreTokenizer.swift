/// GPT-2's pre-tokenisation: text is cut into pieces that BPE never merges across, by the rule GPT-2 and Hugging
/// Face's `ByteLevel` pre-tokenizer write as the regular expression
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, tried in that order at each
/// position. It is written out by hand over Unicode scalars (no regex engine): a contraction; an optional space and
/// a run of letters, of digits, or of other symbols; else a run of whitespace, less its last character when a
/// non-space follows (that space then starts the next word, as in ` word`).
public enum PreTokenizer {
    enum Class { case letter, number, space, other }

    @inline(__always)
    static func classify(_ scalar: Unicode.Scalar) -> Class {
        if scalar.value < 0x80 {
            switch scalar.value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .space
            default: return .other
            }
        }
        if scalar.properties.isWhitespace { return .space }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The pieces of `text`, as ranges of its Unicode scalars, in order; together they cover the text.
    public static func split(_ text: String) -> [Substring] {
        let scalars = Array(text.unicodeScalars)
        let classes = scalars.map(classify)
        var pieces: [Substring] = []
        var start = text.unicodeScalars.startIndex
        var i = 0
        while i < scalars.count {
            let length = pieceLength(scalars, classes, at: i)
            let end = text.unicodeScalars.index(start, offsetBy: length)
            pieces.append(Substring(text.unicodeScalars[start..<end]))
            start = end
            i += length
        }
        return pieces
    }

    /// The length in scalars of the piece starting at `i`.
    static func pieceLength(_ s: [Unicode.Scalar], _ c: [Class], at i: Int) -> Int {
        let n = s.count
        // 's 't 're 've 'm 'll 'd
        if s[i] == "'" && i + 1 < n {
            let a = s[i + 1]
            if a == "s" || a == "t" || a == "m" || a == "d" { return 2 }
            if i + 2 < n {
                let b = s[i + 2]
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return 3 }
            }
        }
        // An optional space, then a run of one class (letters, digits, or other symbols).
        let first = s[i] == " " && i + 1 < n && c[i + 1] != .space ? i + 1 : i
        if c[first] != .space {
            let kind = c[first]
            var j = first + 1
            while j < n && c[j] == kind { j += 1 }
            return j - i
        }
        // Whitespace: the whole run if it ends the text or ends before more whitespace… which a run cannot; so the
        // run less its last character when a non-space follows and the run is longer than one.
        var j = i + 1
        while j < n && c[j] == .space { j += 1 }
        if j < n && j - i > 1 { return j - i - 1 }
        return j - i
    }
}
