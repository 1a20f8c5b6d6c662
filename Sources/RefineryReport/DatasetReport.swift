import Foundation
import RefineryRecords
import RefineryShards

/// The dataset report: `report.html` for people and the same numbers in `stats.json` (under `report`) for machines.
public enum DatasetReport {
    /// The report page's file name in a dataset folder.
    public static let fileName = "report.html"

    /// Reads a dataset folder once, streaming, verifying every shard against the manifest.
    /// - Parameters:
    ///   - directory: a folder holding `manifest.json` and its shards.
    ///   - examplesPerReason: rejects shown per stage and reason (and duplicate pairs shown), in file order.
    ///   - threads: threads reading the data shards, one shard each at a time (default: every core); the report is
    ///     the same whatever the number.
    /// - Returns: the report's data.
    /// - Throws: ``RefineryError`` with code `integrity` when the folder has no readable manifest or a shard does
    ///   not match it.
    /// - Complexity: one pass over every shard; memory of a batch of shards (about 64 MiB decompressed per thread)
    ///   plus the report and the duplicate clusters.
    public static func build(directory: String, examplesPerReason: Int = KeptTally.defaultLimit,
                             threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> ReportData {
        try build(directory: directory, examplesPerReason: examplesPerReason, threads: threads, smallestPiece: DatasetRecords.smallestPiece)
    }

    /// ``build(directory:examplesPerReason:threads:)`` cutting shards into pieces of at least `smallestPiece` bytes
    /// (tests use small ones to have small shards read in several pieces).
    static func build(directory: String, examplesPerReason: Int, threads: Int, smallestPiece: Int,
                      tallies: ReportTallies? = nil) throws -> ReportData {
        try ReportBuilder(directory: directory, examplesPerReason: examplesPerReason, threads: threads, smallestPiece: smallestPiece)
            .build(tallies: tallies)
    }

    /// The report's self-contained HTML page.
    public static func html(_ report: ReportData) -> String { ReportPage.render(report) }

    /// The report's numbers as pretty JSON with sorted keys: the same dataset gives the same bytes.
    public static func json(_ numbers: ReportNumbers) throws -> Data {
        var data = try encoder().encode(numbers)
        data.append(0x0A)
        return data
    }

    /// Decodes numbers written by ``json(_:)`` (or `stats.json`'s `report`).
    public static func numbers(from data: Data) throws -> ReportNumbers {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ReportNumbers.self, from: data)
    }

    /// Builds the report of a dataset folder, writes `report.html` into it and merges the numbers into its
    /// `stats.json` under the key `report` (every other key is kept as it is; the file is created when missing).
    /// Both files are written under a temporary name and renamed.
    /// - Parameters:
    ///   - directory: the dataset folder.
    ///   - examplesPerReason: rejects shown per stage and reason.
    ///   - threads: threads reading the data shards (see ``build(directory:examplesPerReason:threads:)``).
    ///   - tallies: what the run that wrote the folder tallied of its data shards: then only the reject shards are read
    ///     (the report is the same).
    /// - Returns: where the files went, and the report.
    /// - Throws: ``RefineryError``: code `integrity` when a shard does not match the manifest, `output` when a
    ///   file cannot be written or `stats.json` is not a JSON object.
    @discardableResult
    public static func write(directory: String, examplesPerReason: Int = KeptTally.defaultLimit,
                             threads: Int = ProcessInfo.processInfo.activeProcessorCount, tallies: ReportTallies? = nil) throws -> ReportSummary {
        let report = try build(directory: directory, examplesPerReason: examplesPerReason, threads: threads,
                               smallestPiece: DatasetRecords.smallestPiece, tallies: tallies)
        let htmlPath = (directory as NSString).appendingPathComponent(fileName)
        try writeAtomically(Data(html(report).utf8), to: htmlPath)
        let statsPath = (directory as NSString).appendingPathComponent("stats.json")
        try mergeIntoStats(report.numbers, path: statsPath)
        return ReportSummary(htmlPath: htmlPath, statsPath: statsPath, report: report)
    }

    /// Writes only the page, to any path (`refinery report --out`), leaving the dataset folder alone.
    /// - Throws: ``RefineryError`` (code `output`) when the file cannot be written.
    public static func writeHTML(_ report: ReportData, to path: String) throws {
        try writeAtomically(Data(html(report).utf8), to: path)
    }

    private static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    /// Sets `report` in `stats.json`, keeping its other keys, written the way the run writes the file.
    private static func mergeIntoStats(_ numbers: ReportNumbers, path: String) throws {
        var stats: [String: Any] = [:]
        if let existing = FileManager.default.contents(atPath: path) {
            guard let object = try? JSONSerialization.jsonObject(with: existing) as? [String: Any] else {
                throw RefineryError(.output, "stats.json is not a JSON object; remove it or rerun the pipeline", at: SourceLocation(file: path))
            }
            stats = object
        }
        stats["report"] = try JSONSerialization.jsonObject(with: try encoder().encode(numbers))
        let data = try JSONSerialization.data(withJSONObject: stats, options: [.prettyPrinted, .sortedKeys])
        try writeAtomically(data + [0x0A], to: path)
    }

    /// Writes a file under a temporary name and renames it into place.
    private static func writeAtomically(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RefineryError(.output, "could not write the report: \(error.localizedDescription)", at: SourceLocation(file: path), cause: error)
        }
    }
}

/// What ``DatasetReport/write(directory:examplesPerReason:threads:)`` wrote.
public struct ReportSummary: Sendable {
    /// `report.html` in the dataset folder.
    public var htmlPath: String
    /// `stats.json`, now holding `report`.
    public var statsPath: String
    public var report: ReportData
}
