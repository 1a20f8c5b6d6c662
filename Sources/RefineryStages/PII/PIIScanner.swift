/// Finds personal and secret data in text: one pass over the UTF-8 bytes that stops only at trigger bytes (digits,
/// `@`, `:`, `+`, `(`, `-----BEGIN`, and the first letters of key prefixes such as `sk-`, `AKIA`, `ghp_`, `eyJ` at the
/// start of a word), then validates the candidate around the trigger (checksums, country formats, context).
///
/// Matches never overlap and come in text order. What each type accepts, and what it deliberately leaves alone
/// (subtitle timestamps, dates, versions, prices, ISBNs, order numbers), is described on ``PIIType`` and in
/// `PIIScan+Numbers.swift`.
///
/// - Complexity: O(n) in the length of the text: every detector is bounded and the scan never goes back past the
///   end of the previous match.
public struct PIIScanner: Sendable {
    /// The types to look for; the others are not reported.
    public var types: PIITypeSet

    public init(types: PIITypeSet = .all) {
        self.types = types
    }

    /// The matches in `text`, in order.
    public func matches(in text: String) -> [PIIMatch] {
        Self.withUTF8(text) { matches(in: $0) }
    }

    /// The matches in UTF-8 `bytes`, in order. Ranges are byte offsets into `bytes`.
    public func matches(in bytes: UnsafeBufferPointer<UInt8>) -> [PIIMatch] {
        var found: [PIIMatch] = []
        ByteClass.table.withUnsafeBufferPointer { classes in
            var scan = PIIScan(bytes: bytes, classes: classes, types: types)
            scan.run()
            found = scan.matches
        }
        return found
    }

    /// Calls `body` with the contiguous UTF-8 of `text`, copying only when the string is not native.
    /// The pointer must not escape `body`.
    static func withUTF8<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = text
        return copy.withUTF8(body)
    }
}

/// Properties of each byte value, as bit flags, so the scan needs one table load per byte.
enum ByteClass {
    /// `A-Z a-z 0-9 _`: inside a word, so not a boundary.
    static let word: UInt16 = 1
    static let digit: UInt16 = 2
    static let upper: UInt16 = 4
    /// `A-Z a-z`.
    static let alpha: UInt16 = 8
    static let hex: UInt16 = 16
    /// Starts a check: digits, `@`, `:`, `+`, `(`, `-`.
    static let trigger: UInt16 = 32
    /// First letters of the key prefixes (`sk-`, `rk_`, `AKIA`, `AIza`, `ghp_`, `glpat-`, `xoxb-`, `hf_`, `npm_`, `eyJ`).
    static let secretStart: UInt16 = 64
    /// Allowed in the local part of an e-mail address: `A-Z a-z 0-9 . _ % + -`.
    static let local: UInt16 = 128
    /// Allowed in a domain name: `A-Z a-z 0-9 . -`.
    static let domain: UInt16 = 256
    /// Allowed in a URL: printable ASCII except space and `< > " ' \ ^ ` { | }`.
    static let url: UInt16 = 512
    /// Base64url and key bodies: `A-Z a-z 0-9 _ -`.
    static let token: UInt16 = 1024

    static let table: ContiguousArray<UInt16> = {
        var table = ContiguousArray<UInt16>(repeating: 0, count: 256)
        for b in 0..<256 {
            let c = UInt8(b)
            var f: UInt16 = 0
            let isUpper = (0x41...0x5A).contains(c), isLower = (0x61...0x7A).contains(c), isDigit = (0x30...0x39).contains(c)
            if isUpper || isLower { f |= alpha | word | local | domain | token }
            if isUpper { f |= upper }
            if isDigit { f |= digit | word | local | domain | token | trigger | hex }
            if (0x41...0x46).contains(c) || (0x61...0x66).contains(c) { f |= hex }
            switch c {
            case UInt8(ascii: "_"): f |= word | local | token
            case UInt8(ascii: "-"): f |= local | domain | token | trigger
            case UInt8(ascii: "."): f |= local | domain
            case UInt8(ascii: "%"), UInt8(ascii: "+"): f |= local
            default: break
            }
            switch c {
            case UInt8(ascii: "@"), UInt8(ascii: ":"), UInt8(ascii: "+"), UInt8(ascii: "("): f |= trigger
            case UInt8(ascii: "s"), UInt8(ascii: "r"), UInt8(ascii: "A"), UInt8(ascii: "g"), UInt8(ascii: "x"),
                 UInt8(ascii: "h"), UInt8(ascii: "n"), UInt8(ascii: "e"):
                f |= secretStart
            default: break
            }
            if c >= 0x21 && c <= 0x7E && !"<>\"'\\^`{|}".utf8.contains(c) { f |= url }
            table[b] = f
        }
        return table
    }()
}
