import Foundation

/// Cleans one text in a single pass over its UTF-8: removes control characters (C0 but tab and newline, DEL,
/// C1, stray BOMs), turns CRLF and CR into LF, folds runs of spaces and tabs into one space, trims line ends and
/// the whole text, keeps at most one blank line in a row; then applies Unicode NFC. Counts characters (Unicode
/// scalars) and words (runs of non-whitespace) on the way, so later checks need no second pass.
struct TextCleaner: Sendable {
    var normalizeNFC = true
    var cleanWhitespace = true
    var stripControl = true

    /// 1 for the ASCII whitespace bytes that separate words (space, tab, LF, CR), else 0.
    static let isSpace: [Int] = (0..<256).map { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D ? 1 : 0 }

    struct Result {
        var text: String
        var characters: Int
        var words: Int
        var controlRemoved: Int
        var whitespaceChanged: Bool
        var nfcChanged: Bool
    }

    func clean(_ input: String) -> Result {
        var text = input
        var result = Result(text: "", characters: 0, words: 0, controlRemoved: 0, whitespaceChanged: false, nfcChanged: false)
        var isASCII = true
        let dirty = text.withUTF8 { utf8 in scan(utf8, isASCII: &isASCII) }
        if dirty {
            text = rebuild(text, result: &result)
        }
        if normalizeNFC && !isASCII && !text.withUTF8({ NFCQuickCheck.isCertainlyNFC($0) }) {
            let composed = text.precomposedStringWithCanonicalMapping
            if !composed.utf8.elementsEqual(text.utf8) {
                text = composed
                result.nfcChanged = true
            }
        }
        // Count characters and words on the final text, without data-dependent branches.
        text.withUTF8 { utf8 in
            var characters = 0
            var words = 0
            var previousSpace = 1
            for byte in utf8 {
                characters &+= byte & 0xC0 == 0x80 ? 0 : 1
                let space = Self.isSpace[Int(byte)]
                words &+= previousSpace & (1 &- space)
                previousSpace = space
            }
            result.characters = characters
            result.words = words
        }
        result.text = text
        return result
    }

    /// Whether the text needs rebuilding; sets `isASCII`.
    private func scan(_ utf8: UnsafeBufferPointer<UInt8>, isASCII: inout Bool) -> Bool {
        let count = utf8.count
        if count == 0 { return false }
        var previous: UInt8 = 0x0A
        var newlines = 0
        for i in 0..<count {
            let byte = utf8[i]
            if byte >= 0x80 {
                isASCII = false
                if stripControl {
                    if byte == 0xC2, i + 1 < count, utf8[i + 1] >= 0x80, utf8[i + 1] <= 0x9F { return true }
                    if byte == 0xEF, i + 2 < count, utf8[i + 1] == 0xBB, utf8[i + 2] == 0xBF { return true }
                }
                previous = byte
                newlines = 0
                continue
            }
            if stripControl && ((byte < 0x20 && byte != 0x0A && byte != 0x09 && byte != 0x0D) || byte == 0x7F) { return true }
            if cleanWhitespace {
                if byte == 0x0D || byte == 0x09 { return true }
                if byte == 0x20 && (previous == 0x20 || previous == 0x0A) { return true }
                if byte == 0x0A {
                    if previous == 0x20 { return true }
                    newlines += 1
                    if newlines > 2 || i == 0 { return true }
                } else {
                    newlines = 0
                }
            } else if stripControl && byte == 0x0D {
                return true
            }
            previous = byte
        }
        if cleanWhitespace && (previous == 0x20 || previous == 0x0A) { return true }
        return false
    }

    private func rebuild(_ input: String, result: inout Result) -> String {
        var out: [UInt8] = []
        var text = input
        text.withUTF8 { utf8 in
            out.reserveCapacity(utf8.count)
            var pendingSpace = false
            var pendingNewlines = 0
            var i = 0
            let count = utf8.count
            func emit(_ byte: UInt8) {
                if !out.isEmpty {
                    if pendingNewlines > 0 {
                        out.append(0x0A)
                        if pendingNewlines > 1 { out.append(0x0A) }
                    } else if pendingSpace {
                        out.append(0x20)
                    }
                }
                pendingNewlines = 0
                pendingSpace = false
                out.append(byte)
            }
            while i < count {
                let byte = utf8[i]
                if stripControl {
                    if byte == 0xC2, i + 1 < count, utf8[i + 1] >= 0x80, utf8[i + 1] <= 0x9F {
                        result.controlRemoved += 1
                        i += 2
                        continue
                    }
                    if byte == 0xEF, i + 2 < count, utf8[i + 1] == 0xBB, utf8[i + 2] == 0xBF {
                        result.controlRemoved += 1
                        i += 3
                        continue
                    }
                    if (byte < 0x20 && byte != 0x0A && byte != 0x09 && byte != 0x0D) || byte == 0x7F {
                        result.controlRemoved += 1
                        i += 1
                        continue
                    }
                }
                var newline = byte == 0x0A
                if byte == 0x0D {
                    newline = true
                    if i + 1 < count && utf8[i + 1] == 0x0A { i += 1 }
                }
                if !cleanWhitespace {
                    out.append(newline ? 0x0A : byte)
                    i += 1
                    continue
                }
                if newline {
                    pendingNewlines += 1
                    pendingSpace = false
                } else if byte == 0x20 || byte == 0x09 {
                    if pendingNewlines == 0 { pendingSpace = true }
                } else {
                    emit(byte)
                }
                i += 1
            }
        }
        let rebuilt = String(decoding: out, as: UTF8.self)
        if !rebuilt.utf8.elementsEqual(input.utf8) && cleanWhitespace { result.whitespaceChanged = true }
        return rebuilt
    }
}
