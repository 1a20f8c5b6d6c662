import RefineryRecords
import RefineryReport
import RefineryShards
import RefineryStages

/// Appends values to a byte buffer: the body of a work unit's file. Integers are LEB128 varints of their zigzag
/// form (a count or a size below 64 takes one byte, below 8,192 two: fixed eight-byte integers were a third of a
/// spilled entry's bytes), hashes and doubles eight little-endian bytes.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func int(_ value: Int) {
        var rest = UInt64(bitPattern: Int64(value) << 1 ^ Int64(value) >> 63)
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func u32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func u32s(_ values: [UInt32]) {
        int(values.count)
        #if _endian(little)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        for value in values { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        #endif
    }

    /// Bytes another writer wrote, as they are.
    mutating func raw(_ value: [UInt8]) { bytes.append(contentsOf: value) }

    mutating func double(_ value: Double) { u64(value.bitPattern) }

    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func blob(_ value: [UInt8]) {
        int(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            int(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func strings(_ values: [String]) {
        int(values.count)
        for value in values { string(value) }
    }

    /// A dictionary in key order, so equal dictionaries give equal bytes.
    mutating func counts(_ values: [String: Int]) {
        int(values.count)
        for key in values.keys.sorted() {
            string(key)
            int(values[key]!)
        }
    }

    mutating func optionalInt(_ value: Int?) {
        bool(value != nil)
        if let value { int(value) }
    }

    mutating func optionalDouble(_ value: Double?) {
        bool(value != nil)
        if let value { double(value) }
    }
}

/// Reads what ``ByteWriter`` wrote; every read checks the bounds, so a damaged file is an error, not a crash.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else { throw UnitFileError.truncated(at: offset) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func u64() throws -> UInt64 {
        guard bytes.count - offset >= 8 else { throw UnitFileError.truncated(at: offset) }
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) })
    }

    mutating func int() throws -> Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            // Ten bytes at most, the tenth holding the top bit alone.
            guard offset < bytes.count, shift < 63 || bytes[offset] <= 1 else {
                throw UnitFileError.truncated(at: offset)
            }
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        return Int(Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1))
    }

    mutating func u32s() throws -> [UInt32] {
        let count = try int()
        guard count >= 0, count <= (bytes.count - offset) / 4 else { throw UnitFileError.truncated(at: offset) }
        let slice = try take(count * 4)
        #if _endian(little)
        return [UInt32](unsafeUninitializedCapacity: count) { buffer, initialized in
            slice.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
            initialized = count
        }
        #else
        return (0..<count).map { i in
            let base = slice.startIndex + i * 4
            return UInt32(slice[base]) | UInt32(slice[base + 1]) << 8 | UInt32(slice[base + 2]) << 16 | UInt32(slice[base + 3]) << 24
        }
        #endif
    }

    mutating func u32() throws -> UInt32 {
        guard bytes.count - offset >= 4 else { throw UnitFileError.truncated(at: offset) }
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) })
    }

    mutating func double() throws -> Double { Double(bitPattern: try u64()) }

    mutating func bool() throws -> Bool { try take(1).first! != 0 }

    mutating func blob() throws -> [UInt8] { Array(try take(try int())) }

    mutating func string() throws -> String { String(decoding: try take(try int()), as: UTF8.self) }

    mutating func strings() throws -> [String] { try (0..<(try count())).map { _ in try string() } }

    mutating func counts() throws -> [String: Int] {
        var values: [String: Int] = [:]
        for _ in 0..<(try count()) { values[try string()] = try int() }
        return values
    }

    mutating func optionalInt() throws -> Int? { try bool() ? try int() : nil }

    mutating func optionalDouble() throws -> Double? { try bool() ? try double() : nil }

    /// A count of elements that follow: bounded by the bytes left, so a damaged count cannot allocate wildly.
    mutating func count() throws -> Int {
        let value = try int()
        guard value >= 0, value <= bytes.count - offset else { throw UnitFileError.truncated(at: offset) }
        return value
    }
}

enum UnitFileError: Error, CustomStringConvertible {
    case truncated(at: Int)
    case badHeader
    case unknownEntry(UInt8)

    var description: String {
        switch self {
        case .truncated(let offset): "truncated or damaged at byte \(offset)"
        case .badHeader: "not a work-unit file of this version of Refinery (its first line is not \"\(String(decoding: UnitStore.magic.dropLast(), as: UTF8.self))\")"
        case .unknownEntry(let tag): "unknown entry type \(tag)"
        }
    }
}

/// One spilled entry's dedup keys, as ``ByteReader/forEachSpilledKeys(_:)`` hands them over: views into the encoded
/// entries (and a reader's buffer), valid only during the call.
struct SpilledKeys {
    /// The UTF-8 of its id.
    var idBytes: UnsafeRawBufferPointer
    var contentBytes: Int
    var quality: Double?
    /// Whether it has dedup keys; without, the rest is empty.
    var hasKeys = false
    var exact: UInt64 = 0
    var bands = UnsafeBufferPointer<UInt64>(start: nil, count: 0)
    var sketch = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

    init(idBytes: UnsafeRawBufferPointer, contentBytes: Int, quality: Double?) {
        self.idBytes = idBytes
        self.contentBytes = contentBytes
        self.quality = quality
    }

    var id: String { String(decoding: idBytes, as: UTF8.self) }

    /// The keys as the resolver's other entry point takes them (copied).
    var dedupKeys: DedupKeys? { hasKeys ? DedupKeys(exact: exact, bands: Array(bands), sketch: Array(sketch)) : nil }
}

/// Which parts of a spilled entry a reader decodes (``ByteReader/spillEntries(_:)``); the id, sizes and quality
/// always are.
struct SpillEntryParts: OptionSet, Sendable {
    let rawValue: Int
    /// The category and the source location: the shard writer's.
    static let location = SpillEntryParts(rawValue: 1)
    /// The dedup keys: the resolver's.
    static let dedupKeys = SpillEntryParts(rawValue: 2)
    /// What the report reads of the record (``SpillEntry/report``), with the category: the shard writer's.
    static let report = SpillEntryParts(rawValue: 4)
    static let all: SpillEntryParts = [.location, .dedupKeys, .report]
}

// The pieces of a batch's output, each written and read field by field in declaration order.

extension ByteWriter {
    mutating func shardPiece(_ piece: ShardPiece) {
        blob(piece.compressed)
        int(piece.uncompressedBytes)
        int(piece.records)
        counts(piece.categories)
        strings(piece.scoreKeys.sorted())
        strings(piece.piiKeys.sorted())
    }

    mutating func stageCounters(_ counters: StageCounters) {
        string(counters.name)
        int(counters.recordsIn)
        int(counters.recordsOut)
        counts(counters.dropped)
        counts(counters.events)
        int(counters.bytesIn)
        int(counters.bytesOut)
    }

    /// Returns where the frame's bytes, the encoded entries and the shingle hashes went in ``bytes``.
    @discardableResult
    mutating func spillPiece(_ piece: SpillPiece) -> (frame: Range<Int>, entries: Range<Int>) {
        blob(piece.frame)
        let frame = (bytes.count - piece.frame.count)..<bytes.count
        if piece.encodedEntries.isEmpty { spillEntries(piece.entries) } else { raw(piece.encodedEntries) }
        return (frame, frame.upperBound..<bytes.count)
    }

    /// Spilled records' entries. The strings a batch's records share (category, file, source, language) are
    /// written once, in a table ahead of the entries, and each entry gives their numbers in it (0 for none, 1 for
    /// the first string): repeated in every entry, they were a fifth of its bytes.
    mutating func spillEntries(_ entries: [SpillEntry]) {
        var table = SharedStrings(slots: 4)
        var numbers: [Int] = []
        numbers.reserveCapacity(entries.count * 4)
        // Through the buffer, each entry in place: `for entry in entries` copied every entry (a retain and a release
        // of each of its strings and arrays), twice over (2.5 % of a run over subtitle windows went to this function).
        entries.withUnsafeBufferPointer { entries in
            for index in entries.indices {
                numbers.append(table.number(of: entries[index].category, slot: 0))
                numbers.append(table.number(of: entries[index].location.file, slot: 1))
                numbers.append(table.number(of: entries[index].report?.source, slot: 2))
                numbers.append(table.number(of: entries[index].report?.lang, slot: 3))
            }
        }
        strings(table.strings)
        int(entries.count)
        entries.withUnsafeBufferPointer { entries in
            for index in entries.indices { entry(entries[index], numbers: numbers[(4 * index)..<(4 * index + 4)]) }
        }
    }

    /// One entry of ``spillEntries(_:)``; `numbers`: its shared strings' numbers (category, file, source, language).
    private mutating func entry(_ entry: borrowing SpillEntry, numbers: ArraySlice<Int>) {
        let first = numbers.startIndex
        string(entry.id)
        int(numbers[first])
        int(numbers[first + 1])
        optionalInt(entry.location.line)
        int(entry.lineBytes)
        int(entry.contentBytes)
        int(entry.contentChars)
        optionalDouble(entry.quality)
        // The category and the characters are the entry's.
        bool(entry.report != nil)
        if let facts = entry.report {
            int(numbers[first + 2])
            int(numbers[first + 3])
            bool(facts.hasContent)
            int(facts.words)
            optionalInt(facts.turns)
            optionalDouble(facts.quality)
            optionalDouble(facts.toxicity)
            optionalDouble(facts.langScore)
            optionalDouble(facts.reward)
        }
        bool(entry.dedup != nil)
        if let keys = entry.dedup {
            u64(keys.exact)
            int(keys.bands.count)
            // Four bytes a band: the low 32 bits a band hash keeps (``DedupKeys/bands``).
            for band in keys.bands { u32(UInt32(truncatingIfNeeded: band)) }
            blob(keys.sketch)
        }
    }

    /// A batch's output as a worker made it (before any global stage touched it). Returns where its spilled
    /// records' parts went in ``bytes``, when it has any.
    @discardableResult
    mutating func batchOutput(_ output: BatchOutput) -> (frame: Range<Int>, entries: Range<Int>)? {
        shardPiece(output.train)
        shardPiece(output.validation)
        int(output.rejects.count)
        for stage in output.rejects.keys.sorted() {
            string(stage)
            shardPiece(output.rejects[stage]!)
        }
        int(output.counters.count)
        for counters in output.counters { stageCounters(counters) }
        int(output.seconds.count)
        for value in output.seconds { double(value) }
        bool(output.spill != nil)
        guard let spill = output.spill else { return nil }
        return spillPiece(spill)
    }
}

extension ByteReader {
    mutating func shardPiece() throws -> ShardPiece {
        var piece = ShardPiece()
        piece.compressed = try blob()
        piece.uncompressedBytes = try int()
        piece.records = try int()
        piece.categories = try counts()
        piece.scoreKeys = Set(try strings())
        piece.piiKeys = Set(try strings())
        return piece
    }

    mutating func stageCounters() throws -> StageCounters {
        var counters = StageCounters(name: try string())
        counters.recordsIn = try int()
        counters.recordsOut = try int()
        counters.dropped = try counts()
        counters.events = try counts()
        counters.bytesIn = try int()
        counters.bytesOut = try int()
        return counters
    }

    /// A spilled piece; read from `file` (the bytes being that whole file), it says where its parts are in it.
    mutating func spillPiece(file: String? = nil) throws -> SpillPiece {
        var piece = SpillPiece()
        piece.frame = try blob()
        let frameEnd = offset
        piece.entries = try spillEntries()
        let entries = frameEnd..<offset
        piece.encodedEntries = Array(bytes[entries])
        if let file {
            piece.stored = StoredSpill(frame: StoredBytes(file: file, offset: frameEnd - piece.frame.count, count: piece.frame.count),
                                       entries: StoredBytes(file: file, offset: entries.lowerBound, count: entries.count))
        }
        return piece
    }

    /// Spilled records' entries, with the `parts` a reader needs; the others are skipped, not decoded (an empty
    /// category and file, no dedup keys).
    mutating func spillEntries(_ parts: SpillEntryParts = .all) throws -> [SpillEntry] {
        var entries: [SpillEntry] = []
        let table = try strings()
        // A string's number in the table: 0 for none.
        func shared() throws -> String? {
            let start = offset, number = try int()
            guard number >= 0, number <= table.count else { throw UnitFileError.truncated(at: start) }
            return number == 0 ? nil : table[number - 1]
        }
        let records = try count()
        entries.reserveCapacity(records)
        for _ in 0..<records {
            let id = try string()
            var category = "", location = SourceLocation(file: "")
            if parts.contains(.location) {
                category = try shared() ?? ""
                location = SourceLocation(file: try shared() ?? "", line: try optionalInt())
            } else {
                try skipLocation()
            }
            var entry = SpillEntry(id: id, category: category, location: location, lineBytes: try int(),
                                   contentBytes: try int(), contentChars: try int(), quality: try optionalDouble())
            if try bool() {
                if parts.contains(.report) {
                    let (source, lang, hasContent, words, turns) = (try shared(), try shared(), try bool(), try int(), try optionalInt())
                    let (quality, toxicity, langScore, reward) = (try optionalDouble(), try optionalDouble(), try optionalDouble(), try optionalDouble())
                    entry.report = RecordFacts(category: category, source: source, lang: lang, hasContent: hasContent, chars: entry.contentChars,
                                               words: words, turns: turns, quality: quality, toxicity: toxicity, langScore: langScore, reward: reward)
                } else {
                    try skipReportFacts()
                }
            }
            if try bool() {
                let exact = try u64()
                if parts.contains(.dedupKeys) {
                    let bands = try (0..<(try count())).map { _ in UInt64(try u32()) }
                    entry.dedup = DedupKeys(exact: exact, bands: bands, sketch: try blob())
                } else {
                    _ = try take(try count() * 4)
                    try skipBlob()
                }
            }
            entries.append(entry)
        }
        return entries
    }

    /// Passes over a blob or a string.
    private mutating func skipBlob() throws { _ = try take(try int()) }

    /// Passes over an entry's category, file and line (``ByteWriter/spillEntries(_:)`` writes them after its id).
    private mutating func skipLocation() throws {
        _ = try int()
        _ = try int()
        _ = try optionalInt()
    }

    /// Passes over what the report reads of an entry, after its flag: source, language, content, words, turns and
    /// four scores.
    private mutating func skipReportFacts() throws {
        _ = try int()
        _ = try int()
        _ = try bool()
        _ = try int()
        _ = try optionalInt()
        for _ in 0..<4 { _ = try optionalDouble() }
    }

    /// Passes over `count` bytes; returns where they start.
    private mutating func skip(_ count: Int) throws -> Int {
        guard count >= 0, count <= bytes.count - offset else { throw UnitFileError.truncated(at: offset) }
        defer { offset += count }
        return offset
    }

    /// Reads spilled records' entries (as ``spillEntries(_:)`` with `.dedupKeys`) without making a ``SpillEntry``
    /// of each: `body` gets each entry's keys as views into the encoded bytes, valid only during the call. The dedup
    /// feed and the index segment read every record's keys this way; materialised, each entry cost an id string and
    /// two arrays, made and freed again (on the 1.13 million subtitle windows of the 1 GB benchmark, 4 % of the CPU
    /// in retains, releases and copies of entries).
    /// - Returns: the number of entries.
    mutating func forEachSpilledKeys(_ body: (SpilledKeys) throws -> Void) throws -> Int {
        let encoded = bytes
        _ = try strings()
        let records = try count()
        var bands = [UInt64](repeating: 0, count: 16)
        try encoded.withUnsafeBytes { raw in
            for _ in 0..<records {
                let idCount = try int()
                let idStart = try skip(idCount)
                try skipLocation()
                _ = try int()
                let contentBytes = try int()
                _ = try int()
                let quality = try optionalDouble()
                if try bool() { try skipReportFacts() }
                var keys = SpilledKeys(idBytes: UnsafeRawBufferPointer(rebasing: raw[idStart..<(idStart + idCount)]),
                                       contentBytes: contentBytes, quality: quality)
                guard try bool() else {
                    try body(keys)
                    continue
                }
                keys.hasKeys = true
                keys.exact = try u64()
                let bandCount = try count()
                let bandStart = try skip(bandCount * 4)
                if bands.count < bandCount { bands = [UInt64](repeating: 0, count: bandCount) }
                let sketchCount = try int()
                let sketchStart = try skip(sketchCount)
                try bands.withUnsafeMutableBufferPointer { bands in
                    for band in 0..<bandCount {
                        bands[band] = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: bandStart + band * 4, as: UInt32.self)))
                    }
                    keys.bands = UnsafeBufferPointer(start: bands.baseAddress, count: bandCount)
                    keys.sketch = UnsafeRawBufferPointer(rebasing: raw[sketchStart..<(sketchStart + sketchCount)]).assumingMemoryBound(to: UInt8.self)
                    try body(keys)
                }
            }
        }
        return records
    }

    /// A batch's output; read from `file` (the bytes being that whole file), its spilled piece says where it is.
    mutating func batchOutput(index: Int, sourceIndex: Int, file: String? = nil) throws -> BatchOutput {
        var output = BatchOutput(index: index, sourceIndex: sourceIndex)
        output.train = try shardPiece()
        output.validation = try shardPiece()
        for _ in 0..<(try count()) {
            let stage = try string()
            output.rejects[stage] = try shardPiece()
        }
        output.counters = try (0..<(try count())).map { _ in try stageCounters() }
        output.seconds = try (0..<(try count())).map { _ in try double() }
        if try bool() { output.spill = try spillPiece(file: file) }
        return output
    }
}

/// The distinct strings of a batch's spilled entries, numbered from 1 in the order first seen (0: none). A record
/// mostly repeats the previous record's string in each field, so that is compared first (per field: `slot`); the
/// dictionary is looked up only when it changes.
struct SharedStrings {
    private(set) var strings: [String] = []
    private var numbers: [String: Int] = [:]
    private var last: [(string: String, number: Int)?]

    init(slots: Int) {
        last = Array(repeating: nil, count: slots)
    }

    mutating func number(of string: String?, slot: Int) -> Int {
        guard let string else { return 0 }
        if let last = last[slot], last.string == string { return last.number }
        let number = numbers[string] ?? {
            strings.append(string)
            numbers[string] = strings.count
            return strings.count
        }()
        last[slot] = (string, number)
        return number
    }
}
