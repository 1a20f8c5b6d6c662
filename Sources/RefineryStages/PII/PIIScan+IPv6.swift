extension PIIScan {
    /// An IPv6 address through position `p`: eight groups of 1–4 hex digits, or fewer with one `::`, optionally
    /// ending in a dotted IPv4 address (`::ffff:192.0.2.1`). A compressed address must hold a decimal digit, so
    /// `Foo::Bar`-like code (`Abc::Def`) is not one; times (`00:01:02`) and MAC addresses (six groups) are not
    /// eight groups. The address must stand alone: no letter, digit or `_` touches it.
    mutating func ipv6(around p: Int) -> Int? {
        let floor = max(lastEnd, p - 45)
        var s = p
        while s > floor, has(s - 1, ByteClass.hex) || b[s - 1] == UInt8(ascii: ":") { s -= 1 }
        var e = p
        let cap = min(n, p + 46)
        while e < cap, has(e, ByteClass.hex) || b[e] == UInt8(ascii: ":") || b[e] == UInt8(ascii: ".") { e += 1 }
        while e > s, b[e - 1] == UInt8(ascii: ".") { e -= 1 }
        // One trailing colon is punctuation (`at fe80::1: down`); two are the `::` of the address.
        if e - s >= 2, b[e - 1] == UInt8(ascii: ":"), b[e - 2] != UInt8(ascii: ":") { e -= 1 }
        guard e < cap || e == n else {
            // Longer than any address: nothing in this run stands alone, so the scan may skip it.
            while e < n, has(e, ByteClass.hex) || b[e] == UInt8(ascii: ":") || b[e] == UInt8(ascii: ".") { e += 1 }
            resume = e
            return nil
        }
        guard !has(s - 1, ByteClass.word), !has(e, ByteClass.word) else { return nil }
        if s == floor, s > 0, has(s - 1, ByteClass.hex) || b[s - 1] == UInt8(ascii: ":") { return nil }
        guard isIPv6(s..<e) else { return nil }
        emit(s..<e, .ip)
        return e
    }

    /// Whether the bytes in `range` are an IPv6 address as described on ``ipv6(around:)``.
    func isIPv6(_ range: Range<Int>) -> Bool {
        guard range.count >= 3 else { return false }
        var groups = 0
        var compressed = false
        var hasDecimal = false
        var k = range.lowerBound
        if b[k] == UInt8(ascii: ":") {
            guard b[k + 1] == UInt8(ascii: ":") else { return false }
            compressed = true
            k += 2
            if k == range.upperBound { return false }  // "::" alone
        }
        while k < range.upperBound {
            let groupStart = k
            while k < range.upperBound, has(k, ByteClass.hex) {
                if has(k, ByteClass.digit) { hasDecimal = true }
                k += 1
            }
            if k < range.upperBound, b[k] == UInt8(ascii: ".") {
                // An IPv4 tail: it must be the last thing, and counts as two groups.
                guard groupStart < k, isIPv4(groupStart..<range.upperBound) else { return false }
                groups += 2
                k = range.upperBound
                break
            }
            let length = k - groupStart
            guard length >= 1, length <= 4 else { return false }
            groups += 1
            if k == range.upperBound { break }
            // b[k] is ':'
            k += 1
            if k < range.upperBound, b[k] == UInt8(ascii: ":") {
                guard !compressed else { return false }
                compressed = true
                k += 1
                if k == range.upperBound { break }
            } else if k == range.upperBound {
                return false  // a single trailing colon
            }
        }
        if compressed { return groups <= 7 && hasDecimal }
        return groups == 8
    }

    /// Whether `range` is exactly a dotted IPv4 address: four decimal octets ≤ 255 without leading zeros.
    func isIPv4(_ range: Range<Int>) -> Bool {
        var k = range.lowerBound
        for octet in 0..<4 {
            let start = k
            var value = 0
            while k < range.upperBound, k - start < 4, has(k, ByteClass.digit) {
                value = value * 10 + Int(b[k] - 0x30)
                k += 1
            }
            let length = k - start
            guard length >= 1, length <= 3, value <= 255, length == 1 || b[start] != UInt8(ascii: "0") else { return false }
            if octet < 3 {
                guard k < range.upperBound, b[k] == UInt8(ascii: ".") else { return false }
                k += 1
            }
        }
        return k == range.upperBound
    }
}
