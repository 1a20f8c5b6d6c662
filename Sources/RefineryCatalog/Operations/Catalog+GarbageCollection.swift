import Foundation
import RefineryRecords
import RefineryShards

extension Catalog {
    /// What `gc` removed (or, in a dry run, would remove).
    public struct GarbageCollection: Codable, Sendable {
        /// One retired version past the ones kept.
        public struct Removal: Codable, Sendable {
            public var version: VersionRecord
            /// Files deleted (or to delete), relative to the version's folder; empty when they were left alone.
            public var files: [String]
            /// Whether the folder was (or would be) empty afterwards and so removed.
            public var folderRemoved: Bool
            /// Why the files were left alone: the folder now holds another version, or none.
            public var note: String?

            enum CodingKeys: String, CodingKey {
                case version, files, folderRemoved = "folder_removed", note
            }
        }

        public var dataset: String
        /// Retired versions whose files stay, most recently retired first.
        public var kept: [VersionRecord]
        public var removed: [Removal]
        public var dryRun: Bool

        enum CodingKeys: String, CodingKey {
            case dataset, kept, removed, dryRun = "dry_run"
        }
    }

    /// The files of a dataset version folder besides its shards and rejects.
    static let versionFiles = ["stats.json", "README.md", "report.html"]

    /// Removes the files of old retired versions: of the retired versions whose files are present, the `keep`
    /// most recently retired stay; each older one loses its shards, rejects, manifest, `stats.json`,
    /// `README.md` and report, and its folder when that leaves it empty, and is marked `files_removed_at`.
    /// Files are deleted only while the folder's `manifest.json` still names that version (a fixed output
    /// folder may hold a later one; then the version is only marked). Production and candidate versions are
    /// never touched.
    /// - Parameter dryRun: list what would go; change nothing.
    /// - Throws: ``RefineryError`` with code `output` naming a file that could not be removed.
    public func gc(dataset: String, keep: Int, dryRun: Bool = false) throws -> GarbageCollection {
        let retired = try database.query("""
            SELECT \(VersionRecord.columns) FROM dataset_versions v
            WHERE dataset = ? AND status = 'retired' AND files_removed_at IS NULL
            ORDER BY (SELECT MAX(h.id) FROM status_history h
                      WHERE h.dataset = v.dataset AND h.version = v.version AND h.to_status = 'retired') DESC, id DESC
            """, [.text(dataset)], row: VersionRecord.init(row:))
        var collection = GarbageCollection(dataset: dataset, kept: Array(retired.prefix(max(0, keep))), removed: [], dryRun: dryRun)
        for record in retired.dropFirst(max(0, keep)) {
            var removal = GarbageCollection.Removal(version: record, files: [], folderRemoved: false)
            let folder = record.directory
            let present = try? Manifest.read(directory: folder)
            if let present, present.dataset == record.dataset, present.version == record.version {
                removal.files = Self.filesOfVersion(present, in: folder)
                if dryRun {
                    removal.folderRemoved = Self.leftovers(in: folder, besides: Set(removal.files)).isEmpty
                } else {
                    try Self.remove(removal.files, in: folder)
                    removal.folderRemoved = Self.removeIfEmpty(folder)
                }
            } else {
                removal.note = present.map { "the folder now holds \($0.dataset)@\($0.version); its files were left alone" }
                    ?? "the folder holds no dataset any more; nothing to delete"
            }
            if !dryRun {
                try markFilesRemoved(dataset: record.dataset, version: record.version)
                removal.version = try version(dataset: record.dataset, version: record.version) ?? record
            }
            collection.removed.append(removal)
        }
        return collection
    }

    /// The version's files present in its folder, `manifest.json` first (so a folder cut off mid-way is no
    /// longer taken for a dataset). Names that would leave the folder are skipped.
    private static func filesOfVersion(_ manifest: Manifest, in folder: String) -> [String] {
        let names = ["manifest.json"] + (manifest.shards + manifest.rejects).map(\.file) + versionFiles
        return names.filter { name in
            !name.hasPrefix("/") && !name.split(separator: "/").contains("..")
                && FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(name))
        }
    }

    private static func remove(_ files: [String], in folder: String) throws {
        for file in files {
            let path = (folder as NSString).appendingPathComponent(file)
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                throw RefineryError(.output, "cannot remove \(file): \((error as NSError).localizedDescription); "
                    + "the version's manifest is gone, so `refinery gc` marks it removed on its next run", at: SourceLocation(file: path))
            }
        }
    }

    /// Files under `folder` other than `files` (relative paths).
    private static func leftovers(in folder: String, besides files: Set<String>) -> [String] {
        let all = (try? FileManager.default.subpathsOfDirectory(atPath: folder)) ?? []
        return all.filter { path in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(path), isDirectory: &isDirectory) else {
                return false
            }
            return !isDirectory.boolValue && !files.contains(path)
        }
    }

    /// Removes `folder` and its empty subfolders when no file is left in them.
    /// - Returns: whether the folder is gone.
    private static func removeIfEmpty(_ folder: String) -> Bool {
        guard leftovers(in: folder, besides: []).isEmpty else { return false }
        return (try? FileManager.default.removeItem(atPath: folder)) != nil
    }
}
