/// The Luhn (mod 10) check that every payment card number passes, and the issuer prefixes and lengths that make a
/// digit string a plausible card number.
public enum Luhn {
    /// Whether the digits (values 0–9, most significant first) pass the Luhn check.
    /// - Complexity: O(n).
    public static func isValid<C: BidirectionalCollection>(_ digits: C) -> Bool where C.Element == UInt8 {
        var sum = 0
        var double = false
        for digit in digits.reversed() {
            var value = Int(digit)
            if double {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
            double.toggle()
        }
        return sum % 10 == 0
    }

    /// Whether a card network issues numbers of this length with this prefix (Visa, Mastercard, American Express,
    /// Discover, JCB, Diners Club, UnionPay, Maestro).
    public static func hasIssuerPrefix<C: Collection>(_ digits: C) -> Bool where C.Element == UInt8, C.Index == Int {
        let n = digits.count
        guard n >= 12, n <= 19 else { return false }
        let s = digits.startIndex
        func prefix(_ k: Int) -> Int { (0..<k).reduce(0) { $0 * 10 + Int(digits[s + $1]) } }
        let two = prefix(2), three = prefix(3), four = prefix(4)
        switch digits[s] {
        case 4: return n == 13 || n == 16 || n == 19                                            // Visa
        case 2: return (2221...2720).contains(four) && n == 16                                   // Mastercard 2-series
        case 5:
            if (51...55).contains(two) { return n == 16 }                                        // Mastercard
            return two == 50 || (56...58).contains(two)                                          // Maestro, 12–19
        case 3:
            if two == 34 || two == 37 { return n == 15 }                                         // American Express
            if two == 35 { return (3528...3589).contains(four) && n >= 16 }                      // JCB
            if two == 36 || two == 38 || two == 39 || (300...305).contains(three) { return n >= 14 } // Diners Club
            return false
        case 6:
            if four == 6011 || (644...649).contains(three) || two == 65 { return n >= 16 }       // Discover
            if two == 62 { return n >= 16 }                                                      // UnionPay
            return two == 63 || two == 67                                                        // Maestro
        default: return false
        }
    }
}
