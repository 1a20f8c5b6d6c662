extension PIIScan {
    /// An e-mail address around the `@` at `sign`: a local part of `A-Z a-z 0-9 . _ % + -` (1–64 bytes, no leading,
    /// trailing or doubled dot) and a domain of at least two labels whose last (the TLD) is 2–24 letters or
    /// punycode (`xn--`). Image and document extensions are not TLDs here, so `icon@2x.png` is left alone; so are
    /// handles (`@name`) and hosts without a TLD (`root@localhost`).
    mutating func email(at sign: Int) -> Int {
        let floor = max(lastEnd, sign - 65)
        var s = sign
        while s > floor && has(s - 1, ByteClass.local) { s -= 1 }
        if s == sign - 65 { return sign + 1 }  // a local part longer than 64 bytes
        // Start after a doubled dot (`see...ana@x.com`) and after leading punctuation.
        var k = s
        while k + 1 < sign {
            if b[k] == UInt8(ascii: "."), b[k + 1] == UInt8(ascii: ".") { s = k + 2 }
            k += 1
        }
        while s < sign, !has(s, ByteClass.word) { s += 1 }
        guard s < sign, b[sign - 1] != UInt8(ascii: ".") else { return sign + 1 }

        var e = runEnd(from: sign + 1, ByteClass.domain, limit: 254)
        while e > sign + 1, b[e - 1] == UInt8(ascii: ".") || b[e - 1] == UInt8(ascii: "-") { e -= 1 }
        guard e - sign - 1 <= 253, isHostName(sign + 1..<e) else { return sign + 1 }
        emit(s..<e, .email)
        return e
    }

    /// Whether `range` is a host name with a top-level domain: labels of 1–63 bytes, no label starting or ending
    /// with `-`, at least two labels, and a TLD of 2–24 letters (or `xn--…`) that is not a file extension.
    func isHostName(_ range: Range<Int>) -> Bool {
        var labels = 0
        var labelStart = range.lowerBound
        var k = range.lowerBound
        while k <= range.upperBound {
            if k == range.upperBound || b[k] == UInt8(ascii: ".") {
                let length = k - labelStart
                guard length >= 1, length <= 63, b[labelStart] != UInt8(ascii: "-"), b[k - 1] != UInt8(ascii: "-") else { return false }
                labels += 1
                if k < range.upperBound { labelStart = k + 1 }
            } else if !has(k, ByteClass.domain) {
                return false
            }
            k += 1
        }
        guard labels >= 2 else { return false }
        let tld = labelStart..<range.upperBound
        if hasPrefix("xn--", at: tld.lowerBound) { return tld.count >= 5 }
        guard tld.count >= 2, tld.count <= 24 else { return false }
        for k in tld where !has(k, ByteClass.alpha) { return false }
        return !Self.fileExtensions.contains { word in
            word.count == tld.count && word.indices.allSatisfy { word[$0] == b[tld.lowerBound + $0] | 0x20 }
        }
    }

    /// Endings that follow `@` in file names (`logo@2x.png`), not in addresses.
    static let fileExtensions: [[UInt8]] = ["png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "pdf"]
        .map { Array($0.utf8) }
}
