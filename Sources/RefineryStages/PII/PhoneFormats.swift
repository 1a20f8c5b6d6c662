/// How people write phone numbers: the national formats the scanner accepts, and the national number lengths of
/// international (`+CC`) numbers.
///
/// A national format is a pattern over a number's shape (digits, and the separators ` - . / ( )`):
/// `d` any digit, `N` 2–9, `X` 1–9, `M` 6–9; `~` one of ` - .`, `_` one of ` -`, `|` one of ` - /` (the same one
/// throughout a number); any other character stands for itself. A bare run of digits is never a national number
/// (order numbers are), and every format has at least one separator.
enum PhoneFormats {
    /// National formats, by country.
    static let national: [String] = [
        // United States and Canada (NANP): area code and exchange start with 2–9.
        "(Ndd) Ndd-dddd", "(Ndd) Ndd dddd", "(Ndd) Ndd.dddd", "(Ndd)Ndd-dddd", "Ndd~Ndd~dddd", "1~Ndd~Ndd~dddd",
        "1 (Ndd) Ndd-dddd",
        // United Kingdom: 11 digits from a 0.
        "02d~dddd~dddd", "01dd~ddd~dddd", "01ddd~dddddd", "01ddd~ddd~ddd", "07ddd~dddddd", "07ddd~ddd~ddd",
        "03dd~ddd~dddd", "08dd~ddd~dddd", "(02d) dddd dddd", "(01dd) ddd dddd", "(01ddd) dddddd",
        // France: five pairs from 0X.
        "0X~dd~dd~dd~dd",
        // Spain: nine digits from 6–9 (not with dots: 912.345.678 is a thousands-grouped number).
        "Mdd_ddd_ddd", "Mdd~dd~dd~dd", "9d~ddd~dd~dd",
        // Italy: mobiles from 3, land lines from 0.
        "3dd~ddd~dddd", "3dd~ddddddd", "0X~dddd~dddd", "0X~dddddddd",
        // Netherlands.
        "06~dd~dd~dd~dd", "0Xd~ddd~dddd", "0Xd~ddddddd",
        // Brazil: area code in parentheses, mobiles with nine digits.
        "(dd) Mdddd-dddd", "(dd) dddd-dddd", "(dd) Mdddd dddd", "(dd)Mdddd-dddd", "dd Mdddd-dddd",
        // India: ten-digit mobiles from 6–9 split 5 + 5, land lines from 0.
        "Mdddd ddddd", "0dd~dddd~dddd", "0Mdddd ddddd",
        // Japan and Korea: hyphenated, from 0.
        "0X-dddd-dddd", "0X0-dddd-dddd", "0Xd-ddd-dddd", "0Xdd-dd-dddd", "0120-ddd-ddd", "0X0 dddd dddd",
        // Australia.
        "(0X) dddd dddd", "(0X) dddd-dddd", "0X~dddd~dddd", "04dd~ddd~ddd", "1300~ddd~ddd", "1800~ddd~ddd",
        // Russia: trunk 8, area code often in parentheses, subscriber 3-2-2.
        "8~(ddd)~ddd-dd-dd", "8 (ddd) ddd-dd-dd", "8(ddd)ddd-dd-dd", "8~ddd~ddd~dd~dd", "8 ddd ddd-dd-dd",
        // China: mobiles 3-4-4 from 1, land lines with a 3–4 digit area code.
        "1Nd~dddd~dddd", "0dd-dddddddd", "0ddd-ddddddd",
    ] + germanFormats

    /// Germany (also Austria and Switzerland's usage): an area code of 3–5 digits with its 0, then the subscriber,
    /// 10–12 digits in all, split by a space, `/` or `-`, or with the area code in parentheses.
    static let germanFormats: [String] = {
        var formats: [String] = []
        for (area, subscriber) in [(3, 7), (3, 8), (4, 6), (4, 7), (4, 8), (5, 5), (5, 6)] {
            let code = "0X" + String(repeating: "d", count: area - 2)
            let number = String(repeating: "d", count: subscriber)
            formats.append(code + "|" + number)
            formats.append("(" + code + ") " + number)
        }
        return formats
    }()

    /// The national formats' bytes, one after another; format `k` is `compiled[starts[k]..<starts[k + 1]]`.
    static let compiled: ContiguousArray<UInt8> = ContiguousArray(national.joined().utf8)

    /// Where each format starts in ``compiled``, and the end as a last element.
    static let starts: ContiguousArray<Int> = {
        var starts: ContiguousArray<Int> = [0]
        for format in national { starts.append(starts[starts.count - 1] + format.utf8.count) }
        return starts
    }()

    /// How many digits the country code at the start of `digits` (the digits after `+`) has: 1 for `1` and `7`,
    /// 2 for the two-digit codes, otherwise 3.
    static func countryCodeLength(_ first: Int, _ second: Int) -> Int {
        if first == 1 || first == 7 { return 1 }
        return twoDigitCodes.contains(first * 10 + second) ? 2 : 3
    }

    static let twoDigitCodes: Set<Int> = [
        20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58, 60, 61,
        62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
    ]

    /// The lengths of national significant numbers (without the trunk 0) for a country code.
    static func nationalLengths(_ code: Int) -> ClosedRange<Int> {
        switch code {
        case 1, 7, 52, 90, 91: return 10...10
        case 44, 81, 84: return 9...10
        case 49, 43: return 6...13
        case 33, 34, 31, 61, 27, 48, 351, 40, 41: return 9...9
        case 39: return 6...11
        case 55, 86: return 10...11
        case 82, 20, 63, 64: return 8...10
        case 32, 36, 66: return 8...9
        case 45, 47, 65: return 8...8
        case 46: return 7...9
        case 30: return 10...10
        case 353: return 7...9
        case 62: return 8...12
        default: return 6...12
        }
    }
}
