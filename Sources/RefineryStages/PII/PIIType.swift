/// A kind of personal or secret data the PII stage finds and redacts.
///
/// The order of the cases is the order of the keys in a record's `pii` counts, so shards keep one schema.
public enum PIIType: Int, CaseIterable, Sendable {
    /// An e-mail address (`ana.silva@example.com`).
    case email
    /// A phone number: E.164 (`+44 20 7946 0958`) or a national format of one of the supported countries.
    case phone
    /// A payment card number that passes the Luhn check and has a known issuer prefix and length.
    case card
    /// An IBAN whose length fits its country and whose mod-97 checksum holds.
    case iban
    /// An IPv4 or IPv6 address.
    case ip
    /// A URL that carries a password (`https://user:pass@host`) or a token-like query parameter.
    case urlCredentials
    /// An API key, access token, JWT or PEM private-key block.
    case secret

    /// The key in a record's `pii` counts and in the stage's `types` parameter.
    public var key: String {
        switch self {
        case .email: "email"
        case .phone: "phone"
        case .card: "card"
        case .iban: "iban"
        case .ip: "ip"
        case .urlCredentials: "url_credentials"
        case .secret: "secret"
        }
    }

    /// The text that replaces a match: the key in upper case between angle brackets.
    public var placeholder: String {
        switch self {
        case .email: "<EMAIL>"
        case .phone: "<PHONE>"
        case .card: "<CARD>"
        case .iban: "<IBAN>"
        case .ip: "<IP>"
        case .urlCredentials: "<URL_CREDENTIALS>"
        case .secret: "<SECRET>"
        }
    }

    /// Every type, in ``rawValue`` order; kept once (`allCases` builds a new array on each use).
    public static let ordered: [PIIType] = allCases

    /// The type whose ``key`` is `key`, if any.
    public init?(key: String) {
        guard let type = Self.ordered.first(where: { $0.key == key }) else { return nil }
        self = type
    }
}

/// A set of ``PIIType``s, stored as bits.
public struct PIITypeSet: Sendable, Equatable {
    var bits: UInt8

    /// Every type.
    public static let all = PIITypeSet(PIIType.allCases)

    /// The set of `types`.
    public init(_ types: [PIIType]) {
        bits = types.reduce(0) { $0 | 1 << UInt8($1.rawValue) }
    }

    /// Whether `type` is in the set.
    @inline(__always)
    public func contains(_ type: PIIType) -> Bool { bits & 1 << UInt8(type.rawValue) != 0 }
}

/// One match: where it is in the UTF-8 bytes of the text, and what it is.
public struct PIIMatch: Sendable, Equatable {
    /// Byte offsets into the UTF-8 text.
    public var range: Range<Int>
    public var type: PIIType

    public init(_ range: Range<Int>, _ type: PIIType) {
        self.range = range
        self.type = type
    }
}
