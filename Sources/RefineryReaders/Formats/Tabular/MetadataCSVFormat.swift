import RefineryRecords
import RefinerySpec

/// `kind: metadata_csv` — a table with a header row (CSV, TSV, `;`-separated; RFC 4180 quoting), one record per
/// row, made from `{column}` templates: a document (`text`) or a two-turn chat (`prompt` → user, `response` →
/// assistant).
///
/// The header is read once per file and travels with every batch as the file's preamble. The id of a row's record
/// is `source/path:LINE`, LINE being where the row starts (a quoted field may span lines). Columns no template
/// names (nor `category_column` / `lang_column`) are kept in `meta` as strings, in header order. Header names match
/// template placeholders without surrounding spaces. A value of only whitespace counts as empty. Invalid UTF-8 (in
/// the row or its header) is decoded as U+FFFD and counted in `utf8Repairs`; the validate stage decides.
///
/// Options:
/// - `text`, or `prompt` and `response`: the templates (exactly one of these shapes). `{{`/`}}` are literal braces.
/// - `delimiter` (default `,`): one byte, e.g. `";"`, `"\t"` or `tab`.
/// - `quoting` (default true): whether `"` quotes fields.
/// - `allow_empty` (default none): template columns whose value may be empty.
/// - `category_column`, `lang_column`: columns giving the record's category and language (the source's when empty).
/// - `max_record_bytes` (default 1MiB): longer rows are quarantined as `record_too_long`.
///
/// Reject reasons: `wrong_column_count`, `missing_column`, `missing_field`, `malformed_quotes`,
/// `unterminated_quote`, `record_too_long`, `invalid_header` (the header itself, and every row of its file),
/// `missing_header`.
public struct MetadataCSVFormat: SingleRecordFormat {
    /// What a row becomes.
    public enum Shape: Sendable, Equatable {
        /// A document whose `text` is the template filled in.
        case document(text: RowTemplate)
        /// A chat of a user turn and an assistant turn.
        case chat(prompt: RowTemplate, response: RowTemplate)
    }

    /// Finds rows and fields (`delimiter`, `quoting`, `max_record_bytes`).
    public var scanner: CSVScanner
    /// The templates, and so whether rows become documents or chats.
    public var shape: Shape
    /// Template columns that may hold an empty value.
    public var allowEmpty: Set<String>
    /// The column giving a record's category; the source's category when absent or empty.
    public var categoryColumn: String?
    /// The column giving a record's language; the source's language when absent or empty.
    public var langColumn: String?
    /// Every column the templates name, each once, in order of first use.
    public let templateColumns: [String]
    /// The same, as bytes to compare with header fields.
    private let templateColumnBytes: [[UInt8]]
    /// For each template of ``shape`` (text, or prompt then response): its column i is `templateColumns[slots[t][i]]`.
    private let slots: [[Int]]

    /// Reads the options of a `metadata_csv` source.
    /// - Throws: ``RefineryError`` naming the spec line when the templates or options are unusable.
    public init(options: SpecNode?) throws {
        guard let options else {
            throw RefineryError(.spec, "metadata_csv needs options: a 'text' template, or 'prompt' and 'response' templates")
        }
        let table = try options.table(allowed: [
            "text", "prompt", "response", "delimiter", "quoting", "allow_empty", "category_column", "lang_column",
            "max_record_bytes",
        ])
        scanner = try CSVScanner.fromOptions(table, defaultDelimiter: 0x2C, allowMultiByte: false)

        func template(_ key: String) throws -> RowTemplate? {
            guard let node = table.optional(key) else { return nil }
            do {
                return try RowTemplate(parsing: try node.string())
            } catch let error as RowTemplateError {
                throw node.error(error.message)
            }
        }
        let text = try template("text")
        let prompt = try template("prompt")
        let response = try template("response")
        let templates: [RowTemplate]
        switch (text, prompt, response) {
        case (let text?, nil, nil):
            shape = .document(text: text)
            templates = [text]
        case (nil, let prompt?, let response?):
            shape = .chat(prompt: prompt, response: response)
            templates = [prompt, response]
        case (_?, _, _):
            throw options.error("give either a 'text' template or 'prompt' and 'response' templates, not both")
        case (nil, _?, nil):
            throw options.error("'prompt' needs a 'response' template (or use 'text' for documents)")
        case (nil, nil, _?):
            throw options.error("'response' needs a 'prompt' template (or use 'text' for documents)")
        case (nil, nil, nil):
            throw options.error("metadata_csv needs a 'text' template, or 'prompt' and 'response' templates")
        }
        var columns: [String] = []
        var slots: [[Int]] = []
        for template in templates {
            slots.append(template.columns.map { name in
                if let known = columns.firstIndex(of: name) { return known }
                columns.append(name)
                return columns.count - 1
            })
        }
        templateColumns = columns
        templateColumnBytes = columns.map { Array($0.utf8) }
        self.slots = slots

        allowEmpty = []
        if let node = table.optional("allow_empty") {
            let items = (try? node.list()) ?? [node]
            for item in items {
                let name = try item.string()
                guard columns.contains(name) else {
                    throw item.error("'\(name)' is not a template column; templates name: \(columns.joined(separator: ", "))")
                }
                allowEmpty.insert(name)
            }
        }
        categoryColumn = try table.optional("category_column")?.string()
        langColumn = try table.optional("lang_column")?.string()
    }

    // MARK: Split

    /// Where a file's header stands while its rows are read.
    private enum HeaderState {
        case awaiting
        case valid
        case invalid(line: Int, why: String)
    }

    /// Reads the header row (the file's preamble), then hands on one unit per row.
    public func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> LineSplitter.Counts {
        var header = HeaderState.awaiting
        var fields = CSVScanner.Fields()
        return try scanner.records(in: stream) { bytes, line, problem in
            switch header {
            case .awaiting:
                if let problem {
                    // The header itself is quarantined with its reason; the rows then have no columns.
                    let why: String
                    switch problem {
                    case .rejected(let failure): why = failure.reason
                    case .truncated: why = "truncated_input"
                    default: why = "unreadable"
                    }
                    header = .invalid(line: line, why: why)
                    try builder.add(bytes, fileIndex: fileIndex, line: line, problem: problem)
                    return
                }
                do throws(DecodeFailure) {
                    try scanner.fields(of: bytes, into: &fields)
                } catch {
                    header = .invalid(line: line, why: error.reason)
                    try builder.add(bytes, fileIndex: fileIndex, line: line, problem: .rejected(error))
                    return
                }
                if let repeated = Self.repeatedColumn(fields) {
                    let why = "column '\(repeated)' appears twice"
                    header = .invalid(line: line, why: why)
                    try builder.add(bytes, fileIndex: fileIndex, line: line,
                                    problem: .rejected(DecodeFailure(reason: "invalid_header", detail: "the header \(why)")))
                    return
                }
                builder.setPreamble(Array(bytes), fileIndex: fileIndex)
                header = .valid
            case .valid:
                try builder.add(bytes, fileIndex: fileIndex, line: line, problem: problem)
            case .invalid(let headerLine, let why):
                let failure = DecodeFailure(reason: "invalid_header",
                                            detail: "the header at line \(headerLine) is unusable (\(why)), so this row's columns are unknown")
                try builder.add(bytes, fileIndex: fileIndex, line: line, problem: problem ?? .rejected(failure))
            }
        }
    }

    /// The first column name the header holds twice.
    private static func repeatedColumn(_ header: CSVScanner.Fields) -> String? {
        var seen: Set<ArraySlice<UInt8>> = []
        for i in 0..<header.count where !seen.insert(trimmed(header[i])).inserted {
            return String(decoding: trimmed(header[i]), as: UTF8.self)
        }
        return nil
    }

    // MARK: Decode

    /// Turns one row into a record, using the header carried as the file's preamble.
    public func decode(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext) throws(DecodeFailure) -> Record {
        guard let preamble = context.preamble else {
            throw DecodeFailure(reason: "missing_header", detail: "no header row was read for this file")
        }
        var header = CSVScanner.Fields()
        try preamble.withUnsafeBufferPointer { (headerBytes) throws(DecodeFailure) in
            try scanner.fields(of: headerBytes, into: &header)
        }
        var row = CSVScanner.Fields()
        try scanner.fields(of: bytes, into: &row)
        guard row.count == header.count else {
            throw DecodeFailure(reason: "wrong_column_count", detail: "found \(row.count) fields, the header has \(header.count)")
        }

        // Header names match without surrounding spaces and tabs ("title, body" has a column "body").
        func position(of name: some Collection<UInt8>) -> Int? {
            (0..<header.count).first { Self.trimmed(header[$0]).elementsEqual(name) }
        }
        var missing: [String] = []
        var templateIndex: [Int] = []
        templateIndex.reserveCapacity(templateColumns.count)
        for (k, name) in templateColumnBytes.enumerated() {
            if let found = position(of: name) {
                templateIndex.append(found)
            } else {
                missing.append(templateColumns[k])
            }
        }
        var categoryIndex: Int?
        var langIndex: Int?
        if let categoryColumn {
            categoryIndex = position(of: categoryColumn.utf8)
            if categoryIndex == nil && !missing.contains(categoryColumn) { missing.append(categoryColumn) }
        }
        if let langColumn {
            langIndex = position(of: langColumn.utf8)
            if langIndex == nil && !missing.contains(langColumn) { missing.append(langColumn) }
        }
        if !missing.isEmpty {
            let names = (0..<header.count).map { "'\(header.string($0))'" }.joined(separator: ", ")
            throw DecodeFailure(reason: "missing_column",
                                detail: "\(Self.quoted(missing)) not in the header; the header has \(names)")
        }

        let empty = templateColumns.indices.filter { k in
            !allowEmpty.contains(templateColumns[k]) && Self.isBlank(row[templateIndex[k]])
        }
        if !empty.isEmpty {
            throw DecodeFailure(reason: "missing_field",
                                detail: "empty value in \(Self.quoted(empty.map { templateColumns[$0] })) (allow_empty lists columns that may be empty)")
        }

        var record = context.makeRecord()
        let values = templateIndex.map { row.string($0) }
        switch shape {
        case .document(let text):
            record.text = text.render { values[slots[0][$0]] }
        case .chat(let prompt, let response):
            record.messages = [
                Message(role: "user", content: prompt.render { values[slots[0][$0]] }),
                Message(role: "assistant", content: response.render { values[slots[1][$0]] }),
            ]
        }
        if let categoryIndex, !row[categoryIndex].isEmpty { record.category = row.string(categoryIndex) }
        if let langIndex, !row[langIndex].isEmpty { record.lang = row.string(langIndex) }

        var used = [Bool](repeating: false, count: header.count)
        for i in templateIndex { used[i] = true }
        if let categoryIndex { used[categoryIndex] = true }
        if let langIndex { used[langIndex] = true }
        for i in 0..<header.count where !used[i] {
            record.meta.append((String(decoding: Self.trimmed(header[i]), as: UTF8.self), .string(row.string(i))))
        }
        record.utf8Repairs = JSONParser.countInvalidSequences(bytes)
            + preamble.withUnsafeBufferPointer { JSONParser.countInvalidSequences($0) }
        return record
    }

    /// A header name without leading and trailing spaces and tabs.
    static func trimmed(_ name: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = name
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    /// Whether a value is empty or only whitespace.
    private static func isBlank(_ value: ArraySlice<UInt8>) -> Bool {
        value.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    }

    /// `column 'a'` or `columns 'a', 'b'`.
    private static func quoted(_ names: [String]) -> String {
        (names.count == 1 ? "column " : "columns ") + names.map { "'\($0)'" }.joined(separator: ", ")
    }
}
