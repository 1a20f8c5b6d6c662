import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards

extension Catalog {
    /// Checks that a version's folder is what its run wrote: `manifest.json` hashes to the recorded value and
    /// names the version, and every shard and reject file matches its manifest entry.
    /// - Parameter action: what is refused when the check fails (`promotion`), for the message.
    /// - Returns: the manifest.
    /// - Throws: ``RefineryError`` (code `integrity`) naming the file and the difference.
    public func verifiedManifest(_ record: VersionRecord, for action: String) throws -> Manifest {
        let location = SourceLocation(file: record.manifestPath)
        guard let data = FileManager.default.contents(atPath: record.manifestPath) else {
            throw RefineryError(.integrity, "\(record.label): manifest.json is missing or unreadable; the folder no longer holds this version",
                                at: location)
        }
        let hash = XXH3.hex(XXH3.hash([UInt8](data)))
        guard hash == record.manifestHash else {
            throw RefineryError(.integrity,
                "manifest.json was changed after the run wrote it (hash \(hash), catalog has \(record.manifestHash)); \(action) refused. "
                + "Rebuild the version with `refinery run --force`", at: location)
        }
        let manifest = try Manifest.read(directory: record.directory)
        guard manifest.dataset == record.dataset && manifest.version == record.version else {
            throw RefineryError(.integrity, "manifest.json describes \(manifest.dataset)@\(manifest.version), not \(record.label)", at: location)
        }
        let problems = try DatasetInspector().checkAll(manifest, in: record.directory).compactMap { entry, check in
            check.problems.isEmpty ? nil : "\(entry.file): \(check.problems.joined(separator: ", "))"
        }
        guard problems.isEmpty else {
            throw RefineryError(.integrity,
                "\(problems.count) shard(s) of \(record.label) do not match the manifest: \(problems.prefix(5).joined(separator: "; "))"
                + (problems.count > 5 ? "; …" : "") + ". `refinery inspect \(record.directory)` lists them all",
                at: SourceLocation(file: record.directory))
        }
        return manifest
    }
}
