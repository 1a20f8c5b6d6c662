import ArgumentParser
import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards

/// `refinery inspect PATH`: verify a dataset folder or one shard and show what it holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify every checksum of a dataset folder (or one shard) and print counts per split and category.",
        discussion: "The counts go to stdout only when every shard matches the manifest. Exit codes: 0 ok; 1 failure; "
            + "64 usage (no such file or folder, not a dataset); 65 a shard not matching its manifest, or a manifest that "
            + "cannot be read.")

    @Argument(help: "A dataset folder (holding manifest.json) or one .jsonl.zst shard.")
    var path: String

    @Option(name: .long, help: "Print the first N records as JSON lines to stdout (train shards first).")
    var head: Int?

    @Flag(name: .long, help: "List quarantined records by stage and reason, with an example of each.")
    var rejects = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let head, head < 0 { throw ValidationError("--head must be 0 or more, got \(head)") }
    }

    func run() throws {
        _ = global.makeLogger()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("no such file or folder: \(path)")
        }
        let inspector = DatasetInspector()
        if !isDirectory.boolValue {
            try inspectShard(inspector)
            return
        }
        // As `report` and `diff` do: a folder without a manifest is a usage error (64), and a manifest that cannot be
        // read or a shard not matching it is an integrity error (65).
        guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("manifest.json")) else {
            throw ValidationError("\(path) holds no manifest.json: not a dataset folder (or a run that did not finish)")
        }
        do {
            try inspectDataset(inspector)
        } catch {
            throw CatalogFailure.exit(error)
        }
    }

    private func inspectDataset(_ inspector: DatasetInspector) throws {
        let manifest = try Manifest.read(directory: path)
        if let head {
            try printHead(manifest.shards.map { (path as NSString).appendingPathComponent($0.file) }, count: head)
            return
        }
        if rejects {
            try listRejects(manifest, inspector)
            return
        }
        printError("dataset \(manifest.dataset) \(manifest.version) at \(path)")
        var failed = 0
        for (entry, check) in try inspector.checkAll(manifest, in: path) {
            let status = check.problems.isEmpty ? "ok" : "FAILED: " + check.problems.joined(separator: "; ")
            printError("  \(entry.file): \(check.records) records, xxh3 \(entry.xxh3) \(status)")
            if !check.problems.isEmpty { failed += 1 }
        }
        // The counts are the manifest's: printed as data only once the shards are shown to hold them.
        if failed > 0 {
            throw RefineryError(.integrity, "\(failed) shard(s) failed verification: the dataset does not match its manifest",
                                at: SourceLocation(file: path))
        }
        for (split, summary) in manifest.splits.sorted(by: { $0.key > $1.key }) {
            let categories = summary.categories.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("\(split): \(summary.records) records in \(summary.shards) shard(s)\(categories.isEmpty ? "" : ": " + categories)")
        }
        print("quarantined: \(manifest.totals.quarantined)")
        printError("all \(manifest.shards.count + manifest.rejects.count) shard(s) verified")
    }

    private func inspectShard(_ inspector: DatasetInspector) throws {
        if let head {
            try printHead([path], count: head)
            return
        }
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        // A data shard's manifest is beside it; a reject shard's is one folder up.
        let manifest = (try? Manifest.read(directory: folder))
            ?? (try? Manifest.read(directory: (folder as NSString).deletingLastPathComponent))
        let entry = manifest.flatMap { m in (m.shards + m.rejects).first { ($0.file as NSString).lastPathComponent == name } }
        let isReject = manifest?.rejects.contains { ($0.file as NSString).lastPathComponent == name } ?? false
        let check = try inspector.check(path: path, entry: entry, countField: isReject ? "reason" : "category")
        let categories = check.categories.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("\(name): \(check.records) records: \(categories)")
        if let entry, check.problems.isEmpty {
            printError("verified against the manifest: xxh3 \(entry.xxh3), \(entry.records) records")
        } else if entry == nil {
            printError("note: no manifest lists this shard, so its checksum was not verified")
        }
        if !check.problems.isEmpty {
            printError("error: " + check.problems.joined(separator: "; "))
            // Not matching its manifest entry is an integrity failure; without an entry, the file may not be a shard at all.
            throw ExitCode(entry == nil ? 1 : 65)
        }
    }

    private func printHead(_ shards: [String], count: Int) throws {
        var left = count
        let out = FileHandle.standardOutput
        for shard in shards where left > 0 {
            try DatasetInspector().forEachRecord(path: shard) { line in
                out.write(Data(UnsafeRawBufferPointer(line)))
                out.write(Data([0x0A]))
                left -= 1
                return left > 0
            }
        }
    }

    private func listRejects(_ manifest: Manifest, _ inspector: DatasetInspector) throws {
        var examples: [String: (count: Int, id: String, detail: String)] = [:]
        var order: [String] = []
        for entry in manifest.rejects {
            try inspector.forEachRecord(path: (path as NSString).appendingPathComponent(entry.file)) { line in
                let value = try JSONParser.parse(line).value
                let key = "\(value["stage"]?.stringValue ?? "?").\(value["reason"]?.stringValue ?? "?")"
                if let seen = examples[key] {
                    examples[key] = (seen.count + 1, seen.id, seen.detail)
                } else {
                    order.append(key)
                    examples[key] = (1, value["id"]?.stringValue ?? "?", value["detail"]?.stringValue ?? "")
                }
                return true
            }
        }
        for key in order.sorted() {
            let example = examples[key]!
            print("\(key)\t\(example.count)\te.g. \(example.id): \(example.detail)")
        }
        if order.isEmpty { print("no rejects") }
    }
}
