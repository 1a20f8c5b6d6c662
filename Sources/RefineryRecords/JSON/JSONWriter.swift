/// Appends compact JSON to a byte buffer: no spaces, keys in the order given, non-ASCII as raw UTF-8,
/// numbers in Swift's shortest round-trip form. The same value always gives the same bytes.
public struct JSONWriter {
    /// The JSON written so far.
    public var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer, keeping its storage.
    public mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    @inline(__always)
    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// Writes `"key":`.
    public mutating func key(_ key: String) {
        string(key)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes a JSON string with the escapes RFC 8259 requires.
    public mutating func string(_ value: String) {
        var copy = value
        copy.withUTF8 { utf8 in
            bytes.append(UInt8(ascii: "\""))
            // Most strings need no escape: check in one branch-free pass and copy them whole.
            var special: UInt8 = 0
            for byte in utf8 {
                special |= unsafeBitCast(byte < 0x20, to: UInt8.self) | unsafeBitCast(byte == 0x22, to: UInt8.self)
                    | unsafeBitCast(byte == 0x5C, to: UInt8.self)
            }
            if special == 0 {
                bytes.append(contentsOf: utf8)
                bytes.append(UInt8(ascii: "\""))
                return
            }
            var runStart = 0
            for i in 0..<utf8.count {
                let byte = utf8[i]
                if byte >= 0x20 && byte != 0x22 && byte != 0x5C { continue }
                if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
                runStart = i + 1
                switch byte {
                case 0x22: raw("\\\"")
                case 0x5C: raw("\\\\")
                case 0x0A: raw("\\n")
                case 0x0D: raw("\\r")
                case 0x09: raw("\\t")
                case 0x08: raw("\\b")
                case 0x0C: raw("\\f")
                default:
                    raw("\\u00")
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(hex.utf8Start[Int(byte >> 4)])
                    bytes.append(hex.utf8Start[Int(byte & 0xF)])
                }
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count])) }
            bytes.append(UInt8(ascii: "\""))
        }
    }

    /// Writes a finite number in its shortest round-trip form; non-finite values become `null`.
    public mutating func number(_ value: Double) { double(value, wholeAsFloat: false) }

    /// Writes a finite number as a JSON float: like ``number(_:)-(Double)``, but a whole value keeps a fraction (`0.0`,
    /// `1.0`), so that readers which infer a column's type from its first rows (Arrow, Hugging Face `datasets`) see a
    /// float column instead of an integer one that a later `0.25` cannot fit. Non-finite values become `null`.
    public mutating func float(_ value: Double) { double(value, wholeAsFloat: true) }

    /// A whole value below 10^15 as an integer (with `.0` when `wholeAsFloat`), others in their shortest form.
    private mutating func double(_ value: Double, wholeAsFloat: Bool) {
        guard value.isFinite else {
            raw("null")
            return
        }
        if value == value.rounded(), abs(value) < 1e15 {
            bytes.append(contentsOf: String(Int64(value)).utf8)
            if wholeAsFloat { raw(".0") }
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    /// Writes an integer.
    public mutating func number(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes any JSON value.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): if flag { raw("true") } else { raw("false") }
        case .number(let text): bytes.append(contentsOf: text.utf8)
        case .string(let text): string(text)
        case .array(let elements):
            byte(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { byte(UInt8(ascii: ",")) }
                self.value(element)
            }
            byte(UInt8(ascii: "]"))
        case .object(let members):
            byte(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { byte(UInt8(ascii: ",")) }
                key(member.key)
                self.value(member.value)
            }
            byte(UInt8(ascii: "}"))
        }
    }
}
