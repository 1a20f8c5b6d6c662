import RefineryRecords
import RefinerySpec

/// Stage 3: redact personal and secret data, count it by type, and drop records that are mostly PII.
///
/// Every match found by ``PIIScanner`` in `text` and in each message's `content` is replaced by its type's
/// placeholder: `<EMAIL>`, `<PHONE>`, `<CARD>`, `<IBAN>`, `<IP>`, `<URL_CREDENTIALS>` (the whole URL that carries a
/// password or token, since its host and path usually identify the account too), `<SECRET>`. The record's `pii`
/// counts get every type's key in a fixed order (`email`, `phone`, `card`, `iban`, `ip`, `url_credentials`,
/// `secret`), zeros included and whatever `types` says, so every shard has one schema; counts the record already
/// carried (a rerun on redacted shards) are added to, other keys kept after them.
///
/// `scores.pii_density` is the fraction of the record's characters (Unicode scalars, all turns together) that were
/// inside a match, in [0, 1], 0 for an empty record. A record is dropped with reason `pii_density` when its density
/// is above `max_density` and it has at least `min_items` matches, so a chat turn that is one short e-mail address
/// is redacted and kept, and so is a support chat that quotes an address and a card, while a contact list, a
/// log of addresses or a key dump goes. A dropped record is redacted too: rejects never hold the PII.
///
/// Every IP address is redacted, private and documentation ranges included (a dotted quad right after `version`,
/// `build`, `firmware`, `section`… is taken for a version or section number instead). Phones are E.164 (`+` and a
/// country code) or one of the national formats of ``PhoneFormats``; a national number written another way is
/// missed, and a bare run of digits is never a phone.
///
/// Parameters: `types` (list of type keys, default all), `max_density` (default 0.5), `min_items` (default 3).
/// Event: `pii_redacted`, once per kept record that had anything redacted.
public struct PIIStage: Stage {
    public let name = "pii"
    public var scanner = PIIScanner()
    /// Drop above this fraction of characters inside matches.
    public var maxDensity = 0.5
    /// ... but only records with at least this many matches.
    public var minItems = 3

    /// The defaults above: all types, `max_density` 0.5, `min_items` 3.
    public init() {}

    /// Reads `types`, `max_density` and `min_items` from the spec.
    /// - Throws: ``RefineryError`` at the offending key or list item: an unknown type, a density outside [0, 1], a
    ///   `min_items` below 1.
    public init(parameters: SpecNode) throws {
        let table = try parameters.table(allowed: ["types", "max_density", "min_items"])
        if let node = table.optional("types") {
            let items = (try? node.list()) ?? [node]
            var types: [PIIType] = []
            for item in items {
                let key = try item.string()
                guard let type = PIIType(key: key) else {
                    throw item.error("unknown PII type '\(key)'; known types: \(PIIType.allCases.map(\.key).joined(separator: ", "))")
                }
                types.append(type)
            }
            guard !types.isEmpty else { throw node.error("types is empty; leave it out to find every type") }
            scanner.types = PIITypeSet(types)
        }
        if let node = table.optional("max_density") {
            maxDensity = try node.double()
            guard (0...1).contains(maxDensity) else {
                throw node.error("max_density (\(maxDensity)) must be between 0 and 1: the fraction of characters that are PII")
            }
        }
        if let node = table.optional("min_items") {
            minItems = try node.int()
            guard minItems >= 1 else { throw node.error("min_items (\(minItems)) must be at least 1") }
        }
    }

    public func process(_ record: inout Record, view: inout RecordView, tally: inout StageTally) -> StageDecision {
        var counts = SIMD8<Int>()
        var piiScalars = 0
        var changed = false
        if let text = record.text, let redacted = redact(text, counts: &counts, piiScalars: &piiScalars) {
            record.text = redacted
            changed = true
        }
        if var messages = record.messages {
            var messagesChanged = false
            for i in messages.indices {
                if let redacted = redact(messages[i].content, counts: &counts, piiScalars: &piiScalars) {
                    messages[i].content = redacted
                    messagesChanged = true
                }
            }
            if messagesChanged {
                record.messages = messages
                changed = true
            }
        }
        setCounts(counts, on: &record)
        let items = counts.wrappedSum()
        var density = 0.0
        if items > 0 {
            // Characters after redaction plus those the placeholders took the place of.
            var scalars = piiScalars
            if let text = record.text { scalars += ByteLanes.scalarCount(text) }
            for message in record.messages ?? [] { scalars += ByteLanes.scalarCount(message.content) }
            for type in PIIType.ordered { scalars -= counts[type.rawValue] * type.placeholder.utf8.count }
            density = scalars > 0 ? min(1, Double(piiScalars) / Double(scalars)) : 0
        }
        record.setScore("pii_density", density)
        if changed { view.invalidate() }
        if density > maxDensity && items >= minItems {
            let found = PIIType.ordered.filter { counts[$0.rawValue] > 0 }.map { "\(counts[$0.rawValue]) \($0.key)" }
            return .drop(reason: "pii_density", detail: "\(Self.percent(density)) of characters are PII (max \(Self.percent(maxDensity))): \(found.joined(separator: ", "))")
        }
        if changed { tally.note("pii_redacted") }
        return .keep
    }

    /// The text with every match replaced by its placeholder, or `nil` when nothing matched. Adds to `counts` (by
    /// ``PIIType/rawValue``) and to `piiScalars` (characters inside matches).
    func redact(_ text: String, counts: inout SIMD8<Int>, piiScalars: inout Int) -> String? {
        PIIScanner.withUTF8(text) { bytes -> String? in
            let matches = scanner.matches(in: bytes)
            guard !matches.isEmpty else { return nil }
            var capacity = bytes.count
            for match in matches {
                counts[match.type.rawValue] += 1
                for k in match.range where bytes[k] & 0xC0 != 0x80 { piiScalars += 1 }
                capacity += match.type.placeholder.utf8.count
            }
            return String(unsafeUninitializedCapacity: capacity) { out in
                var written = 0
                var from = 0
                func copy(_ source: UnsafeBufferPointer<UInt8>) {
                    guard let base = source.baseAddress, let target = out.baseAddress, source.count > 0 else { return }
                    (target + written).initialize(from: base, count: source.count)
                    written += source.count
                }
                for match in matches {
                    copy(UnsafeBufferPointer(rebasing: bytes[from..<match.range.lowerBound]))
                    var placeholder = match.type.placeholder
                    placeholder.withUTF8 { copy($0) }
                    from = match.range.upperBound
                }
                copy(UnsafeBufferPointer(rebasing: bytes[from..<bytes.count]))
                return written
            }
        }
    }

    /// Writes this stage's counts into the record: every type in order (adding to counts already there), then any
    /// other keys the record carried.
    func setCounts(_ counts: SIMD8<Int>, on record: inout Record) {
        var pii: [(key: String, value: Int)] = []
        pii.reserveCapacity(PIIType.ordered.count + record.pii.count)
        for type in PIIType.ordered {
            var value = counts[type.rawValue]
            if !record.pii.isEmpty, let before = record.pii.first(where: { $0.key == type.key }) { value += before.value }
            pii.append((type.key, value))
        }
        for entry in record.pii where PIIType(key: entry.key) == nil { pii.append(entry) }
        record.pii = pii
    }

    static func percent(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
