import Foundation
import RefineryCodecs
import RefineryRecords

/// The inputs' fingerprints as a submission planned them: per file (absolute path), its size, modification time and
/// XXH3. `--executor slurm` writes them beside the job scripts (`inputs-S.json`) and every task reads them
/// (`--input-hashes`), so that N tasks stat the inputs instead of each reading every input byte to fingerprint it
/// before its own share. A file whose size or modification time changed is read and hashed again, so its new content
/// gives another version label and `--expect-version` stops the task.
public struct InputHashes: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        public var size: Int
        /// Seconds since 1970, to the nanosecond, as `stat` gives it.
        public var modified: Double
        /// XXH3-64 of the bytes, 16 hex digits.
        public var xxh3: String
    }

    public static let currentFormat = "refinery-input-hashes/1"
    public var format = Self.currentFormat
    public var files: [String: File]

    /// The fingerprints of a plan's files.
    public init(plan: RunPlan) {
        var files: [String: File] = [:]
        for (file, print) in zip(plan.files, plan.fingerprints) {
            files[file.path] = File(size: file.size, modified: file.modified, xxh3: print.xxh3)
        }
        self.files = files
    }

    /// Reads a file `--executor slurm` wrote.
    /// - Throws: ``RefineryError`` (code `usage`) when it is missing or not an input-hashes file.
    public static func read(path: String) throws -> InputHashes {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RefineryError(.usage, "cannot read the input hashes file", at: SourceLocation(file: path))
        }
        guard let hashes = try? JSONDecoder().decode(InputHashes.self, from: data), hashes.format == currentFormat else {
            throw RefineryError(.usage, "not an input hashes file (\(currentFormat)) written by `refinery run --executor slurm`",
                                at: SourceLocation(file: path))
        }
        return hashes
    }

    /// Writes the file (sorted keys, so that the same plan gives the same bytes).
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RefineryError(.output, "cannot write the input hashes file: \(error.localizedDescription)", at: SourceLocation(file: path))
        }
    }
}
