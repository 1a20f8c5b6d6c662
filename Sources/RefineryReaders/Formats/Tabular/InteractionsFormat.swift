import Foundation
import RefineryRecords
import RefinerySpec

/// `kind: interactions` — interaction logs (user, item, rating or watch fraction, time), one record per user: the
/// user's history in time order, for generative recommenders.
///
/// A user's events may be in any file of the source (logs split by day): the whole source is grouped per user and
/// each history is ordered by (timestamp, file order, line). Grouping is an external sort whose memory stays
/// within `memory_budget`; past it, sorted runs are spilled to a private temporary folder (under `TMPDIR`) that is
/// removed when reading ends. Histories come out in user-id byte order. Rows that cannot be read are quarantined at
/// their own file and line, as they are read.
///
/// A record's id is `source/path:user=ID` (path of the file holding the user's first event), its category and
/// language the source's, `interactions` the items, rewards and timestamps, and `meta` `{"user", "events"}`.
///
/// Options:
/// - `delimiter` (default tab): one byte, or several (MovieLens-1M `::`), which never quote.
/// - `quoting` (default true for a one-byte delimiter): whether `"` quotes fields.
/// - `header` (default true): whether each file starts with a header row.
/// - `columns`: `{user, item, rating, timestamp}`, header names (defaults `user`, `item`, `rating`, `timestamp`)
///   or with `header: false` 0-based positions (defaults 0, 1, 2, 3).
/// - `reward` (default `rating`): `rating` maps r to (r − `rating_min`) / (`rating_max` − `rating_min`) (defaults
///   1 and 5); `watch_fraction` takes the value as it is, in [0, 1].
/// - `min_events` (default 5): fewer events make a `too_few_events` reject.
/// - `max_events` (default 10000): longer histories keep the most recent events (event `history_truncated`).
/// - `memory_budget` (default 64MiB, at least 4KiB): event bytes held before spilling a sorted run.
/// - `max_record_bytes` (default 1MiB).
///
/// Timestamps: see ``InteractionTimestamp``. Fields are trimmed of spaces and tabs.
///
/// Reject reasons: `wrong_column_count`, `missing_field`, `invalid_rating`, `invalid_timestamp`, `missing_column`,
/// `invalid_header`, `malformed_quotes`, `unterminated_quote`, `record_too_long`, `too_few_events`.
public struct InteractionsFormat: RecordFormat {
    /// A record pairs or gathers lines of several files: the whole source is one work unit.
    public var unitsSpanFiles: Bool { true }

    /// How the third column becomes a reward in [0, 1].
    public enum RewardMapping: Sendable, Equatable {
        /// A rating r in [min, max] becomes (r − min) / (max − min).
        case rating(min: Double, max: Double)
        /// The value is already in [0, 1].
        case watchFraction
    }

    /// Where the user, item, rating and timestamp columns are, in that order.
    public enum Columns: Sendable, Equatable {
        /// Header names (`header: true`).
        case names([String])
        /// 0-based positions (`header: false`).
        case positions([Int])
    }

    /// Finds rows and fields (`delimiter`, `quoting`, `max_record_bytes`).
    public var scanner: CSVScanner
    /// Where the user, item, rating and timestamp are (`header`, `columns`).
    public var columns: Columns
    /// How a rating becomes a reward (`reward`, `rating_min`, `rating_max`).
    public var reward: RewardMapping
    /// Fewest events a user needs to make a record (`min_events`).
    public var minEvents: Int
    /// Most events kept per user, the most recent (`max_events`).
    public var maxEvents: Int
    /// Bytes of events held in memory before a sorted run is spilled to disk (`memory_budget`).
    public var memoryBudget: Int
    /// The folder spill folders are made in; `nil` is the system temporary folder (`TMPDIR`).
    public var spillDirectory: String?
    /// Most sorted runs merged at once (each holds an open file and a read buffer).
    public var mergeFanIn = 64

    static let roles = ["user", "item", "rating", "timestamp"]

    /// Reads the options of an `interactions` source (all optional).
    /// - Throws: ``RefineryError`` naming the spec line when an option is unusable.
    public init(options: SpecNode?) throws {
        let table = try options?.table(allowed: [
            "delimiter", "quoting", "header", "columns", "reward", "rating_min", "rating_max", "min_events",
            "max_events", "memory_budget", "max_record_bytes",
        ])
        scanner = try CSVScanner.fromOptions(table, defaultDelimiter: 0x09, allowMultiByte: true)
        let header = try table?.optional("header")?.bool() ?? true

        let columnsTable = try table?.optional("columns")?.table(allowed: Self.roles)
        if header {
            columns = .names(try Self.roles.map { try columnsTable?.optional($0)?.string() ?? $0 })
        } else {
            var positions: [Int] = []
            for (i, role) in Self.roles.enumerated() {
                guard let node = columnsTable?.optional(role) else {
                    positions.append(i)
                    continue
                }
                guard let position = Int(try node.string()), position >= 0, position < 10_000 else {
                    throw node.error("with header: false, columns are 0-based positions below 10000; found '\(try node.string())'")
                }
                if let taken = positions.firstIndex(of: position) {
                    throw node.error("position \(position) is already the \(Self.roles[taken]) column")
                }
                positions.append(position)
            }
            // A default position may collide with one given explicitly.
            if Set(positions).count < positions.count, let node = columnsTable?.owner {
                throw node.error("two columns share a position (\(positions.map(String.init).joined(separator: ", "))); give all four")
            }
            columns = .positions(positions)
        }

        let minimum = table?.optional("rating_min")
        let maximum = table?.optional("rating_max")
        let rewardNode = table?.optional("reward")
        switch try rewardNode?.string() ?? "rating" {
        case "rating":
            let low = try minimum?.double() ?? 1
            let high = try maximum?.double() ?? 5
            if high <= low, let node = maximum ?? minimum {
                throw node.error("rating_max (\(high)) must be greater than rating_min (\(low))")
            }
            reward = .rating(min: low, max: high)
        case "watch_fraction":
            if let node = minimum ?? maximum {
                throw node.error("rating_min and rating_max apply to reward: rating; a watch fraction is in [0, 1]")
            }
            reward = .watchFraction
        case let other:
            let message = "reward must be 'rating' or 'watch_fraction', found '\(other)'"
            throw rewardNode?.error(message) ?? RefineryError(.spec, message)
        }

        minEvents = try table?.optional("min_events")?.int() ?? 5
        maxEvents = try table?.optional("max_events")?.int() ?? 10_000
        if minEvents < 1, let node = table?.optional("min_events") { throw node.error("must be at least 1") }
        if maxEvents < minEvents, let node = table?.optional("max_events") ?? table?.optional("min_events") {
            throw node.error("max_events (\(maxEvents)) is below min_events (\(minEvents))")
        }
        memoryBudget = try table?.optional("memory_budget")?.byteSize() ?? 64 << 20
        if memoryBudget < 4096, let node = table?.optional("memory_budget") {
            throw node.error("must be at least 4KiB")
        }
    }

    // MARK: Split

    /// Reads one file on its own (a source of one file): rows, then one unit per user.
    public func split(_ stream: ByteStream, fileIndex: Int, into builder: BatchBuilder) throws -> LineSplitter.Counts {
        let sorter = makeSorter()
        defer { sorter.removeSpills() }
        let counts = try read(stream, fileIndex: fileIndex, sorter: sorter, into: builder)
        try emitHistories(sorter, into: builder)
        return counts
    }

    /// Reads every file of the source, quarantining bad rows as they come, then hands on one unit per user in
    /// user-id byte order.
    public func splitSource(_ files: [SourceFile], into builder: BatchBuilder) throws -> LineSplitter.Counts {
        let sorter = makeSorter()
        defer { sorter.removeSpills() }
        var total = LineSplitter.Counts()
        for file in files {
            total.add(try read(try file.open(), fileIndex: file.index, sorter: sorter, into: builder))
        }
        try emitHistories(sorter, into: builder)
        return total
    }

    func makeSorter() -> EventSorter {
        EventSorter(memoryBudget: memoryBudget, spillParent: spillDirectory ?? FileManager.default.temporaryDirectory.path,
                    fanIn: mergeFanIn)
    }

    private func emitHistories(_ sorter: EventSorter, into builder: BatchBuilder) throws {
        var collector = UserHistoryCollector(maxEvents: maxEvents)
        let emit = { (unit: [UInt8], fileIndex: Int, line: Int) throws in
            try builder.add(unit, fileIndex: fileIndex, line: line)
        }
        try sorter.merge { try collector.add($0, emit: emit) }
        try collector.finish(emit: emit)
    }

    /// Reads one file's rows into the sorter; unusable rows become rejected units.
    private func read(_ stream: ByteStream, fileIndex: Int, sorter: EventSorter, into builder: BatchBuilder) throws
        -> LineSplitter.Counts
    {
        var fields = CSVScanner.Fields()
        var positions: [Int] = []
        var headerCount: Int?
        var awaitingHeader = false
        switch columns {
        case .names: awaitingHeader = true
        case .positions(let given): positions = given
        }
        // Set when the header is unusable: every row of the file is quarantined with it.
        var headerFailure: DecodeFailure?
        let needed = (positions.max() ?? 0) + 1

        func reject(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Int, _ reason: String, _ detail: String) throws {
            try builder.add(bytes, fileIndex: fileIndex, line: line, problem: .rejected(DecodeFailure(reason: reason, detail: detail)))
        }

        return try scanner.records(in: stream) { bytes, line, problem in
            if let problem {
                if awaitingHeader {
                    awaitingHeader = false
                    headerFailure = DecodeFailure(reason: "invalid_header", detail: "the header at line \(line) is unusable, so this row's columns are unknown")
                }
                try builder.add(bytes, fileIndex: fileIndex, line: line, problem: problem)
                return
            }
            do throws(DecodeFailure) {
                try scanner.fields(of: bytes, into: &fields)
            } catch {
                if awaitingHeader {
                    awaitingHeader = false
                    headerFailure = DecodeFailure(reason: "invalid_header", detail: "the header at line \(line) is unusable (\(error.reason)), so this row's columns are unknown")
                }
                try builder.add(bytes, fileIndex: fileIndex, line: line, problem: .rejected(error))
                return
            }
            if awaitingHeader {
                awaitingHeader = false
                guard case .names(let names) = columns else { return }
                var missing: [String] = []
                for name in names {
                    let wanted = Array(name.utf8)
                    if let found = (0..<fields.count).first(where: { Self.trimmed(fields[$0]).elementsEqual(wanted) }) {
                        positions.append(found)
                    } else {
                        missing.append("'\(name)'")
                    }
                }
                headerCount = fields.count
                if !missing.isEmpty {
                    let header = (0..<fields.count).map { "'\(fields.string($0))'" }.joined(separator: ", ")
                    headerFailure = DecodeFailure(reason: "missing_column",
                                                  detail: "\(missing.count == 1 ? "column" : "columns") \(missing.joined(separator: ", ")) not in the header at line \(line); the header has \(header)")
                }
                return
            }
            if let headerFailure {
                try builder.add(bytes, fileIndex: fileIndex, line: line, problem: .rejected(headerFailure))
                return
            }
            if let headerCount, fields.count != headerCount {
                return try reject(bytes, line, "wrong_column_count", "found \(fields.count) fields, the header has \(headerCount)")
            }
            if headerCount == nil && fields.count < needed {
                return try reject(bytes, line, "wrong_column_count", "found \(fields.count) fields, the columns need at least \(needed)")
            }
            let user = Self.trimmed(fields[positions[0]])
            let item = Self.trimmed(fields[positions[1]])
            let rating = Self.trimmed(fields[positions[2]])
            let time = Self.trimmed(fields[positions[3]])
            let empty = zip(Self.roles, [user, item, rating, time]).filter { $0.1.isEmpty }.map(\.0)
            if !empty.isEmpty {
                return try reject(bytes, line, "missing_field", "empty \(empty.joined(separator: ", ")) (\(describe(empty)))")
            }
            let value = Double(String(decoding: rating, as: UTF8.self))
            guard let value, value.isFinite else {
                return try reject(bytes, line, "invalid_rating", "'\(String(decoding: rating, as: UTF8.self))' is not a number")
            }
            let mapped: Double
            switch reward {
            case .rating(let low, let high):
                guard value >= low && value <= high else {
                    return try reject(bytes, line, "invalid_rating", "rating \(value) is outside [\(low), \(high)] (rating_min, rating_max)")
                }
                mapped = (value - low) / (high - low)
            case .watchFraction:
                guard value >= 0 && value <= 1 else {
                    return try reject(bytes, line, "invalid_rating", "watch fraction \(value) is outside [0, 1]")
                }
                mapped = value
            }
            guard let timestamp = InteractionTimestamp.parse(time) else {
                return try reject(bytes, line, "invalid_timestamp",
                                  "'\(String(decoding: time, as: UTF8.self))' is not seconds since 1970 nor a UTC time YYYY-MM-DDTHH:MM:SS[Z]")
            }
            try sorter.add(user: user, item: item, timestamp: timestamp, reward: mapped, fileIndex: fileIndex, line: line)
        }
    }

    /// Where the named roles' columns are, for messages: `column 'user_id'` or `field 1`.
    private func describe(_ roles: [String]) -> String {
        roles.compactMap { role in
            guard let index = Self.roles.firstIndex(of: role) else { return nil }
            switch columns {
            case .names(let names): return "column '\(names[index])'"
            case .positions(let positions): return "field \(positions[index] + 1)"
            }
        }.joined(separator: ", ")
    }

    /// A field without leading and trailing spaces and tabs.
    static func trimmed(_ field: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = field
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    // MARK: Decode

    /// Turns one user's unit into a record, or a `too_few_events` reject.
    public func decodeUnit(_ bytes: UnsafeBufferPointer<UInt8>, context: UnitContext, into output: inout DecodedUnit) {
        let history: UserHistory
        do {
            history = try UserHistory(decoding: bytes)
        } catch {
            output.reject(error, context: context, raw: bytes)
            return
        }
        // A user id that is not UTF-8 would collide with others once repaired: it goes into the id as hex.
        let user = history.userBytes.map { bytes in "0x" + bytes.map { String(format: "%02x", $0) }.joined() } ?? history.user
        let id = "\(context.source)/\(context.relativePath):user=\(user)"
        let count = history.items.count
        guard count >= minEvents else {
            let failure = DecodeFailure(reason: "too_few_events", detail: "\(count) events, minimum \(minEvents) (min_events)")
            output.rejects.append(UnitReject(id: id, failure: failure, location: context.location, raw: history.readable))
            return
        }
        if history.total > count { output.note("history_truncated") }
        var record = context.makeRecord()
        record.id = id
        record.interactions = Interactions(items: history.items, rewards: history.rewards, timestamps: history.timestamps)
        record.meta = [("user", .string(history.user)), ("events", .number(String(count)))]
        record.utf8Repairs = history.repairs
        output.records.append(record)
    }
}
