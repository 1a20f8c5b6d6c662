import Foundation
import RefineryRecords

/// Turns a subtitle file's bytes into UTF-8: strips a UTF-8 BOM, transcodes UTF-32 (with a BOM) and UTF-16 (with
/// a BOM, or without one when every other byte is zero), and re-decodes files that are not valid UTF-8 from the spec's legacy
/// `encoding` (subtitles from older tools are often windows-1252 or windows-1251).
public enum SubtitleText {
    /// A legacy 8-bit encoding a spec can declare.
    public enum Legacy: Sendable, Equatable {
        /// windows-1252 with the WHATWG mapping (its five unassigned bytes become C1 controls, so decoding never fails).
        case windows1252
        /// Any encoding Foundation decodes.
        case foundation(String.Encoding, name: String)

        /// The names a spec may use.
        public static let names = ["windows-1252", "cp1252", "iso-8859-1", "latin1", "iso-8859-2", "windows-1250", "cp1250",
                                   "windows-1251", "cp1251", "windows-1253", "cp1253", "windows-1254", "cp1254", "shift_jis", "euc-jp"]

        /// The encoding for a spec name (case-insensitive), or nil.
        public init?(name: String) {
            switch name.lowercased() {
            case "windows-1252", "cp1252": self = .windows1252
            case "iso-8859-1", "latin1": self = .foundation(.isoLatin1, name: "iso-8859-1")
            case "iso-8859-2": self = .foundation(.isoLatin2, name: "iso-8859-2")
            case "windows-1250", "cp1250": self = .foundation(.windowsCP1250, name: "windows-1250")
            case "windows-1251", "cp1251": self = .foundation(.windowsCP1251, name: "windows-1251")
            case "windows-1253", "cp1253": self = .foundation(.windowsCP1253, name: "windows-1253")
            case "windows-1254", "cp1254": self = .foundation(.windowsCP1254, name: "windows-1254")
            case "shift_jis": self = .foundation(.shiftJIS, name: "shift_jis")
            case "euc-jp": self = .foundation(.japaneseEUC, name: "euc-jp")
            default: return nil
            }
        }

        var name: String {
            switch self {
            case .windows1252: "windows-1252"
            case .foundation(_, let name): name
            }
        }
    }

    /// How the bytes were read.
    public enum Origin: String, Sendable {
        case utf8, utf16le, utf16be, utf32, legacy
    }

    /// What ``decode(_:legacy:)`` found: UTF-8 to read in place (after a BOM of `offset` bytes), or a transcoded copy.
    public enum Text {
        case inPlace(offset: Int)
        case transcoded([UInt8], Origin)
    }

    /// The text as UTF-8 bytes (a copy) and how it was decoded.
    /// - Throws: ``DecodeFailure`` `undecodable_text` when the bytes are neither UTF-8, UTF-16, nor `legacy`.
    public static func utf8(_ bytes: UnsafeBufferPointer<UInt8>, legacy: Legacy) throws(DecodeFailure) -> (bytes: [UInt8], origin: Origin) {
        switch try decode(bytes, legacy: legacy) {
        case .inPlace(let offset): (Array(bytes[offset...]), .utf8)
        case .transcoded(let text, let origin): (text, origin)
        }
    }

    /// How to read the bytes as UTF-8, copying only when they must be transcoded.
    /// - Throws: ``DecodeFailure`` `undecodable_text` when the bytes are neither UTF-8, UTF-16, nor `legacy`.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>, legacy: Legacy) throws(DecodeFailure) -> Text {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            let body = UnsafeBufferPointer(rebasing: bytes[3...])
            if isValidUTF8(body) { return .inPlace(offset: 3) }
            return .transcoded(try redecode(body, legacy), .legacy)
        }
        if bytes.count >= 4 && bytes[0] == 0xFF && bytes[1] == 0xFE && bytes[2] == 0 && bytes[3] == 0 {
            return .transcoded(utf32(UnsafeBufferPointer(rebasing: bytes[4...]), littleEndian: true), .utf32)
        }
        if bytes.count >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0xFE && bytes[3] == 0xFF {
            return .transcoded(utf32(UnsafeBufferPointer(rebasing: bytes[4...]), littleEndian: false), .utf32)
        }
        if bytes.count >= 2 && bytes[0] == 0xFF && bytes[1] == 0xFE {
            return .transcoded(try utf16(UnsafeBufferPointer(rebasing: bytes[2...]), littleEndian: true), .utf16le)
        }
        if bytes.count >= 2 && bytes[0] == 0xFE && bytes[1] == 0xFF {
            return .transcoded(try utf16(UnsafeBufferPointer(rebasing: bytes[2...]), littleEndian: false), .utf16be)
        }
        if isValidUTF8(bytes) {
            // UTF-16 without a BOM is valid UTF-8 too (ASCII with NULs): recognise it by its zero bytes.
            if let littleEndian = looksLikeBOMlessUTF16(bytes) {
                return .transcoded(try utf16(bytes, littleEndian: littleEndian), littleEndian ? .utf16le : .utf16be)
            }
            return .inPlace(offset: 0)
        }
        return .transcoded(try redecode(bytes, legacy), .legacy)
    }

    /// Whether `bytes` is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), without
    /// copying. Eight bytes at a time (SWAR: bit tricks on a 64-bit word) while the text holds only ASCII and
    /// two-byte sequences (Latin, Greek, Cyrillic, Hebrew, Arabic: most subtitles), one sequence at a time otherwise.
    public static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let n = bytes.count
        // One sequence at `i`; returns the index after it, or nil when invalid.
        func scalar(_ i: Int) -> Int? {
            let b = base[i]
            if b < 0x80 { return i + 1 }
            if b < 0xC2 { return nil }
            if b < 0xE0 { return i + 1 < n && base[i + 1] & 0xC0 == 0x80 ? i + 2 : nil }
            if b < 0xF0 {
                guard i + 2 < n else { return nil }
                let b1 = base[i + 1], b2 = base[i + 2]
                guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80, !(b == 0xE0 && b1 < 0xA0), !(b == 0xED && b1 >= 0xA0) else { return nil }
                return i + 3
            }
            if b < 0xF5 {
                guard i + 3 < n else { return nil }
                let b1 = base[i + 1], b2 = base[i + 2], b3 = base[i + 3]
                guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80, !(b == 0xF0 && b1 < 0x90), !(b == 0xF4 && b1 >= 0x90)
                else { return nil }
                return i + 4
            }
            return nil
        }
        /// 0x80 in each byte of `x` that is zero, 0 elsewhere (exact, no borrow across bytes).
        @inline(__always) func zeroBytes(_ x: UInt64) -> UInt64 {
            ~(((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | x | 0x7F7F_7F7F_7F7F_7F7F)
        }
        var i = 0
        // 0x80 when the byte before `i` is a two-byte lead whose continuation is the byte at `i`.
        var leadBefore: UInt64 = 0
        while i < n {
            if i + 8 <= n {
                let w = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                if w & 0x8080_8080_8080_8080 == 0 && leadBefore == 0 {
                    i += 8
                    continue
                }
                let top3 = w & 0xE0E0_E0E0_E0E0_E0E0
                if zeroBytes(top3 ^ 0xE0E0_E0E0_E0E0_E0E0) == 0 {
                    // ASCII, two-byte leads (110xxxxx) and continuations (10xxxxxx) only.
                    let continuation = zeroBytes((w & 0xC0C0_C0C0_C0C0_C0C0) ^ 0x8080_8080_8080_8080)
                    let lead = zeroBytes(top3 ^ 0xC0C0_C0C0_C0C0_C0C0)
                    let overlong = zeroBytes((w & 0xFEFE_FEFE_FEFE_FEFE) ^ 0xC0C0_C0C0_C0C0_C0C0)
                    if overlong != 0 || continuation != (lead << 8 | leadBefore) { return false }
                    leadBefore = lead >> 56
                    i += 8
                    continue
                }
            }
            // Three- and four-byte sequences, and the tail: one sequence at a time, from a sequence start.
            if leadBefore != 0 {
                i -= 1
                leadBefore = 0
            }
            let end = min(i + 8, n)
            while i < end {
                guard let next = scalar(i) else { return false }
                i = next
            }
        }
        return leadBefore == 0
    }

    /// Byte-at-a-time reference for ``isValidUTF8(_:)`` (tests compare the two).
    static func isValidUTF8Reference(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        String(validating: bytes, as: UTF8.self) != nil
    }

    private static func looksLikeBOMlessUTF16(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        let sample = min(bytes.count, 512) & ~1
        guard sample >= 8 else { return nil }
        var evenZeros = 0
        var oddZeros = 0
        for i in stride(from: 0, to: sample, by: 2) {
            if bytes[i] == 0 { evenZeros += 1 }
            if bytes[i + 1] == 0 { oddZeros += 1 }
        }
        let pairs = sample / 2
        if oddZeros * 10 >= pairs * 8 && evenZeros * 10 < pairs { return true }
        if evenZeros * 10 >= pairs * 8 && oddZeros * 10 < pairs { return false }
        return nil
    }

    private static func utf16(_ bytes: UnsafeBufferPointer<UInt8>, littleEndian: Bool) throws(DecodeFailure) -> [UInt8] {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var i = 0
        while i + 1 < bytes.count {
            let a = UInt16(bytes[i]), b = UInt16(bytes[i + 1])
            units.append(littleEndian ? a | b << 8 : a << 8 | b)
            i += 2
        }
        // A lone surrogate or an odd trailing byte becomes U+FFFD, as in every UTF-16 decoder.
        var text = String(decoding: units, as: UTF16.self)
        if bytes.count % 2 == 1 { text.append("\u{FFFD}") }
        return Array(text.utf8)
    }

    private static func utf32(_ bytes: UnsafeBufferPointer<UInt8>, littleEndian: Bool) -> [UInt8] {
        var text = String.UnicodeScalarView()
        var i = 0
        while i + 3 < bytes.count {
            let b = (UInt32(bytes[i]), UInt32(bytes[i + 1]), UInt32(bytes[i + 2]), UInt32(bytes[i + 3]))
            let value = littleEndian ? b.0 | b.1 << 8 | b.2 << 16 | b.3 << 24 : b.0 << 24 | b.1 << 16 | b.2 << 8 | b.3
            text.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            i += 4
        }
        if bytes.count % 4 != 0 { text.append("\u{FFFD}") }
        return Array(String(text).utf8)
    }

    private static func redecode(_ bytes: UnsafeBufferPointer<UInt8>, _ legacy: Legacy) throws(DecodeFailure) -> [UInt8] {
        switch legacy {
        case .windows1252:
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + bytes.count / 8)
            for byte in bytes {
                if byte < 0x80 {
                    out.append(byte)
                } else {
                    let scalar = byte < 0xA0 ? windows1252High[Int(byte - 0x80)] : UInt32(byte)
                    appendUTF8(scalar, to: &out)
                }
            }
            return out
        case .foundation(let encoding, let name):
            guard let text = String(bytes: bytes, encoding: encoding) else {
                throw DecodeFailure(reason: "undecodable_text", detail: "neither UTF-8, UTF-16 nor \(name) (the source's encoding option)")
            }
            return Array(text.utf8)
        }
    }

    private static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        if scalar < 0x800 {
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        } else {
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | (scalar >> 6) & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// windows-1252 bytes 0x80–0x9F (WHATWG): the five unassigned ones map to the C1 control of the same value.
    private static let windows1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]
}
