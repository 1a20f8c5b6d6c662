import Foundation
import RefineryCodecs
import RefineryRecords
import Yams

/// A pipeline spec: what to read, which stages to run with which parameters, and where to write.
///
/// Relative paths (globs, output dir, catalog) resolve against the folder holding the spec file, so a spec
/// means the same thing whatever directory cron starts `refinery` in.
public struct PipelineSpec: Sendable {
    /// The spec's `name`.
    public var name: String
    /// The spec file's path as given.
    public var file: String
    /// Absolute folder that relative paths resolve against.
    public var baseDirectory: String
    public var sources: [SourceSpec]
    public var stages: [StageSpec]
    public var output: OutputSpec
    public var engine: EngineSpec
    /// What a version must show before `refinery promote` makes it production; `nil` without a `gates` key.
    public var gates: GatesSpec?
    /// SQLite catalog path; default `catalog.sqlite` beside the output folder (beside ``OutputSpec/root``
    /// when the folder has a `{version}` component).
    public var catalogPath: String
    /// XXH3-64 of the spec's canonical YAML (comments and layout do not change it).
    public var configHash: UInt64
    /// The spec text as read, copied into the manifest.
    public var text: String

    /// Loads and checks a spec file.
    /// - Throws: ``RefineryError`` naming the file, line and key of the first problem.
    public static func load(path: String) throws -> PipelineSpec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RefineryError(.spec, "cannot read the spec file: \((error as NSError).localizedDescription)",
                                at: SourceLocation(file: path))
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL
        return try parse(yaml: text, file: path, baseDirectory: absolute.deletingLastPathComponent().path)
    }

    /// Parses spec text.
    /// - Parameters:
    ///   - file: the name used in error messages.
    ///   - baseDirectory: where relative paths resolve.
    public static func parse(yaml: String, file: String, baseDirectory: String) throws -> PipelineSpec {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw RefineryError(.spec, "the spec is empty; it needs name, sources, stages and output",
                                    at: SourceLocation(file: file))
            }
            root = node
        } catch let error as RefineryError {
            throw error
        } catch {
            throw RefineryError(.spec, "not valid YAML: \(error)", at: SourceLocation(file: file))
        }
        let canonical = (try? Yams.serialize(node: root)) ?? yaml
        let top = try SpecNode(node: root, path: "", file: file)
            .table(allowed: ["name", "sources", "stages", "output", "engine", "catalog", "gates"])

        let name = try top.require("name").string()
        let sourceNodes = try top.require("sources").list()
        if sourceNodes.isEmpty { throw try top.require("sources").error("needs at least one source") }
        var sources: [SourceSpec] = []
        for node in sourceNodes {
            let source = try SourceSpec(node: node, baseDirectory: baseDirectory)
            if sources.contains(where: { $0.name == source.name }) {
                throw node.error("source name '\(source.name)' is used twice; names must be unique")
            }
            sources.append(source)
        }
        let stages = try top.optional("stages").map { try $0.list().map(StageSpec.init(node:)) } ?? []
        let output = try OutputSpec(node: try top.require("output"), defaultDataset: name, baseDirectory: baseDirectory)
        let engine = try top.optional("engine").map(EngineSpec.init(node:)) ?? EngineSpec()
        let gates = try top.optional("gates").map { try GatesSpec(node: $0, stageNames: ["read"] + stages.map(\.name)) }
        let catalogPath = try top.optional("catalog").map { resolve(try $0.string(), against: baseDirectory) }
            ?? URL(fileURLWithPath: output.root).deletingLastPathComponent().appendingPathComponent("catalog.sqlite").path
        return PipelineSpec(
            name: name, file: file, baseDirectory: baseDirectory, sources: sources, stages: stages, output: output,
            engine: engine, gates: gates, catalogPath: catalogPath, configHash: XXH3.hash(canonical), text: yaml)
    }

    static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }
}

/// One input source: a reader kind over the files a glob matches.
public struct SourceSpec: Sendable {
    /// Unique name, used as the first part of record ids.
    public var name: String
    /// Reader kind, e.g. `jsonl`, `chat_jsonl`, `text`.
    public var kind: String
    /// Globs as written (relative to the spec's folder); `**` matches any number of folders.
    public var globs: [String]
    /// Category given to records that do not carry one.
    public var category: String?
    /// Language given to records that do not carry one.
    public var lang: String?
    /// Reader-specific options, checked by the reader.
    public var options: SpecNode?
    /// Whether a glob matching no files is allowed (otherwise it is an error).
    public var allowEmpty: Bool
    /// The `sources[i]` node, for errors found later.
    public var node: SpecNode

    init(node: SpecNode, baseDirectory: String) throws {
        let table = try node.table(allowed: ["name", "kind", "glob", "category", "lang", "options", "allow_empty"])
        name = try table.require("name").string()
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == "."
        }
        if name.isEmpty || !allowed {
            throw try table.require("name").error("'\(name)' must be letters, digits, '_', '-' or '.' (it starts every record id)")
        }
        kind = try table.require("kind").string()
        globs = try table.require("glob").stringList()
        category = try table.optional("category")?.string()
        lang = try table.optional("lang")?.string()
        options = table.optional("options")
        allowEmpty = try table.optional("allow_empty")?.bool() ?? false
        self.node = node
    }
}

/// One stage entry: `- validate: {min_chars: 20}`.
public struct StageSpec: Sendable {
    /// Stage name, looked up in the stage registry.
    public var name: String
    /// The parameters mapping (may be null for defaults).
    public var parameters: SpecNode
    /// The list entry, for errors.
    public var node: SpecNode

    init(node: SpecNode) throws {
        guard case .mapping(let mapping) = node.node, mapping.count == 1, let (key, value) = mapping.first,
              case .scalar(let scalar) = key
        else {
            throw node.error("each stage is a mapping with one key, the stage name, e.g. '- validate: {min_chars: 20}'")
        }
        name = scalar.string
        parameters = SpecNode(node: value, path: "\(node.path).\(scalar.string)", file: node.file)
        self.node = node
    }
}

/// Where and how the dataset is written.
public struct OutputSpec: Sendable {
    /// The path component that stands for the version label: `dir: ../out/nightly/{version}` writes each version
    /// to its own folder.
    public static let versionPlaceholder = "{version}"

    /// Absolute path of the dataset version folder, as written: it may hold one ``versionPlaceholder``
    /// component, which the engine replaces with the version label.
    public var directory: String
    /// The folder above the ``versionPlaceholder`` component (the whole ``directory`` when there is none): where
    /// the versions of the dataset live.
    public var root: String
    public var dataset: String
    /// Version label written to the manifest; `nil` means derived from the config hash and input fingerprints.
    public var version: String?
    /// Uncompressed bytes after which a shard is closed (at the next batch boundary).
    public var shardSize: Int
    public var zstdLevel: Int32
    /// Share of records, by id hash, that go to the validation split.
    public var validationFraction: Double
    /// At least this many records in validation (the train records with the smallest id hashes move over).
    public var validationMin: Int
    /// At least this many validation records of every category that has ten times as many records.
    public var validationPerCategory: Int
    /// Whether the split needs the run's counts (and so a spill).
    public var splitNeedsCounts: Bool { validationMin > 0 || validationPerCategory > 0 }

    init(node: SpecNode, defaultDataset: String, baseDirectory: String) throws {
        let table = try node.table(allowed: ["dir", "dataset", "version", "shard_size", "zstd_level", "validation_fraction",
                                             "validation_min", "validation_per_category"])
        let dir = try table.require("dir")
        if case .mapping = dir.node {
            throw dir.error("expected a path, found a mapping: a value starting with '{' is a YAML mapping, so quote it, e.g. dir: \"{version}\"")
        }
        (directory, root) = try Self.folders(dir, baseDirectory: baseDirectory)
        dataset = try table.optional("dataset")?.string() ?? defaultDataset
        version = try table.optional("version")?.string()
        shardSize = try table.optional("shard_size")?.byteSize() ?? 64 << 20
        if shardSize < 1 { throw try table.require("shard_size").error("must be at least 1 byte") }
        let level = try table.optional("zstd_level")?.int() ?? 3
        guard (1...19).contains(level) else { throw try table.require("zstd_level").error("must be 1 to 19, found \(level)") }
        zstdLevel = Int32(level)
        validationFraction = try table.optional("validation_fraction")?.double() ?? 0.05
        guard (0...1).contains(validationFraction) else {
            throw try table.require("validation_fraction").error("must be between 0 and 1, found \(validationFraction)")
        }
        validationMin = try table.optional("validation_min")?.int() ?? 0
        validationPerCategory = try table.optional("validation_per_category")?.int() ?? 0
        for (key, value) in [("validation_min", validationMin), ("validation_per_category", validationPerCategory)] where value < 0 {
            throw try table.require(key).error("must be at least 0, found \(value)")
        }
    }

    /// The resolved folder and its root, after checking that `{version}` is at most one whole path component.
    private static func folders(_ node: SpecNode, baseDirectory: String) throws -> (directory: String, root: String) {
        let written = try node.string()
        let placeholder = versionPlaceholder
        let components = written.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains(where: { $0 != placeholder && $0.contains(placeholder) }) {
            throw node.error("'\(placeholder)' must be a whole path component, as in ../out/nightly/\(placeholder), not part of one")
        }
        if components.filter({ $0 == placeholder }).count > 1 {
            throw node.error("'\(placeholder)' may appear once; found it \(components.filter { $0 == placeholder }.count) times")
        }
        let directory = PipelineSpec.resolve(written, against: baseDirectory)
        let resolved = directory.split(separator: "/", omittingEmptySubsequences: false)
        guard let index = resolved.firstIndex(where: { $0 == placeholder }) else {
            if components.contains(where: { $0 == placeholder }) {
                throw node.error("'..' after '\(placeholder)' leaves the version's folder; put '\(placeholder)' last")
            }
            return (directory, directory)
        }
        let root = resolved[..<index].joined(separator: "/")
        return (directory, root.isEmpty ? "/" : root)
    }
}

/// How the engine cuts the input into batches. Batches decide zstd frame boundaries, so these are part of
/// the spec (and of the output's identity), not of the machine.
public struct EngineSpec: Sendable {
    /// Most records in one batch.
    public var batchRecords: Int = 2048
    /// Most input bytes in one batch.
    public var batchBytes: Int = 4 << 20

    public init() {}

    init(node: SpecNode) throws {
        let table = try node.table(allowed: ["batch_records", "batch_bytes"])
        if let value = try table.optional("batch_records")?.int() {
            guard value >= 1 else { throw try table.require("batch_records").error("must be at least 1") }
            batchRecords = value
        }
        if let value = try table.optional("batch_bytes")?.byteSize() {
            guard value >= 1 else { throw try table.require("batch_bytes").error("must be at least 1") }
            batchBytes = value
        }
    }
}
