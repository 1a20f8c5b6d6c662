import Foundation
import RefineryCodecs
import RefineryReaders
import RefineryRecords
import RefinerySpec
import Testing

@Suite struct CSVFormatTests {
    // MARK: Helpers

    /// A record as the scanner handed it on.
    struct Scanned: Equatable, CustomStringConvertible {
        var line: Int
        var bytes: [UInt8]
        var problem: RawUnit.Problem?
        var text: String { String(decoding: bytes, as: UTF8.self) }
        var description: String { "\(line): \(text.debugDescription) \(problem.map { "\($0)" } ?? "")" }
    }

    /// Scans `input` fed in chunks of `chunk` bytes.
    static func scan(_ input: [UInt8], _ scanner: CSVScanner, chunk: Int = .max) throws -> (records: [Scanned], counts: LineSplitter.Counts) {
        var offset = 0
        var records: [Scanned] = []
        let counts = try scanner.records(reading: { sink in
            guard offset < input.count else { return false }
            let end = input.count - offset > chunk ? offset + chunk : input.count
            sink.append(contentsOf: input[offset..<end])
            offset = end
            return true
        }) { bytes, line, problem in
            records.append(Scanned(line: line, bytes: Array(bytes), problem: problem))
        }
        return (records, counts)
    }

    static func scan(_ input: String, _ scanner: CSVScanner = CSVScanner(delimiter: [0x2C]), chunk: Int = .max) throws
        -> (records: [Scanned], counts: LineSplitter.Counts)
    {
        try scan(Array(input.utf8), scanner, chunk: chunk)
    }

    /// The fields of one record, as strings.
    static func fields(_ record: [UInt8], _ scanner: CSVScanner = CSVScanner(delimiter: [0x2C])) throws(DecodeFailure) -> [String] {
        var fields = CSVScanner.Fields()
        try record.withUnsafeBufferPointer { (bytes) throws(DecodeFailure) in try scanner.fields(of: bytes, into: &fields) }
        return (0..<fields.count).map { fields.string($0) }
    }

    /// What reading some files with a format gave: units as split, then records, rejects and events as decoded.
    struct Outcome {
        var units: [(fileIndex: Int, line: Int, bytes: [UInt8], problem: RawUnit.Problem?)] = []
        var records: [Record] = []
        var rejects: [UnitReject] = []
        var events: [String: Int] = [:]
        var counts = LineSplitter.Counts()

        /// Rejects as `reason@file:line`, file being the name given to ``CSVFormatTests/read(_:with:maxRecords:category:scratch:onBatch:)``.
        var rejectSummary: [String] {
            rejects.map { "\($0.failure.reason)@\(($0.location.file as NSString).lastPathComponent):\($0.location.line ?? 0)" }
        }
    }

    /// Writes `files` to a temporary folder, splits them as one source with `format` (through a ``BatchBuilder``,
    /// as the engine does), then decodes every unit with the preamble of its batch.
    static func read(_ files: [(name: String, bytes: [UInt8])], with format: any RecordFormat, maxRecords: Int = 1 << 20,
                     category: String? = "cat", scratch: TemporaryFolder? = nil,
                     onBatch: @escaping (Batch) throws -> Void = { _ in }) throws -> Outcome {
        let folder = try scratch ?? TemporaryFolder("refinery-tabular")
        defer { if scratch == nil { folder.cleanup() } }
        var inputs: [InputFile] = []
        for file in files {
            let path = try folder.write(file.name, file.bytes)
            inputs.append(InputFile(sourceIndex: 0, path: path, relativePath: file.name, size: file.bytes.count, modified: 0))
        }
        var batches: [Batch] = []
        let builder = BatchBuilder(maxRecords: maxRecords, maxBytes: Int.max) { batch in
            try onBatch(batch)
            batches.append(batch)
        }
        var outcome = Outcome()
        outcome.counts = try format.splitSource(inputs.enumerated().map { SourceFile(index: $0.offset, file: $0.element) }, into: builder)
        try builder.flush()
        var decoded = DecodedUnit()
        for batch in batches {
            batch.buffer.withUnsafeBufferPointer { buffer in
                for unit in batch.units {
                    let file = inputs[unit.fileIndex]
                    let context = UnitContext(source: "src", category: category, lang: nil, relativePath: file.relativePath,
                                              path: file.path, line: unit.line, preamble: batch.preambles[unit.fileIndex])
                    let bytes = UnsafeBufferPointer(rebasing: buffer[unit.range])
                    outcome.units.append((unit.fileIndex, unit.line, Array(bytes), unit.problem))
                    switch unit.problem {
                    case .rejected(let failure)?:
                        decoded.reject(failure, context: context, raw: bytes)
                    case .truncated(let detail)?:
                        decoded.reject(DecodeFailure(reason: "truncated_input", detail: detail), context: context, raw: bytes)
                    case .lineTooLong?, .documentTooLong?:
                        decoded.reject(DecodeFailure(reason: "too_long", detail: ""), context: context, raw: bytes)
                    case nil:
                        format.decodeUnit(bytes, context: context, into: &decoded)
                    }
                }
            }
        }
        outcome.records = decoded.records
        outcome.rejects = decoded.rejects
        outcome.events = decoded.events
        return outcome
    }

    static func read(_ name: String, _ text: String, options flow: String, maxRecords: Int = 1 << 20) throws -> Outcome {
        try read([(name, Array(text.utf8))], with: MetadataCSVFormat(options: ReaderTests.options(flow)), maxRecords: maxRecords)
    }

    static func string(_ value: JSONValue?) -> String? { value?.stringValue }

    // MARK: Scanner: records

    @Test("records: quoted fields keep delimiters, quotes and line ends; records are numbered by their first line", arguments: [
        ("a,b,c\n1,2,3\n", [["a", "b", "c"], ["1", "2", "3"]], [1, 2], 2, 0),
        ("id,text\n1,\"line one\nline two\"\n2,x\n", [["id", "text"], ["1", "line one\nline two"], ["2", "x"]], [1, 2, 4], 4, 0),
        ("\"say \"\"hi\"\"\",b\n", [["say \"hi\"", "b"]], [1], 1, 0),
        ("\"a,b\",c\n", [["a,b", "c"]], [1], 1, 0),
        ("a,b\r\n\"x\r\ny\",z\r\nlast", [["a", "b"], ["x\r\ny", "z"], ["last"]], [1, 2, 4], 4, 0),
        ("a\rb\r\"c\rd\"\re", [["a"], ["b"], ["c\rd"], ["e"]], [1, 2, 3, 5], 5, 0),
        ("\u{FEFF}h1,h2\n1,2", [["h1", "h2"], ["1", "2"]], [1, 2], 2, 0),
        ("a\n\n  \n\t\r\nb\n", [["a"], ["b"]], [1, 5], 5, 3),
        ("5\" screen,x\"y\n", [["5\" screen", "x\"y"]], [1], 1, 0),
        (",,\na,\n\"\",x\n\"\"\n", [["", "", ""], ["a", ""], ["", "x"], [""]], [1, 2, 3, 4], 4, 0),
        ("\"\"\"\"\n", [["\""]], [1], 1, 0),
        ("\"multi\n\n\nline\"\nnext\n", [["multi\n\n\nline"], ["next"]], [1, 5], 5, 0),
        ("\u{FEFF}", [], [], 0, 0),
        ("", [], [], 0, 0),
        ("\n", [], [], 1, 1),
    ] as [(String, [[String]], [Int], Int, Int)])
    func records(input: String, expected: [[String]], lines: [Int], lineCount: Int, blank: Int) throws {
        for chunk in [Int.max, 1, 2, 3, 7] {
            let (records, counts) = try Self.scan(input, chunk: chunk)
            #expect(records.allSatisfy { $0.problem == nil }, "chunk \(chunk): \(records)")
            #expect(try records.map { try Self.fields($0.bytes) } == expected, "chunk \(chunk)")
            #expect(records.map(\.line) == lines, "chunk \(chunk)")
            #expect(counts.lines == lineCount, "chunk \(chunk)")
            #expect(counts.blankLines == blank, "chunk \(chunk)")
        }
    }

    @Test("records: tab and semicolon delimiters; a tab is then not blank space")
    func otherDelimiters() throws {
        let tab = CSVScanner(delimiter: [0x09])
        let (records, counts) = try Self.scan("a\tb\n\t\n\"x\ty\"\tz\n", tab)
        #expect(try records.map { try Self.fields($0.bytes, tab) } == [["a", "b"], ["", ""], ["x\ty", "z"]])
        #expect(counts.blankLines == 0)
        let semicolon = CSVScanner(delimiter: [0x3B])
        #expect(try Self.fields(Array("1,5;\"a;b\";c".utf8), semicolon) == ["1,5", "a;b", "c"])
    }

    @Test("records: without quoting (or with a delimiter of several bytes) quotes are ordinary bytes")
    func plainSplitting() throws {
        let movielens = CSVScanner(delimiter: Array("::".utf8))
        #expect(!movielens.quoting)
        let (records, _) = try Self.scan("1::\"Heat\" (1995)::5\n2::x\n", movielens)
        #expect(try records.map { try Self.fields($0.bytes, movielens) } == [["1", "\"Heat\" (1995)", "5"], ["2", "x"]])
        #expect(try Self.fields(Array("a::::b::".utf8), movielens) == ["a", "", "b", ""])
        #expect(try Self.fields(Array("a:b".utf8), movielens) == ["a:b"])
        let unquoted = CSVScanner(delimiter: [0x09], quoting: false)
        let (plain, _) = try Self.scan("\"a\tb\nc\"\td\n", unquoted)
        #expect(try plain.map { try Self.fields($0.bytes, unquoted) } == [["\"a", "b"], ["c\"", "d"]])
    }

    @Test("records: an unterminated quote makes the rest of the file one reject at the line its record starts")
    func unterminatedQuote() throws {
        let input = "h1,h2\n1,a\n2,b\n3,c\n4,d\n5,e\n6,\"oops\n7,f\n8,g\n"
        for chunk in [Int.max, 1, 5] {
            let (records, counts) = try Self.scan(input, chunk: chunk)
            #expect(records.map(\.line) == [1, 2, 3, 4, 5, 6, 7])
            #expect(records.prefix(6).allSatisfy { $0.problem == nil })
            guard case .rejected(let failure)? = records.last?.problem else {
                Issue.record("expected a rejected last record, got \(records)")
                continue
            }
            #expect(failure.reason == "unterminated_quote")
            #expect(failure.detail.contains("line 7 is never closed"), "\(failure.detail)")
            #expect(failure.detail.contains("lines 7–9"), "\(failure.detail)")
            #expect(records.last?.text == "6,\"oops\n7,f\n8,g\n")
            #expect(counts.lines == 9)
        }
    }

    @Test("records: text after a closing quote is malformed_quotes at the record's line; the next record is fine")
    func malformedQuotes() throws {
        let (records, _) = try Self.scan("a,b\n1,\"x\"y\n\"multi\nline\" ,2\n3,4\n")
        #expect(records.map(\.line) == [1, 2, 3, 5])
        #expect(records.map { $0.problem == nil } == [true, false, false, true])
        guard case .rejected(let failure)? = records[1].problem, case .rejected(let second)? = records[2].problem else {
            Issue.record("expected rejects: \(records)")
            return
        }
        #expect(failure.reason == "malformed_quotes")
        #expect(failure.detail.contains("followed by 'y'"), "\(failure.detail)")
        #expect(second.reason == "malformed_quotes")
        #expect(second.detail.contains("(line 4)"), "\(second.detail)")
        #expect(throws: DecodeFailure(reason: "malformed_quotes", detail: "field 2: text follows its closing quote; write \"\" for a quote inside a quoted field")) {
            try Self.fields(Array("1,\"x\"y".utf8))
        }
    }

    @Test("records: a record over max_record_bytes is rejected with its start kept, whether or not it spans chunks",
          arguments: [Int.max, 1, 16, 40])
    func recordTooLong(chunk: Int) throws {
        let scanner = CSVScanner(delimiter: [0x2C], maxRecordBytes: 50)
        let long = "2," + String(repeating: "x", count: 200)
        let quotedLong = "3,\"" + String(repeating: "y\n", count: 40) + "\""
        let input = "a,b\n\(long)\n\(quotedLong)\n4,ok\n"
        let (records, counts) = try Self.scan(Array(input.utf8), scanner, chunk: chunk)
        #expect(records.map(\.line) == [1, 2, 3, 44])
        #expect(records[0].problem == nil && records[3].problem == nil)
        #expect(records[3].text == "4,ok")
        guard case .rejected(let first)? = records[1].problem, case .rejected(let second)? = records[2].problem else {
            Issue.record("expected rejects: \(records)")
            return
        }
        #expect(first.reason == "record_too_long")
        #expect(first.detail.hasPrefix("202 bytes, limit 50 (max_record_bytes)"), "\(first.detail)")
        #expect(records[1].text.hasPrefix("2,xxxx"))
        #expect(records[1].bytes.count <= 202)
        #expect(second.reason == "record_too_long")
        #expect(second.detail.hasPrefix("\(quotedLong.utf8.count) bytes"), "\(second.detail)")
        #expect(counts.lines == 44)
    }

    @Test("records: a quote still open in an over-long record is unterminated_quote, the reason that explains it")
    func unterminatedAndTooLong() throws {
        let scanner = CSVScanner(delimiter: [0x2C], maxRecordBytes: 20)
        let input = "a,b\n1,\"" + String(repeating: "z\n", count: 30)
        for chunk in [Int.max, 3] {
            let (records, _) = try Self.scan(Array(input.utf8), scanner, chunk: chunk)
            #expect(records.map(\.line) == [1, 2])
            guard case .rejected(let failure)? = records.last?.problem else {
                Issue.record("expected a reject: \(records)")
                continue
            }
            #expect(failure.reason == "unterminated_quote")
        }
    }

    @Test("records: random bytes never crash, give the same records in any chunking, and count every line")
    func garbage() throws {
        var generator = SplitMix64(seed: 0xC5F)
        let alphabet: [UInt8] = Array("ab,;\"\t \r\n\"\n,".utf8) + [0xFF, 0xC3, 0xEF, 0xBB, 0xBF, 0x00]
        for round in 0..<60 {
            let count = Int.random(in: 0..<400, using: &generator)
            let input = (0..<count).map { _ in
                Bool.random(using: &generator) ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            let scanner = CSVScanner(delimiter: [round % 2 == 0 ? 0x2C : 0x3B], maxRecordBytes: 64)
            let whole = try Self.scan(input, scanner)
            let newlines = input.filter { $0 == 0x0A }.count + input.indices.filter { input[$0] == 0x0D && (($0 + 1 == input.count) || input[$0 + 1] != 0x0A) }.count
            #expect(whole.counts.lines >= newlines && whole.counts.lines <= newlines + 1, "round \(round)")
            #expect(whole.records.map(\.line) == whole.records.map(\.line).sorted(), "round \(round)")
            #expect(whole.records.allSatisfy { $0.line >= 1 && $0.line <= whole.counts.lines }, "round \(round)")
            for chunk in [1, 3, 17] {
                let pieces = try Self.scan(input, scanner, chunk: chunk)
                #expect(pieces.records == whole.records, "round \(round), chunk \(chunk)")
                #expect(pieces.counts.lines == whole.counts.lines && pieces.counts.blankLines == whole.counts.blankLines)
            }
            for record in whole.records where record.problem == nil {
                _ = try? Self.fields(record.bytes, scanner)
            }
            // Through the format as well: every unit becomes a record or a reject.
            let format = try MetadataCSVFormat(options: ReaderTests.options(#"{text: "{a}", delimiter: ",", max_record_bytes: 64}"#))
            let outcome = try Self.read([("g.csv", input)], with: format)
            #expect(outcome.records.count + outcome.rejects.count == outcome.units.count)
        }
    }

    // MARK: metadata_csv

    static let books = #"""
        id,title,body,genre,lang
        1,Dune,"Sand, spice
        and worms.",scifi,en
        2,"The ""Hobbit""",There and back.,,
        """#

    @Test("a text template fills in columns; unused columns go to meta in header order; the id is the row's first line")
    func textTemplate() throws {
        let outcome = try Self.read("books.csv", Self.books,
                                    options: #"{text: "{title}\n\n{body}", category_column: genre, lang_column: lang}"#)
        #expect(outcome.rejects.isEmpty, "\(outcome.rejectSummary)")
        try #require(outcome.records.count == 2)
        let dune = outcome.records[0]
        #expect(dune.text == "Dune\n\nSand, spice\nand worms.")
        #expect(dune.id == "src/books.csv:2")
        #expect(dune.location.line == 2)
        #expect(dune.category == "scifi")
        #expect(dune.lang == "en")
        #expect(dune.messages == nil)
        #expect(dune.meta.map(\.key) == ["id"])
        #expect(Self.string(dune.meta.first?.value) == "1")
        let hobbit = outcome.records[1]
        #expect(hobbit.text == "The \"Hobbit\"\n\nThere and back.")
        #expect(hobbit.id == "src/books.csv:4")
        #expect(hobbit.category == "cat", "an empty category column falls back to the source's")
        #expect(hobbit.lang == nil)
        #expect(outcome.counts.lines == 4)
    }

    @Test("prompt and response templates make a two-turn chat; literal braces are written doubled")
    func chatTemplate() throws {
        let text = "q,a,source\nWhat is 2+2?,4,quiz\n"
        let outcome = try Self.read("qa.csv", text, options: #"{prompt: "{{\"task\": \"math\"}} {q}", response: "The answer is {a}}}."}"#)
        try #require(outcome.records.count == 1)
        let record = outcome.records[0]
        #expect(record.messages == [Message(role: "user", content: "{\"task\": \"math\"} What is 2+2?"),
                                    Message(role: "assistant", content: "The answer is 4}.")])
        #expect(record.text == nil)
        #expect(record.meta.map(\.key) == ["source"])
        #expect(record.kind == .chat)
    }

    @Test("CRLF files with a BOM and tab or semicolon delimiters decode the same")
    func crlfBOMDelimiters() throws {
        let crlf = try Self.read("a.csv", "\u{FEFF}title,body\r\nA,\"x\r\ny\"\r\n", options: #"{text: "{title}: {body}"}"#)
        #expect(crlf.records.map(\.text) == ["A: x\r\ny"])
        #expect(crlf.records.map(\.id) == ["src/a.csv:2"])
        let tab = try Self.read("a.tsv", "title\tbody\nA\tb c\n", options: #"{text: "{title}: {body}", delimiter: "\t"}"#)
        #expect(tab.records.map(\.text) == ["A: b c"])
        let named = try Self.read("a.tsv", "title\tbody\nA\tb c\n", options: #"{text: "{title}: {body}", delimiter: tab}"#)
        #expect(named.records.map(\.text) == ["A: b c"])
        let semicolon = try Self.read("a.csv", "title;body\n\"A;1\";b\n", options: #"{text: "{title}: {body}", delimiter: ";"}"#)
        #expect(semicolon.records.map(\.text) == ["A;1: b"])
    }

    @Test("every batch carries its file's header, so rows decode whatever the batch size; each file has its own header")
    func preamblePerBatch() throws {
        let first = "title,body\n" + (1...7).map { "t\($0),b\($0)\n" }.joined()
        let second = "body,extra,title\nB,E,T\n"
        let format = try MetadataCSVFormat(options: ReaderTests.options(#"{text: "{title}|{body}"}"#))
        let outcome = try Self.read([("one.csv", Array(first.utf8)), ("two.csv", Array(second.utf8))], with: format, maxRecords: 2)
        #expect(outcome.rejects.isEmpty)
        #expect(outcome.records.map(\.text) == (1...7).map { "t\($0)|b\($0)" } + ["T|B"])
        #expect(outcome.records.map(\.id).last == "src/two.csv:2")
        #expect(outcome.records.last.map { $0.meta.map(\.key) } == ["extra"])
    }

    @Test("header names match templates without surrounding spaces; meta keys are trimmed too")
    func spacedHeader() throws {
        let outcome = try Self.read("t.csv", "title , body,\tnote\nA,B,C\n", options: #"{text: "{title}/{body}"}"#)
        #expect(outcome.records.map(\.text) == ["A/B"])
        #expect(outcome.records.first.map { $0.meta.map(\.key) } == ["note"])
        let repeated = try Self.read("t.csv", "a, a\n1,2\n", options: #"{text: "{a}"}"#)
        #expect(repeated.rejectSummary == ["invalid_header@t.csv:1", "invalid_header@t.csv:2"])
    }

    @Test("a row with a different number of fields is wrong_column_count at its line")
    func wrongColumnCount() throws {
        let text = "a,b,c\n1,2,3\n1,2\n\"x\ny\",2,3,4\n5,6,7\n"
        let outcome = try Self.read("t.csv", text, options: #"{text: "{a} {b}"}"#)
        #expect(outcome.rejectSummary == ["wrong_column_count@t.csv:3", "wrong_column_count@t.csv:4"])
        #expect(outcome.rejects.map(\.failure.detail) == ["found 2 fields, the header has 3", "found 4 fields, the header has 3"])
        #expect(outcome.rejects.first?.id == "src/t.csv:3")
        #expect(outcome.records.map(\.text) == ["1 2", "5 6"])
    }

    @Test("a template column missing from the header rejects each row as missing_column, naming the header's columns")
    func missingColumn() throws {
        let outcome = try Self.read("t.csv", "title,text\nA,B\nC,D\n", options: #"{text: "{title}: {summary}", category_column: kind}"#)
        #expect(outcome.rejectSummary == ["missing_column@t.csv:2", "missing_column@t.csv:3"])
        #expect(outcome.rejects.first?.failure.detail == "columns 'summary', 'kind' not in the header; the header has 'title', 'text'")
        #expect(outcome.records.isEmpty)
    }

    @Test("an empty template value is missing_field naming the columns, unless allow_empty lists them")
    func missingField() throws {
        let text = "title,body,note\nA,,x\n,  ,y\nB,b,\n"
        let strict = try Self.read("t.csv", text, options: #"{text: "{title}: {body}"}"#)
        #expect(strict.rejectSummary == ["missing_field@t.csv:2", "missing_field@t.csv:3"])
        #expect(strict.rejects.map(\.failure.detail) == [
            "empty value in column 'body' (allow_empty lists columns that may be empty)",
            "empty value in columns 'title', 'body' (allow_empty lists columns that may be empty)",
        ])
        #expect(strict.records.map(\.text) == ["B: b"])
        #expect(strict.records.first.map { Self.string($0.meta.first?.value) } == "", "empty meta values are kept")
        let lenient = try Self.read("t.csv", text, options: #"{text: "{title}: {body}", allow_empty: [body]}"#)
        #expect(lenient.rejectSummary == ["missing_field@t.csv:3"])
        #expect(lenient.records.map(\.text) == ["A: ", "B: b"])
    }

    @Test("a header that cannot be read is quarantined, and so is every row of its file, each at its own line")
    func invalidHeader() throws {
        let malformed = try Self.read("t.csv", "\"title\"x,body\nA,B\nC,D\n", options: #"{text: "{title}"}"#)
        #expect(malformed.rejectSummary == ["malformed_quotes@t.csv:1", "invalid_header@t.csv:2", "invalid_header@t.csv:3"])
        #expect(malformed.rejects.last?.failure.detail.contains("the header at line 1 is unusable (malformed_quotes)") == true)
        let repeated = try Self.read("t.csv", "title,title\nA,B\n", options: #"{text: "{title}"}"#)
        #expect(repeated.rejectSummary == ["invalid_header@t.csv:1", "invalid_header@t.csv:2"])
        #expect(repeated.rejects.first?.failure.detail == "the header column 'title' appears twice")
        #expect(repeated.records.isEmpty)
    }

    @Test("every reader reject reason reaches the quarantine at its line: an unterminated quote at line 7 of 9")
    func rejectsThroughFormat() throws {
        let text = "id,text\n1,a\n2,\"b\"c\n3,c\n4,d\n5,e\n6,\"oops\n7,f\n8,g\n"
        let outcome = try Self.read("t.csv", text, options: #"{text: "{text}"}"#)
        #expect(outcome.rejectSummary == ["malformed_quotes@t.csv:3", "unterminated_quote@t.csv:7"])
        #expect(outcome.records.map(\.id) == ["src/t.csv:2", "src/t.csv:4", "src/t.csv:5", "src/t.csv:6"])
        #expect(outcome.counts.lines == 9)
        let long = try Self.read("t.csv", "id,text\n1,\(String(repeating: "x", count: 100))\n2,b\n",
                                 options: #"{text: "{text}", max_record_bytes: 64}"#)
        #expect(long.rejectSummary == ["record_too_long@t.csv:2"])
        #expect(long.records.map(\.text) == ["b"])
    }

    @Test("a truncated .csv.zst keeps the rows read, then one truncated_input reject where the cut record starts")
    func truncatedZstd() throws {
        let compressor = try ZstdCompressor()
        var bytes: [UInt8] = []
        try compressor.compressFrame(Array("title,body\nA,\"one\ntwo\"\nB,b\n".utf8), into: &bytes)
        var last: [UInt8] = []
        // Repetitive, so its one block is compressed and nothing of it decodes once cut.
        try compressor.compressFrame(Array((1...40).map { "T\($0),body \($0)\n" }.joined().utf8), into: &last)
        bytes += last.dropLast(8)
        let format = try MetadataCSVFormat(options: ReaderTests.options(#"{text: "{title} {body}"}"#))
        let outcome = try Self.read([("t.csv.zst", bytes)], with: format)
        #expect(outcome.records.map(\.text) == ["A one\ntwo", "B b"])
        #expect(outcome.rejectSummary == ["truncated_input@t.csv.zst:5"])
        #expect(outcome.rejects.first?.failure.detail.contains("zstd_truncated") == true)
        #expect(outcome.counts.bytes == bytes.count)
    }

    @Test("invalid UTF-8 is decoded as U+FFFD and counted for the validate stage")
    func invalidUTF8() throws {
        let bytes = Array("title,body\n".utf8) + Array("caf".utf8) + [0xC3] + Array(",ok".utf8) + [0xFF, 0x0A]
        let format = try MetadataCSVFormat(options: ReaderTests.options(#"{text: "{title} {body}"}"#))
        let outcome = try Self.read([("t.csv", bytes)], with: format)
        try #require(outcome.records.count == 1)
        #expect(outcome.records[0].text == "caf\u{FFFD} ok\u{FFFD}")
        #expect(outcome.records[0].utf8Repairs == 2)
    }

    @Test("a file with only a header, or nothing, gives no units")
    func headerOnly() throws {
        for text in ["title\n", "", "\n\n"] {
            let outcome = try Self.read("t.csv", text, options: #"{text: "{title}"}"#)
            #expect(outcome.units.isEmpty)
        }
    }

    @Test("templates are parsed once: pieces, columns, and braces")
    func templates() throws {
        let template = try RowTemplate(parsing: "{a} and {b} and {a} {{x}}")
        #expect(template.columns == ["a", "b"])
        #expect(template.pieces == [.column(0), .literal(" and "), .column(1), .literal(" and "), .column(0), .literal(" {x}")])
        #expect(template.render { ["1", "2"][$0] } == "1 and 2 and 1 {x}")
        #expect(try RowTemplate(parsing: "{first name}").columns == ["first name"])
    }

    @Test("unusable metadata_csv options are spec errors naming the line", arguments: [
        (#"{text: "{t}", prompt: "{q}", response: "{a}"}"#, "not both"),
        (#"{prompt: "{q}"}"#, "'prompt' needs a 'response' template"),
        (#"{response: "{a}"}"#, "'response' needs a 'prompt' template"),
        (#"{delimiter: ";"}"#, "needs a 'text' template, or 'prompt' and 'response' templates"),
        (#"{text: "no columns here"}"#, "the template names no column"),
        (#"{text: "{title"}"#, "'{' at character 1 is never closed"),
        (#"{text: "a } {b}"}"#, "'}' at character 3 closes nothing"),
        (#"{text: "{} {b}"}"#, "'{}' at character 1 names no column"),
        (#"{text: "{a{b}"}"#, "'{' inside the placeholder"),
        (#"{text: "{t}", allow_empty: [x]}"#, "'x' is not a template column; templates name: t"),
        (#"{text: "{t}", delimiter: "::"}"#, "'::' is 2 bytes"),
        (#"{text: "{t}", delimiter: "\""}"#, "cannot be the delimiter while it quotes fields"),
        (#"{text: "{t}", delimiter: ""}"#, "a delimiter must be a byte"),
        (#"{text: "{t}", delimter: ","}"#, "unknown key 'delimter' (did you mean 'delimiter'?)"),
        (#"{text: "{t}", max_record_bytes: 0}"#, "must be at least 1 byte"),
    ])
    func specErrors(flow: String, message: String) throws {
        let error = try #require(#expect(throws: RefineryError.self) { try MetadataCSVFormat(options: ReaderTests.options(flow)) })
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.code == .spec)
        #expect(error.location?.line == 6)
    }

    @Test("metadata_csv without options says what it needs")
    func noOptions() throws {
        let error = try #require(#expect(throws: RefineryError.self) { try MetadataCSVFormat(options: nil) })
        #expect(error.message.contains("'text' template, or 'prompt' and 'response'"))
    }

    @Test("options: delimiter, quoting and max_record_bytes reach the scanner")
    func options() throws {
        let format = try MetadataCSVFormat(options: ReaderTests.options(#"{text: "{t}", delimiter: "|", quoting: false, max_record_bytes: 2KiB}"#))
        #expect(format.scanner.delimiter == [0x7C])
        #expect(!format.scanner.quoting)
        #expect(format.scanner.maxRecordBytes == 2048)
        #expect(format.templateColumns == ["t"])
        let defaults = try MetadataCSVFormat(options: ReaderTests.options(#"{prompt: "{q}", response: "{a} {q}"}"#))
        #expect(defaults.scanner.delimiter == [0x2C] && defaults.scanner.quoting && defaults.scanner.maxRecordBytes == 1 << 20)
        #expect(defaults.templateColumns == ["q", "a"])
    }
}
