/// Reads the time of an interaction as whole seconds since 1970 (UTC).
///
/// Accepted: an integer (`881250949`, `-5`), a number with a zero fraction (`881250949.0`, `8.8125e8`), or an
/// ISO-8601 date and time in UTC: `YYYY-MM-DDTHH:MM:SS` or `YYYY-MM-DD HH:MM:SS`, optionally with a fraction of a
/// second (dropped) and a final `Z`. Offsets such as `+02:00` are not accepted.
public enum InteractionTimestamp {
    /// The time `text` gives, or `nil` when it is none of the accepted forms.
    public static func parse(_ text: some Collection<UInt8>) -> Int64? {
        if let parsed = text.withContiguousStorageIfAvailable({ parse(buffer: $0) }) { return parsed }
        return Array(text).withUnsafeBufferPointer { parse(buffer: $0) }
    }

    private static func parse(buffer bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        if bytes.isEmpty { return nil }
        if let whole = integer(bytes) { return whole }
        if bytes.count >= 19 && bytes[4] == UInt8(ascii: "-") { return iso8601(bytes) }
        guard bytes.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E")
            || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") }),
            let number = Double(String(decoding: bytes, as: UTF8.self)), number.isFinite
        else { return nil }
        return Int64(exactly: number)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// An optionally signed run of digits that fits in 64 bits.
    private static func integer(_ bytes: some Collection<UInt8>) -> Int64? {
        var digits = bytes[...]
        var negative = false
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy(isDigit) else { return nil }
        var value: Int64 = 0
        for digit in digits {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (plus, overflow2) = times.addingReportingOverflow(Int64(digit - 0x30))
            if overflow1 || overflow2 { return nil }
            value = plus
        }
        return negative ? -value : value
    }

    /// `YYYY-MM-DD[T ]HH:MM:SS[.fff][Z]`.
    private static func iso8601(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        func number(_ range: Range<Int>) -> Int64? {
            guard bytes[range].allSatisfy(isDigit) else { return nil }
            return integer(bytes[range])
        }
        guard bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var end = 19
        if end < bytes.count && bytes[end] == UInt8(ascii: ".") {
            end += 1
            let digitsStart = end
            while end < bytes.count && isDigit(bytes[end]) { end += 1 }
            if end == digitsStart { return nil }
        }
        if end < bytes.count && bytes[end] == UInt8(ascii: "Z") { end += 1 }
        guard end == bytes.count else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's algorithm).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
