/// How a record's text is normalised before it is hashed for deduplication: what counts as "the same text".
///
/// Words are ``TextView``'s words (letters, digits and marks, with inner apostrophes and hyphens; one word per
/// character in scripts written without spaces). The options apply as follows:
/// - ``lowercase``: words are lower-cased (ASCII by table; other words by `String.lowercased()`).
/// - ``stripPunctuation``: every character that is neither in a word nor whitespace (punctuation, symbols,
///   emoji) is dropped, and so are apostrophes and hyphens inside words (`don't` → `dont`).
/// - ``collapseWhitespace``: runs of whitespace become one space, and the text is trimmed.
/// - ``digitsToZero``: every decimal digit becomes `0` (`Episode 12` and `Episode 47` hash alike).
///
/// With both ``stripPunctuation`` and ``collapseWhitespace`` on (the default), the normalised text is simply the
/// normalised words joined by one space: `"Hello,  World!"` and `"hello world"` are the same text, and so are
/// `"foo.bar"` and `"foo bar"` (stripped punctuation still separates words). Word shingles for MinHash always use
/// the normalised words (``lowercase``, ``digitsToZero``, and the removal of inner apostrophes and hyphens under
/// ``stripPunctuation``); punctuation and whitespace between words never enter them.
public struct DedupNormalization: Sendable, Hashable, CustomStringConvertible {
    /// Lower-case words. Default `true`.
    public var lowercase: Bool
    /// Runs of whitespace become one space; leading and trailing whitespace is dropped. Default `true`.
    public var collapseWhitespace: Bool
    /// Drop punctuation, symbols, and apostrophes and hyphens inside words. Default `true`.
    public var stripPunctuation: Bool
    /// Every decimal digit becomes `0`. Default `false`.
    public var digitsToZero: Bool

    /// Creates a normalisation; the defaults are those of ``default``.
    public init(lowercase: Bool = true, collapseWhitespace: Bool = true, stripPunctuation: Bool = true,
                digitsToZero: Bool = false) {
        self.lowercase = lowercase
        self.collapseWhitespace = collapseWhitespace
        self.stripPunctuation = stripPunctuation
        self.digitsToZero = digitsToZero
    }

    /// Lower-case, collapse whitespace, strip punctuation, keep digits.
    public static let `default` = DedupNormalization()

    /// No normalisation at all: the exact hash is the hash of the text's bytes.
    public static let none = DedupNormalization(lowercase: false, collapseWhitespace: false, stripPunctuation: false,
                                                digitsToZero: false)

    /// The options that are on, e.g. `lowercase+collapse_whitespace+strip_punctuation`, or `none`.
    public var description: String {
        let on = [(lowercase, "lowercase"), (collapseWhitespace, "collapse_whitespace"),
                  (stripPunctuation, "strip_punctuation"), (digitsToZero, "digits_to_zero")].filter(\.0).map(\.1)
        return on.isEmpty ? "none" : on.joined(separator: "+")
    }

    /// Whether the normalised text is the normalised words joined by one space (no gaps to look at).
    var joinsWords: Bool { stripPunctuation && collapseWhitespace }
}
