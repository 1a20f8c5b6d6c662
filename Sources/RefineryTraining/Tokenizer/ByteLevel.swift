/// GPT-2's byte-level alphabet: every byte is shown as one printable Unicode character, so that a token (a byte
/// string) can be written in `vocab.json` and `merges.txt` as text. The 188 printable bytes (`!`…`~`, `¡`…`¬`,
/// `®`…`ÿ`) stand for themselves; the other 68 (controls, space, DEL, NBSP, soft hyphen…) become U+0100 onwards,
/// in byte order. Token ids 0–255 follow GPT-2's order: printable bytes first, then the moved ones.
public enum ByteLevel {
    /// The bytes in id order.
    public static let bytesByID: [UInt8] = {
        let printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        let others = (0...255).filter { !printable.contains($0) }
        return (printable + others).map(UInt8.init)
    }()

    /// The token id of each byte.
    public static let idOfByte: [Int32] = {
        var ids = [Int32](repeating: 0, count: 256)
        for (id, byte) in bytesByID.enumerated() { ids[Int(byte)] = Int32(id) }
        return ids
    }()

    /// The character each byte is shown as.
    public static let characterOfByte: [Character] = {
        var table = [Character](repeating: " ", count: 256)
        var moved = 0
        for byte in 0...255 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Character(Unicode.Scalar(UInt8(byte)))
            } else {
                table[byte] = Character(Unicode.Scalar(0x100 + moved)!)
                moved += 1
            }
        }
        return table
    }()

    /// The byte a character stands for, if it is one of the alphabet's.
    public static let byteOfScalar: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for byte in 0...255 { map[characterOfByte[byte].unicodeScalars.first!.value] = UInt8(byte) }
        return map
    }()

    /// A byte string in the alphabet.
    public static func text(_ bytes: some Sequence<UInt8>) -> String {
        String(bytes.map { characterOfByte[Int($0)] })
    }

    /// The bytes behind a string of the alphabet; `nil` when a character is not in it.
    public static func bytes(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        for scalar in text.unicodeScalars {
            guard let byte = byteOfScalar[scalar.value] else { return nil }
            out.append(byte)
        }
        return out
    }
}
