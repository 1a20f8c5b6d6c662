extension PIIScan {
    /// An IBAN starting at `s` (two upper-case country letters): as many letters and digits as the country's IBAN
    /// has, written together or in groups of four separated by single spaces, ending at a word boundary, with a
    /// valid mod-97 checksum.
    mutating func iban(at s: Int) -> Int? {
        guard let length = IBAN.length(country: b[s], b[s + 1]) else { return nil }
        var characters = SIMD64<UInt8>()
        var count = 0
        var k = s
        while count < length, k < n {
            let c = b[k]
            if has(k, ByteClass.alpha | ByteClass.digit) {
                characters[count] = c >= 0x61 ? c - 0x20 : c
                count += 1
                k += 1
            } else if c == UInt8(ascii: " "), count % 4 == 0, has(k + 1, ByteClass.alpha | ByteClass.digit) {
                k += 1
            } else {
                break
            }
        }
        guard count == length, !has(k, ByteClass.word) else { return nil }
        let valid = withUnsafeBytes(of: &characters) { raw in
            IBAN.isValid(UnsafeBufferPointer(start: raw.bindMemory(to: UInt8.self).baseAddress, count: count))
        }
        guard valid else { return nil }
        emit(s..<k, .iban)
        return k
    }
}
