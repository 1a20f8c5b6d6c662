/// Up to 32 characters of a number as the scanner sees it: digits, `+`, and separators (`-./()`, and a space for a
/// space, a no-break space U+00A0, a narrow no-break space U+202F or a thin space U+2009), with the byte offset
/// just past each character.
struct NumberShape {
    var chars = SIMD32<UInt8>()
    var ends = SIMD32<UInt8>()
    var count = 0

    @inline(__always)
    func isDigit(_ k: Int) -> Bool { k < count && chars[k] >= 0x30 && chars[k] <= 0x39 }
}

extension PIIScan {
    /// How the text right after a run of digits and separators goes on.
    enum NumberEnd {
        /// Space, punctuation, the end of the text: a number may end here.
        case clean
        /// `:` and a digit: a port after an IPv4 address, otherwise part of a time or a longer number.
        case port
        /// A space and a currency sign (`612 345 678 €`): an amount, so not a phone or card; an IP address may end here.
        case currency
        /// A letter, `@`, `%`, a currency sign, or `,`/`.` and more digits: part of something else.
        case glued
    }

    /// Numbers starting at `start` (a digit, or a `+` or `(` before one): phone numbers, payment cards and IPv4
    /// addresses, found in a run of digits and separators split at spaces into segments; a match starts at a
    /// segment and ends at one's end.
    ///
    /// Never a match, by construction:
    /// - anything glued to a letter, `@`, `_` or a currency sign, or with only a space between it and the sign
    ///   (`v1.2.3.4`, `A1234567890`, `$1,299.99`, `10%`, `€ 912 345 678`, `612 345 678 €`);
    /// - times and subtitle timestamps (`00:01:02,345 --> 00:01:04,000`): `:` and `,` are not separators, so the
    ///   pieces are short and glued to each other;
    /// - dates (`2024-03-15`, `15.03.2024`, `03/15/2024`), versions (`1.2.3`), ISBNs (`978-3-16-148410-0`): no
    ///   phone format has their shape, and a card needs card grouping, the Luhn check and an issuer prefix;
    /// - order numbers (`Order 1000234567`): a bare run of digits is a card (13–19 digits, Luhn, issuer prefix, and
    ///   no `order`/`invoice`/`tracking`… word before it) or nothing; only `+` makes it a phone number;
    /// - dotted quads after `version`, `build`, `firmware`, `section`… (`version 1.2.3.4`) are not IPv4 addresses.
    mutating func numeric(at start: Int) -> Int {
        let startsWithDigit = has(start, ByteClass.digit)
        if !startsWithDigit {
            guard has(start + 1, ByteClass.digit), !has(start - 1, ByteClass.word) else { return start + 1 }
        }
        let end = numberRunEnd(from: start)
        // The common case, a bare short number (a year, a count, a piece of a time): nothing to find.
        if startsWithDigit, end - start < 13, runEnd(from: start, ByteClass.digit, limit: 13) == end { return end }
        let gluedStart = startsWithDigit && isGluedBefore(start)
        let amountStart = startsWithDigit && hasCurrencyBefore(start)
        let endKind = numberEnd(at: end)
        var s = start
        var first = true
        while s < end {
            if !(first && gluedStart),
               let (range, type) = matchNumber(at: s, runEnd: end, endKind: endKind, onlyIP: first && amountStart) {
                emit(range, type)
                s = range.upperBound
            }
            first = false
            s = nextSegment(after: s, runEnd: end)
        }
        return end
    }

    /// The byte length of a separator at `j`, or `nil`.
    @inline(__always)
    func separatorLength(at j: Int) -> Int? {
        switch byte(j) {
        case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "("), UInt8(ascii: ")"):
            return 1
        case 0xC2:
            return byte(j + 1) == 0xA0 ? 2 : nil
        case 0xE2:
            return byte(j + 1) == 0x80 && (byte(j + 2) == 0xAF || byte(j + 2) == 0x89) ? 3 : nil
        default:
            return nil
        }
    }

    /// Whether the separator at `j` is a kind of space.
    @inline(__always)
    func isSpace(_ j: Int) -> Bool {
        let c = byte(j)
        return c == UInt8(ascii: " ") || c == 0xC2 || c == 0xE2
    }

    /// The end (just past the last digit) of the run of digits and separators from `start`; up to three separators
    /// in a row, each run followed by a digit.
    func numberRunEnd(from start: Int) -> Int {
        var k = start
        if b[k] == UInt8(ascii: "+") { k += 1 }
        var end = start
        while k < n {
            if has(k, ByteClass.digit) {
                k += 1
                end = k
                continue
            }
            var j = k
            var separators = 0
            while separators < 3, let length = separatorLength(at: j) {
                j += length
                separators += 1
            }
            guard separators > 0, has(j, ByteClass.digit) else { break }
            k = j
        }
        return end
    }

    /// Whether the digit at `start` is glued to what comes before: a letter, digit or `_`, `@`, a currency sign,
    /// `.,:` after a digit, or `-`/`/` after a letter.
    func isGluedBefore(_ start: Int) -> Bool {
        if has(start - 1, ByteClass.word) { return true }
        switch byte(start - 1) {
        case UInt8(ascii: "@"):
            return true
        case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ":"):
            return has(start - 2, ByteClass.digit)
        case UInt8(ascii: "-"), UInt8(ascii: "/"):
            return has(start - 2, ByteClass.word)
        default:
            return isCurrency(endingAt: start)
        }
    }

    /// Whether a currency sign and a space come just before `start` (`€ 912 345 678`): an amount, so not a phone or
    /// card.
    func hasCurrencyBefore(_ start: Int) -> Bool {
        switch byte(start - 1) {
        case UInt8(ascii: " "): return isCurrency(endingAt: start - 1)
        case 0xA0 where byte(start - 2) == 0xC2: return isCurrency(endingAt: start - 2)
        default: return false
        }
    }

    /// Whether a currency sign ends just before `end`: `$ € £ ¥ ¢ ₹ ₽ ₩`.
    func isCurrency(endingAt end: Int) -> Bool {
        switch byte(end - 1) {
        case UInt8(ascii: "$"): return true
        case 0xA2, 0xA3, 0xA5: return byte(end - 2) == 0xC2  // ¢ £ ¥
        case 0xAC, 0xB9, 0xBD, 0xA9: return byte(end - 2) == 0x82 && byte(end - 3) == 0xE2  // € ₹ ₽ ₩
        default: return false
        }
    }

    /// Whether a currency sign starts at `start` (`$` only before a digit, a space or punctuation, not in `${x}` or
    /// `$PATH`).
    func isCurrency(startingAt start: Int) -> Bool {
        switch byte(start) {
        case UInt8(ascii: "$"): return !has(start + 1, ByteClass.word) && byte(start + 1) != UInt8(ascii: "{")
        case 0xC2:
            let next = byte(start + 1)
            return next == 0xA2 || next == 0xA3 || next == 0xA5
        case 0xE2: return byte(start + 1) == 0x82
        default: return false
        }
    }

    /// How the text goes on at `e`, just past a run of digits.
    func numberEnd(at e: Int) -> NumberEnd {
        if has(e, ByteClass.word) { return .glued }
        switch byte(e) {
        case UInt8(ascii: "@"), UInt8(ascii: "%"):
            return .glued
        case UInt8(ascii: ","), UInt8(ascii: "."):
            return has(e + 1, ByteClass.digit) ? .glued : .clean
        case UInt8(ascii: ":"):
            return has(e + 1, ByteClass.digit) ? .port : .clean
        case UInt8(ascii: "-"), UInt8(ascii: "+"):
            return has(e + 1, ByteClass.alpha) ? .glued : .clean
        case UInt8(ascii: " "):
            return isCurrency(startingAt: e + 1) ? .currency : .clean
        case 0xC2 where byte(e + 1) == 0xA0:
            return isCurrency(startingAt: e + 2) ? .currency : .clean
        case 0xE2 where byte(e + 1) == 0x80 && byte(e + 2) == 0xAF:
            return isCurrency(startingAt: e + 3) ? .currency : .clean
        default:
            return isCurrency(startingAt: e) ? .glued : .clean
        }
    }

    /// Whether a match may end at `position`: the end of the run (when the run ends cleanly, or, when `allowPort`
    /// (IPv4), at a port or before a spaced currency sign), or before separators that include a space.
    func mayEnd(at position: Int, runEnd: Int, endKind: NumberEnd, allowPort: Bool = false) -> Bool {
        if position >= runEnd { return endKind == .clean || (allowPort && (endKind == .port || endKind == .currency)) }
        if has(position, ByteClass.digit) { return false }
        var j = position
        while j < runEnd, let length = separatorLength(at: j) {
            if isSpace(j) { return true }
            j += length
        }
        return false
    }

    /// The start of the segment after the one at `p`: just past the next separators that include a space.
    func nextSegment(after p: Int, runEnd: Int) -> Int {
        var k = p
        while k < runEnd {
            if has(k, ByteClass.digit) || b[k] == UInt8(ascii: "+") {
                k += 1
                continue
            }
            var j = k
            var afterSpace = -1
            while j < runEnd, let length = separatorLength(at: j) {
                if isSpace(j) { afterSpace = j + length }
                j += length
            }
            if afterSpace >= 0 { return afterSpace }
            if j == k { return runEnd }
            k = j
        }
        return runEnd
    }

    /// The shape of the number from `s`, up to the run's end or 32 characters.
    func shape(at s: Int, runEnd: Int) -> NumberShape {
        var shape = NumberShape()
        var k = s
        while shape.count < 32, k < runEnd {
            let c = b[k]
            var length = 1
            var char = c
            if has(k, ByteClass.digit) || c == UInt8(ascii: "+") {
                // as is
            } else if let separator = separatorLength(at: k) {
                length = separator
                if isSpace(k) { char = UInt8(ascii: " ") }
            } else {
                break
            }
            k += length
            shape.chars[shape.count] = char
            shape.ends[shape.count] = UInt8(k - s)
            shape.count += 1
        }
        return shape
    }

    /// The number that starts at segment `s` (or just inside its opening parenthesis), if any.
    func matchNumber(at s: Int, runEnd: Int, endKind: NumberEnd, onlyIP: Bool) -> (Range<Int>, PIIType)? {
        var start = s
        while start < runEnd {
            let shape = shape(at: start, runEnd: runEnd)
            if types.contains(.ip), let e = ipv4(shape, at: start, runEnd: runEnd, endKind: endKind) { return (start..<e, .ip) }
            if onlyIP { return nil }
            if types.contains(.card), let e = card(shape, at: start, runEnd: runEnd, endKind: endKind) { return (start..<e, .card) }
            if types.contains(.phone) {
                let e = shape.chars[0] == UInt8(ascii: "+")
                    ? internationalPhone(shape, at: start, runEnd: runEnd, endKind: endKind)
                    : nationalPhone(shape, at: start, runEnd: runEnd, endKind: endKind)
                if let e { return (start..<e, .phone) }
            }
            guard b[start] == UInt8(ascii: "("), start == s else { return nil }
            start += 1
        }
        return nil
    }

    // MARK: - IPv4

    /// A dotted IPv4 address (four octets ≤ 255, no leading zeros), maybe followed by `:port` or `/prefix`, not
    /// after a version-like word.
    func ipv4(_ shape: NumberShape, at s: Int, runEnd: Int, endKind: NumberEnd) -> Int? {
        var k = 0
        for octet in 0..<4 {
            let start = k
            var value = 0
            while shape.isDigit(k), k - start < 4 {
                value = value * 10 + Int(shape.chars[k] - 0x30)
                k += 1
            }
            let length = k - start
            guard length >= 1, length <= 3, value <= 255, length == 1 || shape.chars[start] != UInt8(ascii: "0") else { return nil }
            if octet < 3 {
                guard k < shape.count, shape.chars[k] == UInt8(ascii: ".") else { return nil }
                k += 1
            }
        }
        let e = s + Int(shape.ends[k - 1])
        var ends = mayEnd(at: e, runEnd: runEnd, endKind: endKind, allowPort: true)
        if !ends, byte(e) == UInt8(ascii: "/"), has(e + 1, ByteClass.digit) {
            // A CIDR prefix length: the address is the match, the prefix stays.
            let prefixEnd = self.runEnd(from: e + 1, ByteClass.digit, limit: 4)
            ends = prefixEnd - e - 1 <= 3 && mayEnd(at: prefixEnd, runEnd: runEnd, endKind: endKind, allowPort: true)
        }
        guard ends, !precededByWord(s, in: Self.versionWords) else { return nil }
        return e
    }

    static let versionWords: [[UInt8]] = [
        "v", "ver", "version", "versions", "release", "build", "firmware", "fw", "update", "upgrade", "patch", "rev",
        "revision", "sdk", "kernel", "section", "sections", "sec", "chapter", "step", "rule", "article", "art", "paragraph",
        "§",
        "versión", "versao", "versão", "versione", "versie", "версия", "バージョン", "版本",
    ].map { Array($0.utf8) }

    // MARK: - Cards

    /// A payment card number: 13–19 digits written together or in the usual groups (4-4-4-4, 4-4-4-4-3, 4-6-5,
    /// 4-6-4, 4-4-5) with one kind of separator, passing the Luhn check, with a known issuer prefix and length.
    /// A bare run of digits after an order-like word (`order`, `invoice`, `tracking`…) is not a card.
    func card(_ shape: NumberShape, at s: Int, runEnd: Int, endKind: NumberEnd) -> Int? {
        guard shape.isDigit(0) else { return nil }
        var lengths = SIMD8<UInt8>()
        var groupEnds = SIMD8<UInt8>()
        var groups = 0
        var separator: UInt8 = 0
        var k = 0
        while groups < 6 {
            let start = k
            while shape.isDigit(k) { k += 1 }
            guard k > start else { break }
            lengths[groups] = UInt8(k - start)
            groupEnds[groups] = UInt8(k)
            groups += 1
            let c = k < shape.count ? shape.chars[k] : 0
            guard c == UInt8(ascii: " ") || c == UInt8(ascii: "-"), separator == 0 || separator == c, shape.isDigit(k + 1) else { break }
            separator = c
            k += 1
        }
        var count = groups
        while count >= 1 {
            defer { count -= 1 }
            var total = 0
            for g in 0..<count { total += Int(lengths[g]) }
            if count == 1 {
                guard (13...19).contains(total) else { continue }
            } else {
                guard Self.cardGroupings.contains(where: { grouping in
                    grouping.count == count && (0..<count).allSatisfy { Int(lengths[$0]) == grouping[$0] }
                }) else { continue }
            }
            let last = Int(groupEnds[count - 1])
            let e = s + Int(shape.ends[last - 1])
            guard mayEnd(at: e, runEnd: runEnd, endKind: endKind) else { continue }
            var digits: [UInt8] = []
            digits.reserveCapacity(total)
            for j in 0..<last where shape.isDigit(j) { digits.append(shape.chars[j] - 0x30) }
            guard Luhn.isValid(digits), Luhn.hasIssuerPrefix(digits) else { continue }
            if count == 1, precededByWord(s, in: Self.orderWords) { continue }
            return e
        }
        return nil
    }

    static let cardGroupings: [[Int]] = [[4, 4, 4, 4, 3], [4, 4, 4, 4], [4, 6, 5], [4, 6, 4], [4, 4, 5]]

    static let orderWords: [[UInt8]] = [
        "order", "orders", "invoice", "tracking", "ref", "reference", "isbn", "ticket", "serial", "sku", "imei", "shipment",
        "parcel", "booking", "confirmation", "transaction", "txn", "pedido", "commande", "bestellung", "ordine", "заказ",
    ].map { Array($0.utf8) }

    // MARK: - Phones

    /// A national phone number: the longest of ``PhoneFormats/national`` that matches the shape and ends where a
    /// number may end.
    func nationalPhone(_ shape: NumberShape, at s: Int, runEnd: Int, endKind: NumberEnd) -> Int? {
        guard shape.count >= 9 else { return nil }
        var best = 0
        let first = shape.chars[0]
        PhoneFormats.compiled.withUnsafeBufferPointer { patterns in
            PhoneFormats.starts.withUnsafeBufferPointer { starts in
                for k in 0..<(starts.count - 1) {
                    let p = starts[k], length = starts[k + 1] - p
                    // The first character rules most formats out: a literal must be equal, `(` only matches `(`.
                    let head = patterns[p]
                    if length <= best || length > shape.count || (head == UInt8(ascii: "(")) != (first == UInt8(ascii: "(")) { continue }
                    if head >= 0x30 && head <= 0x39 && head != first { continue }
                    if matches(shape, patterns[p..<(p + length)]),
                       mayEnd(at: s + Int(shape.ends[length - 1]), runEnd: runEnd, endKind: endKind) {
                        best = length
                    }
                }
            }
        }
        return best > 0 ? s + Int(shape.ends[best - 1]) : nil
    }

    /// Whether the start of `shape` matches the national-format `pattern` (see ``PhoneFormats``).
    func matches(_ shape: NumberShape, _ pattern: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        var flexible: UInt8 = 0
        var k = 0
        for p in pattern {
            let c = shape.chars[k]
            let ok: Bool
            switch p {
            case UInt8(ascii: "d"): ok = c >= 0x30 && c <= 0x39
            case UInt8(ascii: "N"): ok = c >= 0x32 && c <= 0x39
            case UInt8(ascii: "X"): ok = c >= 0x31 && c <= 0x39
            case UInt8(ascii: "M"): ok = c >= 0x36 && c <= 0x39
            case UInt8(ascii: "~"), UInt8(ascii: "_"), UInt8(ascii: "|"):
                let allowed = c == UInt8(ascii: " ") || c == UInt8(ascii: "-")
                    || (p == UInt8(ascii: "~") && c == UInt8(ascii: ".")) || (p == UInt8(ascii: "|") && c == UInt8(ascii: "/"))
                ok = allowed && (flexible == 0 || flexible == c)
                if ok { flexible = c }
            default: ok = c == p
            }
            guard ok else { return false }
            k += 1
        }
        return true
    }

    /// An international number: `+`, a country code and 8–15 digits in all, in groups separated by spaces, `-`,
    /// `.` or parentheses (a `(0)` trunk prefix allowed), with as many national digits as the country uses. Written
    /// without separators, it needs at least 10 digits.
    func internationalPhone(_ shape: NumberShape, at s: Int, runEnd: Int, endKind: NumberEnd) -> Int? {
        guard shape.isDigit(1), shape.chars[1] != UInt8(ascii: "0") else { return nil }
        // Candidate ends: after each group, with the digits so far.
        var candidateEnds = SIMD16<UInt8>()
        var candidateDigits = SIMD16<UInt8>()
        var candidateLoneDigit = SIMD16<UInt8>()
        var candidates = 0
        var digits = 0
        var groups = 0
        var firstGroup = 0
        var separators = 0
        var spaceBefore = false
        var dotOnly = true
        var leading = (0, 0)
        var k = 1
        while k < shape.count, candidates < 16 {
            let c = shape.chars[k]
            if shape.isDigit(k) {
                let start = k
                while shape.isDigit(k) {
                    if digits + k - start == 0 { leading.0 = Int(shape.chars[k] - 0x30) }
                    if digits + k - start == 1 { leading.1 = Int(shape.chars[k] - 0x30) }
                    k += 1
                }
                digits += k - start
                groups += 1
                if groups == 1 { firstGroup = k - start }
                if digits > 15 { break }
                candidateEnds[candidates] = UInt8(k)
                candidateDigits[candidates] = UInt8(digits)
                candidateLoneDigit[candidates] = k - start == 1 && spaceBefore ? 1 : 0
                candidates += 1
                separators = 0
                spaceBefore = false
            } else if c == UInt8(ascii: "("), groups == 1, k + 2 < shape.count, shape.chars[k + 1] == UInt8(ascii: "0"),
                      shape.chars[k + 2] == UInt8(ascii: ")") {
                k += 3  // "(0)": the trunk prefix, not part of the number
                separators += 1
                dotOnly = false
            } else if c == UInt8(ascii: " ") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "(")
                        || c == UInt8(ascii: ")") {
                if c == UInt8(ascii: " ") { spaceBefore = true }
                if c != UInt8(ascii: ".") { dotOnly = false }
                separators += 1
                guard separators <= 2 else { break }
                k += 1
            } else {
                break
            }
        }
        // `+35236450.6`, `+12.5`: a signed decimal, not a number to call.
        guard candidates > 0, !(groups == 2 && dotOnly) else { return nil }
        let codeLength = groups >= 2 && firstGroup <= 3 ? firstGroup : PhoneFormats.countryCodeLength(leading.0, leading.1)
        // The country code's value, read from the shape's first digits.
        var code = 0
        var seen = 0
        var j = 1
        while seen < codeLength, j < shape.count {
            if shape.isDigit(j) {
                code = code * 10 + Int(shape.chars[j] - 0x30)
                seen += 1
            }
            j += 1
        }
        let national = PhoneFormats.nationalLengths(code)
        var fallback: Int?
        var index = candidates - 1
        while index >= 0 {
            defer { index -= 1 }
            let total = Int(candidateDigits[index])
            guard total >= 8, total <= 15, national.contains(total - codeLength), index > 0 || total >= 10 else { continue }
            let e = s + Int(shape.ends[Int(candidateEnds[index]) - 1])
            guard mayEnd(at: e, runEnd: runEnd, endKind: endKind) else { continue }
            // A lone trailing digit after a space is more likely the next word's number ("… 0958 2 times").
            if candidateLoneDigit[index] == 1 {
                if fallback == nil { fallback = e }
                continue
            }
            return e
        }
        return fallback
    }
}
