import Foundation
import RefineryRecords
@testable import RefineryStages
import RefinerySpec
import Testing

@Suite struct PIIStageTests {
    func document(_ text: String?) -> Record {
        Record(id: "t/x:1", source: "t", text: text, location: SourceLocation(file: "x", line: 1))
    }

    func stage(_ yaml: String) throws -> PIIStage {
        let spec = try PipelineSpec.parse(yaml: """
            name: t
            sources: [{name: s, kind: jsonl, glob: x}]
            stages:
              - pii: \(yaml)
            output: {dir: out}
            """, file: "t.yaml", baseDirectory: "/tmp")
        return try PIIStage(parameters: spec.stages[0].parameters)
    }

    /// The text after redaction by a default stage.
    func redacted(_ text: String) -> String {
        var record = document(text)
        var tally = StageTally()
        _ = PIIStage().process(&record, tally: &tally)
        return record.text ?? ""
    }

    static let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    static let pem = """
        -----BEGIN RSA PRIVATE KEY-----
        MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun
        VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK
        -----END RSA PRIVATE KEY-----
        """

    @Test("finds each type and replaces it with its placeholder", arguments: [
        ("Write to ana.silva+news@example.co.uk today.", "Write to <EMAIL> today.", PIIType.email),
        ("QQ邮箱 12345@qq.com 谢谢", "QQ邮箱 <EMAIL> 谢谢", .email),
        ("call +44 20 7946 0958 now", "call <PHONE> now", .phone),
        ("Tel. +1 (415) 555-2671.", "Tel. <PHONE>.", .phone),
        ("(415) 555-2671 or 415.555.2671", "<PHONE> or <PHONE>", .phone),
        ("ring +44 (0)20 7946 0958", "ring <PHONE>", .phone),
        ("UK 020 7946 0958, mobile 07700 900123", "UK <PHONE>, mobile <PHONE>", .phone),
        ("Berlin 030 12345678 / 0170 1234567", "Berlin <PHONE> / <PHONE>", .phone),
        ("Appelez le 06 12 34 56 78 svp", "Appelez le <PHONE> svp", .phone),
        ("Llámame al 612 345 678", "Llámame al <PHONE>", .phone),
        ("Chiamami al 312 345 6789", "Chiamami al <PHONE>", .phone),
        ("Bel me op 06-12345678", "Bel me op <PHONE>", .phone),
        ("Ligue (11) 91234-5678", "Ligue <PHONE>", .phone),
        ("call 98765 43210", "call <PHONE>", .phone),
        ("電話 03-1234-5678 まで", "電話 <PHONE> まで", .phone),
        ("ring (02) 9876 5432", "ring <PHONE>", .phone),
        ("Звоните 8 (495) 123-45-67 или +7 (495) 123-45-67", "Звоните <PHONE> или <PHONE>", .phone),
        ("Text +14155552671", "Text <PHONE>", .phone),
        ("card 4111 1111 1111 1111 exp 12/27", "card <CARD> exp 12/27", .card),
        ("4111-1111-1111-1111 and 5555555555554444", "<CARD> and <CARD>", .card),
        ("Amex 3782 822463 10005.", "Amex <CARD>.", .card),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN <IBAN> please", .iban),
        ("to GB82WEST12345698765432.", "to <IBAN>.", .iban),
        ("FR14 2004 1010 0505 0001 3M02 606", "<IBAN>", .iban),
        ("from 203.0.113.5 and 8.8.8.8:53", "from <IP> and <IP>:53", .ip),
        ("host 2001:db8:85a3::8a2e:370:7334 up", "host <IP> up", .ip),
        ("fe80::1 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "<IP> and <IP>", .ip),
        ("net 10.0.0.0/8", "net <IP>/8", .ip),
        ("`server ${host} at 198.51.100.7 ${port}`", "`server ${host} at <IP> ${port}`", .ip),
        ("see https://admin:hunter2@db.example.com/x.", "see <URL_CREDENTIALS>.", .urlCredentials),
        ("GET https://api.example.com/v1/items?limit=5&api_key=abc123def456", "GET <URL_CREDENTIALS>", .urlCredentials),
        ("postgres://app:S3cret@10.0.0.5:5432/db", "<URL_CREDENTIALS>", .urlCredentials),
        ("key sk-proj-abc123DEF456ghi789JKL012mno", "key <SECRET>", .secret),
        ("AWS AKIAIOSFODNN7EXAMPLE end", "AWS <SECRET> end", .secret),
        ("token=ghp_16C7e42F292c6912E7710c838347Ae178B4a", "token=<SECRET>", .secret),
        ("Bearer \(jwt)", "Bearer <SECRET>", .secret),
        ("key:\n\(pem)\nthanks", "key:\n<SECRET>\nthanks", .secret),
        ("slack xoxb-1234567890-abcdefghij", "slack <SECRET>", .secret),
    ])
    func detects(input: String, expected: String, type: PIIType) {
        var record = document(input)
        var tally = StageTally()
        #expect(PIIStage().process(&record, tally: &tally) == .keep)
        #expect(record.text == expected)
        let placeholders = expected.components(separatedBy: type.placeholder).count - 1
        #expect(record.pii.first(where: { $0.key == type.key })?.value == placeholders)
        #expect(record.pii.reduce(0) { $0 + $1.value } == placeholders, "only \(type.key) found: \(record.pii)")
        #expect(tally.events["pii_redacted"] == 1)
    }

    @Test("leaves digit-heavy text that is not PII alone", arguments: [
        "1\n00:01:02,345 --> 00:01:04,000\nHello there.",
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000 align:start position:10%",
        "Released in version 1.2.3.4, then v2.3.1, Python 3.11.7, build 10.0.19045.3803.",
        "Dates: 2024-03-15, 15.03.2024, 03/15/2024, 15 March 2024, 1999-2000.",
        "Prices: $1,299.99, €1.299,99, 1 299,99 €, ¥12,800, £45.00, 912.345.678 €, € 612 345 678, 612 345 678 €.",
        "ISBN 978-3-16-148410-0, ISBN 0-306-40615-2, 9783161484100.",
        "Order 1000234567 shipped; order #4111111111111111; tracking 1Z999AA10123456784.",
        "At 14:30 the score was 3-1; see chapter 3.1.2.1 and section 1.2.3.4.",
        "std::vector<int> and Foo::Bar and MAC 00:1A:2B:3C:4D:5E.",
        "logo icon@2x.png, ping @username, mail root@localhost.",
        "1 000 000 people, 12.99 14.99 15.99, years 1999 2000 2001 2002, room 1204.",
        "Open https://example.com/page?id=42&lang=en#top now.",
        "Call 555-1234 ext. 12 between 9-5; SSN-like 123-45-6789; zip 12345-6789.",
        "sk-learn is a library; AKIA is four letters; eyJ alone.",
        "Decimal('+35236450.6') and +12.5 points; HTML5 sections \"8.2.4.44 Bogus comment\"; § 1.2.3.4.",
    ])
    func leavesNegativesAlone(text: String) {
        #expect(redacted(text) == text)
    }

    @Test("does not redact numbers that fail their checksum", arguments: [
        "card 4111 1111 1111 1112",
        "IBAN DE89 3704 0044 0532 0130 01",
        "GB82WEST12345698765433",
        "4111111111111",
    ])
    func checksumFailures(text: String) {
        #expect(redacted(text) == text)
    }

    @Test("redacts each chat turn, counts across turns and writes every key in a fixed order")
    func chat() {
        let turns = ["My email is ana@example.com and my card 4111 1111 1111 1111.",
                     "Thanks! I've sent the reset link to ana@example.com."]
        var record = Record(id: "t/x:1", source: "t", messages: [
            Message(role: "user", content: turns[0]), Message(role: "assistant", content: turns[1]),
        ], pii: [("email", 1), ("custom", 2)], location: SourceLocation(file: "x", line: 1))
        var tally = StageTally()
        #expect(PIIStage().process(&record, tally: &tally) == .keep)
        #expect(record.messages?[0].content == "My email is <EMAIL> and my card <CARD>.")
        #expect(record.messages?[1].content == "Thanks! I've sent the reset link to <EMAIL>.")
        #expect(record.pii.map(\.key) == ["email", "phone", "card", "iban", "ip", "url_credentials", "secret", "custom"])
        #expect(record.pii.map(\.value) == [3, 0, 1, 0, 0, 0, 0, 2])
        let density = record.scores.first(where: { $0.key == "pii_density" })?.value ?? -1
        // Two addresses of 15 characters and a card of 19, out of all the characters of both turns.
        #expect(abs(density - 49.0 / Double(turns[0].count + turns[1].count)) < 1e-9)
    }

    @Test("a record without PII gets zero counts and density, unchanged")
    func clean() {
        var record = document("Nothing to see here.")
        var tally = StageTally()
        #expect(PIIStage().process(&record, tally: &tally) == .keep)
        #expect(record.text == "Nothing to see here.")
        #expect(record.pii.map(\.value) == [0, 0, 0, 0, 0, 0, 0])
        #expect(record.scores.map(\.key) == ["pii_density"])
        #expect(record.scores[0].value == 0)
        #expect(tally.events.isEmpty)
    }

    @Test("drops a record dense in PII, redacted, and keeps a short turn that is one address")
    func density() throws {
        var list = document("ana@example.com, bob@example.org, +44 20 7946 0958, 203.0.113.9")
        var tally = StageTally()
        guard case .drop(let reason, let detail) = PIIStage().process(&list, tally: &tally) else {
            Issue.record("expected a drop")
            return
        }
        #expect(reason == "pii_density")
        #expect(detail.contains("2 email, 1 phone, 1 ip"), "\(detail)")
        #expect(list.text == "<EMAIL>, <EMAIL>, <PHONE>, <IP>")
        var short = document("ana@example.com")
        #expect(PIIStage().process(&short, tally: &tally) == .keep)
        #expect(short.text == "<EMAIL>")
        var strict = document("write to ana@example.com")
        #expect(try stage("{max_density: 0.1, min_items: 1}").process(&strict, tally: &tally).isDrop)
    }

    @Test("types limits what is redacted; the counts keep every key")
    func typesParameter() throws {
        var record = document("ana@example.com from 203.0.113.9")
        var tally = StageTally()
        #expect(try stage("{types: [ip]}").process(&record, tally: &tally) == .keep)
        #expect(record.text == "ana@example.com from <IP>")
        #expect(record.pii.map(\.value) == [0, 0, 0, 0, 1, 0, 0])
    }

    /// Bad inputs by name (the names keep test output short), and the text of each.
    static let badInputs: [(String, @Sendable () -> String)] = [
        ("empty", { "" }),
        ("1 MiB of a", { String(repeating: "a", count: 1 << 20) }),
        ("1 MiB of 1", { String(repeating: "1", count: 1 << 20) }),
        ("1 MiB of @", { String(repeating: "@", count: 1 << 20) }),
        ("1 MiB of :", { String(repeating: ":", count: 1 << 20) }),
        ("1 MiB of .", { String(repeating: ".", count: 1 << 20) }),
        ("1 MiB of -", { String(repeating: "-", count: 1 << 20) }),
        ("1 MiB of +", { String(repeating: "+", count: 1 << 20) }),
        ("1 MiB of (", { String(repeating: "(", count: 1 << 20) }),
        ("1 MiB of é", { String(repeating: "é", count: 1 << 19) }),
        ("1 MiB of 中", { String(repeating: "中", count: 1 << 18) }),
        ("64 KiB of '1 '", { String(repeating: "1 ", count: 1 << 15) }),
        ("1 MiB of '1.'", { String(repeating: "1.", count: 1 << 19) }),
        ("1 MiB of 'a:'", { String(repeating: "a:", count: 1 << 19) }),
        ("1 MiB of 'a@'", { String(repeating: "a@", count: 1 << 19) }),
        ("five scripts", { "English, Русский, 中文, العربية, हिन्दी: ana@example.com" }),
        ("lone surrogate", { String(decoding: [0x61, 0xED, 0xA0, 0x80, 0x62, 0x40, 0x78, 0x2E, 0x63, 0x6F] as [UInt8], as: UTF8.self) }),
        ("zero-width and bidi", { "ana\u{200B}@example.com \u{202E}4111 1111 1111 1111\u{202C} \u{FEFF}+44\u{2060} 20 7946 0958" }),
    ]

    @Test("bad input gets a defined score and never crashes", arguments: badInputs.map(\.0))
    func badInput(name: String) throws {
        let text = try #require(Self.badInputs.first(where: { $0.0 == name })).1()
        var record = document(text)
        var tally = StageTally()
        let clock = ContinuousClock()
        let elapsed = clock.measure { _ = PIIStage().process(&record, tally: &tally) }
        let density = record.scores.first(where: { $0.key == "pii_density" })?.value
        #expect(density.map { $0 >= 0 && $0 <= 1 } == true)
        #expect(record.pii.count == PIIType.allCases.count)
        // Not a benchmark: a bound generous enough for a debug build on a busy machine, there to catch a scan
        // that goes quadratic on a pathological input.
        #expect(elapsed < .seconds(20), "\(elapsed) for \(text.utf8.count) bytes")
    }

    @Test("candidates cut off by the end of the text are left alone", arguments: [
        "+", "(", "@", ":", "::", "-----BEGIN ", "-----BEGIN RSA PRIVATE KEY-----", "eyJ", "sk-", "AKIA", "ghp_", "DE89",
        "DE89 3704", "4111 1111", "+44 20", "ana@", "@example.com", "https://", "https://a@", "fe80:", "1.2.3.", "x@y.",
    ])
    func truncated(text: String) {
        #expect(redacted(text) == text || text.hasPrefix("-----BEGIN RSA"))
        #expect(redacted("see " + text) == "see " + text || text.hasPrefix("-----BEGIN RSA"))
    }

    @Test("a bidi override around a card still lets the card be found")
    func bidi() {
        #expect(redacted("\u{202E}4111 1111 1111 1111\u{202C}") == "\u{202E}<CARD>\u{202C}")
        #expect(redacted("English, Русский, 中文, العربية, हिन्दी: ana@example.com") == "English, Русский, 中文, العربية, हिन्दी: <EMAIL>")
    }

    @Test("parameter errors name the key or list item")
    func parameterErrors() throws {
        let type = try #require(throws: RefineryError.self) { try stage("{types: [email, phones]}") }
        #expect(type.message.hasPrefix("stages[0].pii.types[1]:"), "\(type.message)")
        #expect(type.message.contains("unknown PII type 'phones'"))
        let density = try #require(throws: RefineryError.self) { try stage("{max_density: 1.5}") }
        #expect(density.message.hasPrefix("stages[0].pii.max_density:"), "\(density.message)")
        #expect(throws: RefineryError.self) { try stage("{min_items: 0}") }
        #expect(throws: RefineryError.self) { try stage("{types: []}") }
        let unknown = try #require(throws: RefineryError.self) { try stage("{max_densty: 0.5}") }
        #expect(unknown.message.contains("did you mean 'max_density'"))
        #expect(try stage("{types: email}").scanner.types == PIITypeSet([.email]))
    }

    /// The scan as it was before letter runs were passed over eight bytes at a time: every byte tested.
    static func matchesByteByByte(_ text: String) -> [PIIMatch] {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { mutable in
            let bytes = UnsafeBufferPointer(mutable)
            return ByteClass.table.withUnsafeBufferPointer { classes in
                var scan = PIIScan(bytes: bytes, classes: classes, types: .all)
                let interesting = ByteClass.trigger | ByteClass.secretStart
                var i = 0
                while i < bytes.count {
                    let c = classes[Int(bytes[i])]
                    if c & interesting == 0 { i += 1; continue }
                    if c & ByteClass.trigger == 0,
                       (i > 0 && classes[Int(bytes[i - 1])] & ByteClass.token != 0) || !PIIScan.mayStartKey(bytes[i], scan.byte(i + 1)) {
                        i += 1
                        continue
                    }
                    i = max(i + 1, scan.dispatch(at: i, c))
                }
                return scan.matches
            }
        }
    }

    @Test("letter runs passed over eight bytes at a time: the same matches as testing every byte")
    func letterRuns() {
        // Pieces that start keys, addresses and numbers inside words, at word starts, after non-ASCII letters and
        // digits, glued together at random.
        let pieces = ["sk-", "sk-proj-", "rk_live_", "AKIA", "ASIA", "AIza", "ghp_", "glpat-", "xoxb-", "hf_", "npm_", "eyJ",
                      "sks", "risk", "ask", "Asia", "ghost", "hex", "news", "eye", "the", "AKIAIOSFODNN7EXAMPLE",
                      "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", "wJalrXUtnFEMI_K7MDENG-bPxRfiCY", Self.jwt, "ana@example.com",
                      "x@y.org", "+44 20 7946 0958", "(555) 123-4567", "4111 1111 1111 1111", "DE89370400440532013000",
                      "192.168.1.20", "fe80::1", "https://user:pass@host", "-----BEGIN", "é", "ß", "中", "_", "-", " ", "  ",
                      ".", ",", "\n", "1", "42", "a", "s", "e", "k"]
        var state: UInt64 = 7
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<(1 + Int(state >> 60)) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                text += pieces[Int(state >> 33) % pieces.count]
            }
            let run = PIIScanner().matches(in: text)
            #expect(run == Self.matchesByteByByte(text), "\(text)")
        }
        #expect(!PIIScanner().matches(in: "key sk-proj-abcdefghijklmnopqrstuvwxyz0123 here").isEmpty)
    }

    @Test("Luhn and IBAN checks", arguments: [("79927398713", true), ("79927398710", false), ("4111111111111111", true)])
    func luhn(digits: String, valid: Bool) {
        #expect(Luhn.isValid(digits.utf8.map { $0 - 0x30 }) == valid)
    }

    @Test("IBAN mod-97 and country lengths")
    func iban() {
        #expect(IBAN.isValid(Array("DE89370400440532013000".utf8)))
        #expect(IBAN.isValid(Array("NO9386011117947".utf8)))
        #expect(!IBAN.isValid(Array("DE8937040044053201300".utf8)))  // one short for DE
        #expect(!IBAN.isValid(Array("XX89370400440532013000".utf8)))
    }
}

extension StageDecision {
    var isDrop: Bool {
        if case .drop = self { return true }
        return false
    }
}
