/// International Bank Account Numbers: the length each country uses and the ISO 13616 mod-97 checksum.
public enum IBAN {
    /// IBAN length by country (SWIFT IBAN registry), keyed by the two ASCII letters packed as `UInt16(a) << 8 | b`.
    static let lengths: [UInt16: Int] = {
        let table: [(String, Int)] = [
            ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16), ("BG", 22), ("BH", 22),
            ("BI", 27), ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22), ("CY", 28), ("CZ", 24), ("DE", 22), ("DJ", 27),
            ("DK", 18), ("DO", 28), ("EE", 20), ("EG", 29), ("ES", 24), ("FI", 18), ("FK", 18), ("FO", 18), ("FR", 27),
            ("GB", 22), ("GE", 22), ("GI", 23), ("GL", 18), ("GR", 27), ("GT", 28), ("HR", 21), ("HU", 28), ("IE", 22),
            ("IL", 23), ("IQ", 23), ("IS", 26), ("IT", 27), ("JO", 30), ("KW", 30), ("KZ", 20), ("LB", 28), ("LC", 32),
            ("LI", 21), ("LT", 20), ("LU", 20), ("LV", 21), ("LY", 25), ("MC", 27), ("MD", 24), ("ME", 22), ("MK", 19),
            ("MN", 20), ("MR", 27), ("MT", 31), ("MU", 30), ("NI", 28), ("NL", 18), ("NO", 15), ("OM", 23), ("PK", 24),
            ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22), ("RU", 33), ("SA", 24), ("SC", 31),
            ("SD", 18), ("SE", 24), ("SI", 19), ("SK", 24), ("SM", 27), ("SO", 23), ("ST", 25), ("SV", 28), ("TL", 23),
            ("TN", 24), ("TR", 26), ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20), ("YE", 30),
        ]
        var lengths: [UInt16: Int] = [:]
        for (code, length) in table {
            let bytes = Array(code.utf8)
            lengths[UInt16(bytes[0]) << 8 | UInt16(bytes[1])] = length
        }
        return lengths
    }()

    /// The IBAN length of the country with ASCII letters `a`, `b` (upper case), or `nil` for a country without IBANs.
    public static func length(country a: UInt8, _ b: UInt8) -> Int? { lengths[UInt16(a) << 8 | UInt16(b)] }

    /// Whether `characters` (ASCII upper-case letters and digits, spaces already removed) is an IBAN of the right
    /// length for its country with a valid mod-97 checksum.
    /// - Complexity: O(n).
    public static func isValid<C: Collection>(_ characters: C) -> Bool where C.Element == UInt8, C.Index == Int {
        let n = characters.count
        guard n >= 15, n <= 34 else { return false }
        let s = characters.startIndex
        guard length(country: characters[s], characters[s + 1]) == n else { return false }
        // Move the first four characters to the end, read letters as 10…35, and take the remainder mod 97.
        var remainder = 0
        for k in 0..<n {
            let c = characters[s + (k + 4) % n]
            switch c {
            case 0x30...0x39: remainder = (remainder * 10 + Int(c - 0x30)) % 97
            case 0x41...0x5A: remainder = (remainder * 100 + Int(c - 0x41) + 10) % 97
            default: return false
            }
        }
        return remainder == 1
    }
}
