import RefineryCodecs
import Foundation
import RefineryReaders
import RefineryRecords
import RefinerySpec
import Testing

@Suite struct InteractionsFormatTests {
    static func format(_ flow: String?) throws -> InteractionsFormat {
        try InteractionsFormat(options: flow.map { try ReaderTests.options($0) } ?? nil)
    }

    static func read(_ files: [(String, String)], options flow: String?, category: String? = "interactions")
        throws -> CSVFormatTests.Outcome
    {
        try CSVFormatTests.read(files.map { ($0.0, Array($0.1.utf8)) }, with: format(flow), category: category)
    }

    static func tsv(_ rows: [String]) -> String { rows.map { $0 + "\n" }.joined() }

    static let header = "user\titem\trating\ttimestamp"

    // MARK: Grouping

    @Test("a user's events from several files form one history, ordered by time, then file order, then line")
    func groupsAcrossFiles() throws {
        let day1 = Self.tsv([Self.header, "u1\ta\t5\t100", "u2\tb\t3\t50", "u1\tc\t1\t200", "u10\tx\t2\t7"])
        let day2 = Self.tsv([Self.header, "u1\td\t4\t200", "u1\te\t2\t150", "u2\tf\t4\t10"])
        let outcome = try Self.read([("day1.tsv", day1), ("day2.tsv", day2)], options: "{min_events: 1}")
        #expect(outcome.rejects.isEmpty)
        #expect(outcome.records.map(\.id) == ["src/day1.tsv:user=u1", "src/day1.tsv:user=u10", "src/day1.tsv:user=u2"],
                "users in byte order")
        let u1 = try #require(outcome.records.first?.interactions)
        #expect(u1.items == ["a", "e", "c", "d"], "the tie at 200 keeps day1's event first")
        #expect(u1.timestamps == [100, 150, 200, 200])
        #expect(u1.rewards == [1, 0.25, 0, 0.75])
        let u2 = try #require(outcome.records.last)
        #expect(u2.interactions?.items == ["f", "b"])
        #expect(u2.location.line == 3, "the unit points at the user's first event in file order")
        #expect(u2.location.file.hasSuffix("day1.tsv"))
        #expect(u2.category == "interactions")
        #expect(u2.kind == .interactions)
        #expect(JSONValue.object(u2.meta) == .object([("user", .string("u2")), ("events", .number("2"))]))
        #expect(outcome.counts.lines == 9)
        #expect(outcome.counts.bytes == day1.utf8.count + day2.utf8.count)
        let units = outcome.units.map { "\($0.fileIndex):\($0.line)" }
        #expect(units == ["0:2", "0:5", "0:3"])
    }

    @Test("events at the same time in one file keep their line order")
    func tieWithinFile() throws {
        let log = Self.tsv([Self.header, "u\tz\t1\t5", "u\ty\t1\t5", "u\tx\t1\t1", "u\tw\t1\t5"])
        let outcome = try Self.read([("log.tsv", log)], options: "{min_events: 1}")
        #expect(outcome.records.first?.interactions?.items == ["x", "z", "y", "w"])
    }

    @Test("a user with fewer than min_events events is too_few_events at the first event's line")
    func tooFewEvents() throws {
        var rows = [Self.header]
        rows += (0..<5).map { "keep\ti\($0)\t3\t\($0)" }
        rows += ["drop\tj\t3\t1", "drop\tk\t3\t2"]
        let outcome = try Self.read([("log.tsv", Self.tsv(rows))], options: nil)
        #expect(outcome.records.map(\.id) == ["src/log.tsv:user=keep"])
        #expect(outcome.rejectSummary == ["too_few_events@log.tsv:7"])
        let reject = try #require(outcome.rejects.first)
        #expect(reject.failure.detail == "2 events, minimum 5 (min_events)")
        #expect(reject.id == "src/log.tsv:user=drop")
        #expect(reject.raw == "user drop\n1\t0.5\tj\n2\t0.5\tk\n")
    }

    @Test("user ids that are not UTF-8 keep distinct record ids (hex), not one repaired id")
    func nonUTF8UserIDs() throws {
        var bytes = Array((Self.header + "\n").utf8)
        for user: UInt8 in [0xFF, 0xFE] {
            for k in 0..<5 { bytes += [user] + Array("\ti\(k)\t3\t\(k)\n".utf8) }
        }
        let outcome = try CSVFormatTests.read([("log.tsv", bytes)], with: Self.format(nil), category: "interactions")
        #expect(outcome.records.map(\.id) == ["src/log.tsv:user=0xfe", "src/log.tsv:user=0xff"])
    }

    @Test("a history over max_events keeps the most recent events and counts history_truncated")
    func maxEvents() throws {
        let rows = [Self.header] + [7, 3, 6, 1, 5, 2, 4].map { "u\ti\($0)\t1\t\($0)" } + ["v\tonly\t1\t1"]
        let outcome = try Self.read([("log.tsv", Self.tsv(rows))], options: "{min_events: 1, max_events: 3}")
        #expect(outcome.records.first?.interactions?.items == ["i5", "i6", "i7"])
        #expect(outcome.records.first?.interactions?.timestamps == [5, 6, 7])
        #expect(JSONValue.object(outcome.records.first?.meta ?? []) == .object([("user", .string("u")), ("events", .number("3"))]))
        #expect(outcome.events == ["history_truncated": 1])
        #expect(outcome.records.count == 2)
    }

    @Test("a long history is cut while it is gathered, not held whole", arguments: [1, 2, 10])
    func longHistory(maxEvents: Int) throws {
        let rows = [Self.header] + (0..<100).map { "u\ti\($0)\t1\t\(1000 - $0)" }
        let outcome = try Self.read([("log.tsv", Self.tsv(rows))], options: "{min_events: 1, max_events: \(maxEvents)}")
        #expect(outcome.records.first?.interactions?.items == (0..<maxEvents).reversed().map { "i\($0)" })
    }

    // MARK: Layouts

    @Test("MovieLens-1M ratings.dat: '::' separated, no header")
    func movieLensDat() throws {
        let dat = "1::1193::5::978300760\n1::661::3::978302109\n2::1357::5::978298709\n1::914::3::978301968\n"
        let outcome = try Self.read([("ratings.dat", dat)], options: #"{delimiter: "::", header: false, min_events: 1}"#)
        #expect(outcome.rejects.isEmpty)
        #expect(outcome.records.map(\.id) == ["src/ratings.dat:user=1", "src/ratings.dat:user=2"])
        #expect(outcome.records.first?.interactions
            == Interactions(items: ["1193", "914", "661"], rewards: [1, 0.5, 0.5], timestamps: [978300760, 978301968, 978302109]))
    }

    @Test("MovieLens-100K u.data: tab separated, no header, integral float times accepted")
    func movieLensUData() throws {
        let data = "196\t242\t3\t881250949\n186\t302\t3\t891717742.0\n196\t377\t1\t878887116\n"
        let outcome = try Self.read([("u.data", data)], options: "{header: false, min_events: 1}")
        #expect(outcome.rejects.isEmpty)
        #expect(outcome.records.map { $0.interactions?.items ?? [] } == [["302"], ["377", "242"]])
        #expect(outcome.records.first?.interactions?.timestamps == [891717742])
    }

    @Test("named columns in any order, watch fractions, ISO-8601 times, quoted CSV fields")
    func namedColumns() throws {
        let csv = """
            ts,movie,uid,frac,device
            2024-01-02T00:00:00Z,"Heat, 1995",alice,0.5,tv
            2024-01-01 12:00:00,Up,alice,1,phone
            """
        let flow = #"{delimiter: ",", min_events: 1, reward: watch_fraction, columns: {user: uid, item: movie, rating: frac, timestamp: ts}}"#
        let outcome = try Self.read([("w.csv", csv)], options: flow)
        #expect(outcome.rejects.isEmpty, "\(outcome.rejectSummary)")
        #expect(outcome.records.first?.interactions
            == Interactions(items: ["Up", "Heat, 1995"], rewards: [1, 0.5], timestamps: [1704110400, 1704153600]))
    }

    @Test("positions pick columns when there is no header")
    func positions() throws {
        let log = "x,5,item1,u\ny,4,item2,u\n"
        let flow = #"{delimiter: ",", header: false, min_events: 1, columns: {user: 3, item: 2, rating: 1, timestamp: 0}, rating_min: 0, rating_max: 10}"#
        let outcome = try Self.read([("p.csv", log)], options: flow)
        #expect(outcome.rejectSummary == ["invalid_timestamp@p.csv:1", "invalid_timestamp@p.csv:2"])
        let good = try Self.read([("p.csv", "100,5,item1,u\n50,4,item2,u\n")], options: flow)
        #expect(good.records.first?.interactions == Interactions(items: ["item2", "item1"], rewards: [0.4, 0.5], timestamps: [50, 100]))
    }

    // MARK: Rejects

    @Test("bad rows are quarantined at their own file and line, before the users' units; nothing is lost")
    func badRows() throws {
        let log = Self.tsv([
            Self.header,
            "u\ta\t5\t1",
            "u\tb\t5",
            "u\tc\tfive\t2",
            "u\td\t6\t2",
            "u\te\t0.5\t2",
            "u\tf\t3\tyesterday",
            "\tg\t3\t3",
            "u\t \t3\t3",
            "u\th\t3\t2024-02-30T00:00:00",
            "u\ti\t3\t4",
        ])
        let outcome = try Self.read([("bad.tsv", log)], options: "{min_events: 1}")
        #expect(outcome.rejectSummary == [
            "wrong_column_count@bad.tsv:3", "invalid_rating@bad.tsv:4", "invalid_rating@bad.tsv:5",
            "invalid_rating@bad.tsv:6", "invalid_timestamp@bad.tsv:7", "missing_field@bad.tsv:8", "missing_field@bad.tsv:9",
            "invalid_timestamp@bad.tsv:10",
        ])
        #expect(outcome.rejects.map(\.failure.detail) == [
            "found 3 fields, the header has 4",
            "'five' is not a number",
            "rating 6.0 is outside [1.0, 5.0] (rating_min, rating_max)",
            "rating 0.5 is outside [1.0, 5.0] (rating_min, rating_max)",
            "'yesterday' is not seconds since 1970 nor a UTC time YYYY-MM-DDTHH:MM:SS[Z]",
            "empty user (column 'user')",
            "empty item (column 'item')",
            "'2024-02-30T00:00:00' is not seconds since 1970 nor a UTC time YYYY-MM-DDTHH:MM:SS[Z]",
        ])
        #expect(outcome.rejects.first?.raw == "u\tb\t5")
        #expect(outcome.records.first?.interactions?.items == ["a", "i"])
        // Accounting: every data row is in a history or quarantined.
        let events = outcome.records.reduce(0) { $0 + ($1.interactions?.items.count ?? 0) }
        #expect(events + outcome.rejects.count == 10)
        #expect(outcome.units.prefix(8).allSatisfy { $0.problem != nil }, "rejected rows come first")
    }

    @Test("a watch fraction outside [0, 1] is invalid_rating")
    func watchFractionRange() throws {
        let log = Self.tsv([Self.header, "u\ta\t1.5\t1", "u\tb\t-0.1\t1", "u\tc\t0\t1"])
        let outcome = try Self.read([("w.tsv", log)], options: "{reward: watch_fraction, min_events: 1}")
        #expect(outcome.rejectSummary == ["invalid_rating@w.tsv:2", "invalid_rating@w.tsv:3"])
        #expect(outcome.rejects.first?.failure.detail == "watch fraction 1.5 is outside [0, 1]")
        #expect(outcome.records.first?.interactions?.rewards == [0])
    }

    @Test("a header without a needed column quarantines each row of its file as missing_column")
    func missingColumn() throws {
        let other = Self.tsv(["user\titem\tscore\ttimestamp", "u\ta\t5\t1", "u\tb\t5\t2"])
        let good = Self.tsv([Self.header, "u\tc\t5\t3"])
        let outcome = try Self.read([("a.tsv", other), ("b.tsv", good)], options: "{min_events: 1}")
        #expect(outcome.rejectSummary == ["missing_column@a.tsv:2", "missing_column@a.tsv:3"])
        #expect(outcome.rejects.first?.failure.detail
            == "column 'rating' not in the header at line 1; the header has 'user', 'item', 'score', 'timestamp'")
        #expect(outcome.records.first?.interactions?.items == ["c"])
    }

    @Test("quoting errors in an interactions log are rejected at their lines; an unterminated quote takes the rest of its file")
    func quotingErrors() throws {
        let log = Self.tsv([Self.header, "u\t\"a\"x\t5\t1", "u\tb\t5\t2", "u\t\"open\t5\t3", "u\tc\t5\t4"])
        let outcome = try Self.read([("q.tsv", log), ("r.tsv", Self.tsv([Self.header, "u\td\t5\t5"]))], options: "{min_events: 1}")
        #expect(outcome.rejectSummary == ["malformed_quotes@q.tsv:2", "unterminated_quote@q.tsv:4"])
        #expect(outcome.records.first?.interactions?.items == ["b", "d"])
    }

    @Test("timestamps: epoch seconds, integral floats, ISO-8601 in UTC", arguments: [
        ("881250949", 881250949 as Int64?),
        ("-86400", -86400),
        ("881250949.0", 881250949),
        ("8.8125e8", 881250000),
        ("0", 0),
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01 00:00:00", 0),
        ("2000-02-29T12:34:56", 951827696),
        ("2024-12-31T23:59:59.999Z", 1735689599),
        ("1969-12-31T23:59:59Z", -1),
        ("881250949.5", nil),
        ("2023-02-29T00:00:00", nil),
        ("2024-13-01T00:00:00", nil),
        ("2024-01-01T24:00:00", nil),
        ("2024-01-01T00:00:00+02:00", nil),
        ("2024-01-01", nil),
        ("2024-01-01T00:00:00.Z", nil),
        ("99999999999999999999", nil),
        ("1e300", nil),
        ("nan", nil),
        ("", nil),
        ("12:00", nil),
    ])
    func timestamps(text: String, expected: Int64?) {
        #expect(InteractionTimestamp.parse(Array(text.utf8)) == expected)
    }

    @Test("random bytes never crash: every unit becomes a record or a reject")
    func garbage() throws {
        var generator = SplitMix64(seed: 0x1A7E)
        let alphabet: [UInt8] = Array("u1\t\t\t\n\n5 3.0\"::,-T:Z2024".utf8) + [0xFF, 0xC3, 0x0D]
        for round in 0..<40 {
            let count = Int.random(in: 0..<600, using: &generator)
            let input = (0..<count).map { _ in
                Int.random(in: 0..<4, using: &generator) > 0 ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            let flow = round % 2 == 0 ? "{header: false, min_events: 1, max_record_bytes: 100}" : #"{delimiter: "::", min_events: 2}"#
            let outcome = try CSVFormatTests.read([("g.tsv", input)], with: Self.format(flow))
            let decodedUnits = outcome.records.count + outcome.rejects.count
            #expect(decodedUnits == outcome.units.count, "round \(round)")
        }
    }

    // MARK: External sort

    /// A seeded log over three files: many users, ties on time, users spread across files.
    static func randomLog(seed: UInt64) -> [(String, String)] {
        var generator = SplitMix64(seed: seed)
        return (0..<3).map { file in
            var rows = [Self.header]
            for _ in 0..<700 {
                let user = "user\(Int.random(in: 0..<150, using: &generator))"
                let item = "item\(Int.random(in: 0..<1000, using: &generator))"
                let rating = Int.random(in: 1...5, using: &generator)
                let time = Int.random(in: 0..<300, using: &generator)
                rows.append("\(user)\t\(item)\t\(rating)\t\(time)")
            }
            return ("day\(file).tsv", Self.tsv(rows))
        }
    }

    @Test("a tiny memory_budget spills sorted runs and gives byte-identical units and records; no temporary files remain",
          arguments: [64, 2])
    func spill(fanIn: Int) throws {
        let files = Self.randomLog(seed: 42)
        let inMemory = try Self.read(files, options: "{min_events: 3}")

        let scratch = try TemporaryFolder("refinery-spill")
        defer { scratch.cleanup() }
        let spillParent = scratch.path + "/tmp"
        try FileManager.default.createDirectory(atPath: spillParent, withIntermediateDirectories: true)
        var format = try Self.format("{min_events: 3, memory_budget: 4KiB}")
        format.spillDirectory = spillParent
        format.mergeFanIn = fanIn
        var spillFilesSeen = 0
        let spilled = try CSVFormatTests.read(files.map { ($0.0, Array($0.1.utf8)) }, with: format, maxRecords: 1,
                                              category: "interactions", scratch: scratch) { _ in
            // Batches are handed on while the runs are merged: the spill folder is there, full of runs.
            let folders = try FileManager.default.contentsOfDirectory(atPath: spillParent)
            for folder in folders {
                spillFilesSeen = max(spillFilesSeen, try FileManager.default.contentsOfDirectory(atPath: spillParent + "/" + folder).count)
            }
        }
        #expect(spillFilesSeen >= (fanIn == 2 ? 1 : 10), "runs were spilled to disk")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spillParent).isEmpty, "the spill folder is removed")

        #expect(spilled.units.map(\.bytes) == inMemory.units.map(\.bytes))
        #expect(spilled.units.map(\.line) == inMemory.units.map(\.line))
        #expect(spilled.records.map(\.jsonString) == inMemory.records.map(\.jsonString))
        #expect(spilled.rejectSummary == inMemory.rejectSummary)
        #expect(inMemory.records.count > 100)
        // The merged order is right, not just the same: users ascend, each history by time.
        let users = inMemory.records.compactMap { $0.meta.first?.value.stringValue }
        #expect(users.count == inMemory.records.count)
        #expect(users == users.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(inMemory.records.allSatisfy { ($0.interactions?.timestamps ?? []) == ($0.interactions?.timestamps ?? []).sorted() })
        // Accounting: every event is in a kept history or in a too_few_events reject (one line per event).
        let kept = inMemory.records.reduce(0) { $0 + ($1.interactions?.items.count ?? 0) }
        let dropped = inMemory.rejects.reduce(0) { $0 + $1.raw.split(separator: "\n").count - 1 }
        #expect(inMemory.rejects.allSatisfy { $0.failure.reason == "too_few_events" })
        #expect(kept + dropped == 2100)
    }

    @Test("the spill folder is removed when reading fails half way")
    func spillCleanupOnError() throws {
        struct Stop: Error {}
        let files = Self.randomLog(seed: 7)
        let scratch = try TemporaryFolder("refinery-spill")
        defer { scratch.cleanup() }
        let spillParent = scratch.path + "/tmp"
        try FileManager.default.createDirectory(atPath: spillParent, withIntermediateDirectories: true)
        var format = try Self.format("{memory_budget: 4KiB}")
        format.spillDirectory = spillParent
        #expect(throws: Stop.self) {
            _ = try CSVFormatTests.read(files.map { ($0.0, Array($0.1.utf8)) }, with: format, maxRecords: 1, scratch: scratch) { _ in
                throw Stop()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: spillParent).isEmpty)
    }

    @Test("split on one file gives the same units as splitSource on it")
    func splitOneFile() throws {
        let files = Self.randomLog(seed: 3)
        let format = try Self.format("{min_events: 1}")
        let (units, counts) = try ReaderTests.split(Array(files[0].1.utf8), name: "day0.tsv", with: format)
        let outcome = try CSVFormatTests.read([(files[0].0, Array(files[0].1.utf8))], with: format)
        #expect(units.map(\.bytes) == outcome.units.map(\.bytes))
        #expect(units.map(\.line) == outcome.units.map(\.line))
        #expect(counts.lines == 701)
    }

    // MARK: Options

    @Test("defaults")
    func defaults() throws {
        let format = try Self.format(nil)
        #expect(format.scanner.delimiter == [0x09] && format.scanner.quoting)
        #expect(format.columns == .names(["user", "item", "rating", "timestamp"]))
        #expect(format.reward == .rating(min: 1, max: 5))
        #expect(format.minEvents == 5 && format.maxEvents == 10_000)
        #expect(format.memoryBudget == 64 << 20)
        #expect(try Self.format("{header: false}").columns == .positions([0, 1, 2, 3]))
        #expect(try Self.format(#"{delimiter: "::"}"#).scanner.quoting == false)
    }

    @Test("unusable interactions options are spec errors naming the line", arguments: [
        ("{rating_min: 5, rating_max: 1}", "rating_max (1.0) must be greater than rating_min (5.0)"),
        ("{reward: watch_fraction, rating_max: 10}", "rating_min and rating_max apply to reward: rating"),
        ("{reward: stars}", "reward must be 'rating' or 'watch_fraction', found 'stars'"),
        ("{min_events: 10, max_events: 5}", "max_events (5) is below min_events (10)"),
        ("{min_events: 0}", "must be at least 1"),
        ("{memory_budget: 1KiB}", "must be at least 4KiB"),
        ("{header: false, columns: {user: uid}}", "with header: false, columns are 0-based positions below 10000; found 'uid'"),
        ("{header: false, columns: {user: 1, item: 1}}", "position 1 is already the user column"),
        ("{header: false, columns: {user: 1}}", "two columns share a position"),
        ("{columns: {usr: u}}", "unknown key 'usr' (did you mean 'user'?)"),
        (#"{delimiter: "::", quoting: true}"#, "a delimiter of several bytes does not quote"),
    ])
    func specErrors(flow: String, message: String) throws {
        let error = try #require(#expect(throws: RefineryError.self) { try Self.format(flow) })
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.location?.line == 6)
    }
}
