/// The state of one scan over one text: the bytes, where the last match ended, and the matches so far.
///
/// The bytes are borrowed from ``PIIScanner/matches(in:)-(UnsafeBufferPointer<UInt8>)``'s caller and never escape it.
/// Detectors live in extensions by type (`PIIScan+Email.swift`, `PIIScan+Numbers.swift`, …); each returns where
/// the scan goes on, always past the trigger, and emits at most one match that starts at or after ``lastEnd``.
struct PIIScan {
    let b: UnsafeBufferPointer<UInt8>
    let n: Int
    let classes: UnsafeBufferPointer<UInt16>
    let types: PIITypeSet
    /// End of the last match: detectors never look back past it.
    var lastEnd = 0
    var matches: [PIIMatch] = []
    /// Where a detector that looked ahead and found nothing lets the scan resume (past a run too long to hold a
    /// match), so pathological input stays linear.
    var resume = 0

    init(bytes: UnsafeBufferPointer<UInt8>, classes: UnsafeBufferPointer<UInt16>, types: PIITypeSet) {
        b = bytes
        n = bytes.count
        self.classes = classes
        self.types = types
    }

    mutating func run() {
        let interesting = ByteClass.trigger | ByteClass.secretStart
        var i = 0
        while i < n {
            let c = classes[Int(b[i])]
            if c & ByteClass.alpha != 0 {
                // A run of ASCII letters, most of most texts. Only its first letter can begin a key prefix (each of the
                // others follows a letter), so the rest is passed over eight bytes at a time, not tested one by one.
                if c & ByteClass.secretStart != 0, i == 0 || classes[Int(b[i - 1])] & ByteClass.token == 0,
                   Self.mayStartKey(b[i], byte(i + 1)) {
                    i = max(i + 1, dispatch(at: i, c))
                    continue
                }
                i = ByteLanes.endOfRun(b, from: i + 1, lanes: ByteLanes.letter, byte: { ($0 | 0x20) &- 0x61 < 26 })
                continue
            }
            if c & interesting == 0 {
                i &+= 1
                continue
            }
            // Most key-prefix letters are inside words (`s`, `e`, `r`, `n`, `h` are common) or start ordinary
            // words: skip those here, by the byte before and the byte after.
            if c & ByteClass.trigger == 0,
               (i > 0 && classes[Int(b[i - 1])] & ByteClass.token != 0) || !Self.mayStartKey(b[i], byte(i + 1)) {
                i &+= 1
                continue
            }
            i = max(i + 1, dispatch(at: i, c))
        }
    }

    /// Whether `first`, `second` can begin one of the key prefixes ``secret(at:)`` knows.
    @inline(__always)
    static func mayStartKey(_ first: UInt8, _ second: UInt8) -> Bool {
        switch first {
        case UInt8(ascii: "s"), UInt8(ascii: "r"): return second == UInt8(ascii: "k")
        case UInt8(ascii: "A"): return second == UInt8(ascii: "K") || second == UInt8(ascii: "S") || second == UInt8(ascii: "I")
        case UInt8(ascii: "g"): return second == UInt8(ascii: "h") || second == UInt8(ascii: "l") || second == UInt8(ascii: "i")
        case UInt8(ascii: "x"): return second == UInt8(ascii: "o")
        case UInt8(ascii: "h"): return second == UInt8(ascii: "f")
        case UInt8(ascii: "n"): return second == UInt8(ascii: "p")
        case UInt8(ascii: "e"): return second == UInt8(ascii: "y")
        default: return false
        }
    }

    /// Runs the detectors a trigger byte can start; returns where the scan goes on.
    mutating func dispatch(at i: Int, _ c: UInt16) -> Int {
        if c & ByteClass.digit != 0 { return digit(at: i) }
        switch b[i] {
        case UInt8(ascii: "@"):
            return types.contains(.email) ? email(at: i) : i + 1
        case UInt8(ascii: ":"):
            if byte(i + 1) == UInt8(ascii: "/") && byte(i + 2) == UInt8(ascii: "/") {
                if types.contains(.urlCredentials), let end = urlCredentials(at: i) { return end }
                return i + 3
            }
            if types.contains(.ip), has(i - 1, ByteClass.hex) || byte(i - 1) == UInt8(ascii: ":") || byte(i + 1) == UInt8(ascii: ":"),
               let end = ipv6(around: i) {
                return end
            }
            return max(i + 1, resume)
        case UInt8(ascii: "+"), UInt8(ascii: "("):
            return numeric(at: i)
        case UInt8(ascii: "-"):
            if types.contains(.secret), let end = pem(at: i) { return end }
            return i + 1
        default:
            // A letter that may begin a key: only at the start of a word.
            if types.contains(.secret), !has(i - 1, ByteClass.token), let end = secret(at: i) { return end }
            return i + 1
        }
    }

    /// A digit: an IBAN whose country letters precede it, an IPv6 address, or a number (phone, card, IPv4).
    mutating func digit(at i: Int) -> Int {
        if types.contains(.iban), i - 2 >= lastEnd, has(i - 2, ByteClass.upper), has(i - 1, ByteClass.upper),
           !has(i - 3, ByteClass.word), has(i + 1, ByteClass.digit), let end = iban(at: i - 2) {
            return end
        }
        if types.contains(.ip) {
            var k = i
            while k < n && k < i + 5 && has(k, ByteClass.hex) { k += 1 }
            if byte(k) == UInt8(ascii: ":"), let end = ipv6(around: i) { return end }
        }
        return numeric(at: i)
    }

    // MARK: - Helpers shared by the detectors

    /// The byte at `i`, or 0 outside the text (0 has no class, so it reads as a boundary).
    @inline(__always)
    func byte(_ i: Int) -> UInt8 { i >= 0 && i < n ? b[i] : 0 }

    /// Whether the byte at `i` has any of the class bits `flag` (false outside the text).
    @inline(__always)
    func has(_ i: Int, _ flag: UInt16) -> Bool { classes[Int(byte(i))] & flag != 0 }

    /// Whether the text at `i` starts with the ASCII `literal`.
    func hasPrefix(_ literal: StaticString, at i: Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard i >= 0, i + count <= n else { return false }
        let p = literal.utf8Start
        for k in 0..<count where b[i + k] != p[k] { return false }
        return true
    }

    /// The end of the run of bytes with class `flag` that starts at `i`, looking at most `limit` bytes.
    func runEnd(from i: Int, _ flag: UInt16, limit: Int = Int.max) -> Int {
        var k = i
        let cap = limit >= n - i ? n : i + limit
        while k < cap && classes[Int(b[k])] & flag != 0 { k += 1 }
        return k
    }

    /// Records a match (when its type is wanted and it does not reach back into the previous match).
    mutating func emit(_ range: Range<Int>, _ type: PIIType) {
        guard types.contains(type), range.lowerBound >= lastEnd, !range.isEmpty else { return }
        matches.append(PIIMatch(range, type))
        lastEnd = range.upperBound
    }

    /// Bytes that may stand between a context word and the value it introduces.
    static func isContextGap(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: "#"), UInt8(ascii: "("), UInt8(ascii: "."),
             UInt8(ascii: "\t"), UInt8(ascii: "-"), UInt8(ascii: "="), UInt8(ascii: "\""), UInt8(ascii: "'"):
            return true
        default:
            return false
        }
    }

    /// Whether the word before `i` (skipping up to four of ` : # ( . - = " '`) is one of `words` (lower-case, ASCII letters
    /// compared without case; other bytes exactly).
    func precededByWord(_ i: Int, in words: [[UInt8]]) -> Bool {
        var e = i
        var skipped = 0
        while e > 0 && skipped < 4 && Self.isContextGap(b[e - 1]) {
            e -= 1
            skipped += 1
        }
        var s = e
        while s > 0 && e - s < 24 && (has(s - 1, ByteClass.alpha) || b[s - 1] >= 0x80) { s -= 1 }
        guard s < e else { return false }
        outer: for word in words where word.count == e - s {
            for k in 0..<word.count {
                var c = b[s + k]
                if c >= 0x41 && c <= 0x5A { c |= 0x20 }
                if c != word[k] { continue outer }
            }
            return true
        }
        return false
    }
}
