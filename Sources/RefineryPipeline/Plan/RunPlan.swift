import Foundation
import RefineryCodecs
import RefineryReaders
import RefineryRecords
import RefineryShards
import RefinerySpec
import RefineryStages
#if canImport(Glibc)
import Glibc
#endif

/// Everything a run needs, checked before any output is touched: the spec, the readers and stages it names,
/// every input file (listed, opened, fingerprinted) and the dataset version that will be written.
public struct RunPlan: Sendable {
    public var spec: PipelineSpec
    /// One format per source, in spec order.
    public var formats: [any RecordFormat]
    /// The per-record stages (1–5), in spec order.
    public var stages: [any Stage]
    /// Stage 6, when the spec names it: runs over the whole run after the per-record stages.
    public var dedup: DedupStage?
    /// Stage 7, when the spec names it: after dedup, over the survivors' category counts.
    public var balance: BalanceStage?
    /// Whether the run spills its survivors for global stages before writing shards.
    public var hasGlobalStages: Bool { dedup != nil || balance != nil || spec.output.splitNeedsCounts }
    /// Every input file, in reading order (sources in spec order, files sorted by path).
    public var files: [InputFile]
    /// Fingerprints of `files`, same order.
    public var fingerprints: [InputFingerprint]
    /// The version label: the spec's, or `v-` + XXH3 of the Refinery release, the config hash and every input
    /// fingerprint.
    public var version: String
    /// Inputs left out because a published version of the dataset already holds them (incremental runs), with
    /// that version.
    public var skipped: [(input: InputFingerprint, version: String)] = []

    /// The dataset folder: `output.dir` with `{version}` replaced by the version label.
    public var directory: String { spec.output.directory.replacingOccurrences(of: "{version}", with: version) }

    /// Builds the plan for a spec.
    /// - Parameter known: input hashes recorded earlier (a submission's, ``InputHashes``): a file whose size and
    ///   modification time are the recorded ones is not read again to fingerprint it.
    /// - Throws: ``RefineryError`` naming the spec line or file of the first problem: unknown reader or stage,
    ///   bad parameter, a glob matching nothing, an unreadable file.
    public static func make(spec: PipelineSpec, known: InputHashes? = nil) throws -> RunPlan {
        let formats = try spec.sources.map { try ReaderRegistry.format(for: $0) }
        // Global stages come after every per-record stage: they see what the others kept.
        var perRecord: [StageSpec] = []
        var dedup: DedupStage?
        var balance: BalanceStage?
        for stageSpec in spec.stages {
            switch stageSpec.name {
            case "dedup":
                guard dedup == nil else { throw stageSpec.node.error("stage 'dedup' appears twice") }
                guard balance == nil else { throw stageSpec.node.error("'dedup' comes after 'balance'; balance the survivors of dedup: list dedup first") }
                dedup = try DedupStage(parameters: stageSpec.parameters)
            case "balance":
                guard balance == nil else { throw stageSpec.node.error("stage 'balance' appears twice") }
                balance = try BalanceStage(parameters: stageSpec.parameters)
            default:
                if let global = balance?.name ?? dedup?.name {
                    throw stageSpec.node.error("stage '\(stageSpec.name)' comes after '\(global)'; \(global) runs over the whole run once "
                        + "the per-record stages are done, so list it after them")
                }
                perRecord.append(stageSpec)
            }
        }
        let stages = try StageRegistry.build(perRecord)
        // Every input file, in reading order, then their fingerprints: hashing reads each file whole, so the files are
        // hashed on every core.
        var matched: [(sourceIndex: Int, path: String, relativePath: String)] = []
        var seen: Set<String> = []
        let outputFiles = OutputFiles(spec: spec)
        for (sourceIndex, source) in spec.sources.enumerated() {
            var matchedAny = false
            // Ids are source/relative-path:line, so two files of one source must not share a relative path.
            var relativePaths: [String: String] = [:]
            for glob in source.globs {
                let pattern = glob.hasPrefix("/") ? glob : (spec.baseDirectory as NSString).appendingPathComponent(glob)
                let matches = Glob.expand(URL(fileURLWithPath: pattern).standardizedFileURL.path)
                if !matches.isEmpty { matchedAny = true }
                for match in matches where seen.insert(match.path).inserted {
                    if let compression = Self.unreadableCompression(match.path) {
                        throw source.node.error("glob '\(glob)' matches \(match.path), a \(compression) file: Refinery reads plain text and "
                            + "zstd (.zst) only, and would quarantine every line of it as garbage. Decompress it, or recompress it with "
                            + "zstd (e.g. `zstd --rm FILE` after decompressing), or narrow the glob")
                    }
                    if let what = outputFiles.owner(of: match.path) {
                        throw source.node.error("glob '\(glob)' matches \(match.path), in \(what): the run would read what Refinery wrote "
                            + "back in as input (each night the last nights' shards again). Narrow the glob, or move output.dir and the "
                            + "catalog out of the inputs' folder")
                    }
                    if let other = relativePaths.updateValue(match.path, forKey: match.relativePath) {
                        throw source.node.error("\(other) and \(match.path) would both give ids '\(source.name)/\(match.relativePath):N'; "
                            + "split them into two sources, or use one glob over their common folder (e.g. 'in/**/*.jsonl')")
                    }
                    matched.append((sourceIndex, match.path, match.relativePath))
                }
            }
            if !matchedAny && !source.allowEmpty {
                throw source.node.error("glob \(source.globs.map { "'\($0)'" }.joined(separator: ", ")) matched no files "
                    + "(relative to \(spec.baseDirectory)); fix the path or set allow_empty: true")
            }
        }
        var files: [InputFile] = []
        var fingerprints: [InputFingerprint] = []
        for (file, (size, modified, hash)) in zip(matched, try Self.fingerprints(matched.map(\.path), known: known)) {
            files.append(InputFile(sourceIndex: file.sourceIndex, path: file.path, relativePath: file.relativePath,
                                   size: size, modified: modified))
            fingerprints.append(InputFingerprint(source: spec.sources[file.sourceIndex].name, path: relative(file.path, to: spec.baseDirectory),
                                                 bytes: size, xxh3: XXH3.hex(hash)))
        }
        return RunPlan(spec: spec, formats: formats, stages: stages, dedup: dedup, balance: balance, files: files,
                       fingerprints: fingerprints, version: versionLabel(spec: spec, fingerprints: fingerprints))
    }

    /// The spec's pinned label, or `v-` + XXH3 of the manifest format, the Refinery release, the config hash and
    /// the inputs' paths and content hashes.
    static func versionLabel(spec: PipelineSpec, fingerprints: [InputFingerprint]) -> String {
        var identity = JSONWriter()
        identity.string(Manifest.currentFormat)
        identity.string(Manifest.refineryVersion)
        identity.string(XXH3.hex(spec.configHash))
        for print in fingerprints {
            identity.string(print.path)
            identity.string(print.xxh3)
        }
        return spec.output.version ?? "v-" + XXH3.hex(XXH3.hash(identity.bytes))
    }

    /// The plan without the inputs a published version already holds, and with the version label of what is left.
    /// A source whose records span files (``RecordFormat/unitsSpanFiles``) is skipped whole or read whole: half a
    /// subtitle pair or half of each user's history would make wrong records.
    /// - Parameter published: `key(source, xxh3)` → the version holding that input.
    public func skipping(published: [String: String], key: (String, String) -> String) -> RunPlan {
        var plan = self
        plan.files = []
        plan.fingerprints = []
        let versions = fingerprints.map { published[key($0.source, $0.xxh3)] }
        for (sourceIndex, format) in formats.enumerated() {
            let own = files.indices.filter { files[$0].sourceIndex == sourceIndex }
            let wholeSource = format.unitsSpanFiles && own.contains { versions[$0] == nil }
            for index in own {
                if let version = versions[index], !wholeSource {
                    plan.skipped.append((fingerprints[index], version))
                } else {
                    plan.files.append(files[index])
                    plan.fingerprints.append(fingerprints[index])
                }
            }
        }
        plan.version = Self.versionLabel(spec: spec, fingerprints: plan.fingerprints)
        return plan
    }

    /// ``fingerprint(_:known:)`` of every path, in order, computed on every core.
    /// - Throws: the error of the first path, in order, that has one.
    static func fingerprints(_ paths: [String], known: InputHashes?) throws -> [(Int, Double, UInt64)] {
        let results = ConcurrentResults<(Int, Double, UInt64)>(count: paths.count)
        results.run(threads: ProcessInfo.processInfo.activeProcessorCount) { try fingerprint(paths[$0], known: known) }
        return try results.all().map { try $0.get() }
    }

    /// Size, mtime and XXH3 of a file's bytes; the XXH3 `known` recorded when the size and mtime are the recorded
    /// ones (the rule by which a run already trusts that a file did not change while it was read).
    static func fingerprint(_ path: String, known: InputHashes? = nil) throws -> (Int, Double, UInt64) {
        guard let stamp = stamp(path) else {
            throw RefineryError(.input, "cannot stat: \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
        }
        if let recorded = known?.files[path], recorded.size == stamp.size, recorded.modified == stamp.modified,
           let hash = UInt64(recorded.xxh3, radix: 16) {
            return (stamp.size, stamp.modified, hash)
        }
        return (stamp.size, stamp.modified, try contentHash(path))
    }

    /// A file's size and modification time (seconds since 1970, to the nanosecond); `nil` when it cannot be stat'ed.
    static func stamp(_ path: String) -> (size: Int, modified: Double)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (Int(info.st_size), Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
    }

    /// XXH3-64 of a file's bytes as they are on disk, read in pieces.
    static func contentHash(_ path: String) throws -> UInt64 {
        let stream = try ByteStream(path: path, zstd: false)
        let hasher = try XXH3Hasher()
        var chunk: [UInt8] = []
        while try stream.next(into: &chunk) {
            hasher.update(chunk)
            chunk.removeAll(keepingCapacity: true)
        }
        return hasher.digest
    }

    static func relative(_ path: String, to base: String) -> String {
        let prefix = base.hasSuffix("/") ? base : base + "/"
        if path.hasPrefix(prefix) { return String(path.dropFirst(prefix.count)) }
        // Outside the spec's folder: climb with ../ as needed.
        let pathParts = path.split(separator: "/")
        let baseParts = base.split(separator: "/")
        var common = 0
        while common < min(pathParts.count, baseParts.count) && pathParts[common] == baseParts[common] { common += 1 }
        let ups = Array(repeating: "..", count: baseParts.count - common)
        return (ups + pathParts[common...].map(String.init)).joined(separator: "/")
    }

    /// Every stage's name in run order, `read` first: the counters and reject series of a run.
    public var stageNames: [String] {
        ["read"] + stages.map(\.name) + (dedup.map { [$0.name] } ?? []) + (balance.map { [$0.name] } ?? [])
    }

    /// A human-readable description of the plan, for `--dry-run`.
    public var description: String {
        var lines: [String] = []
        lines.append("pipeline \(spec.name) (\(spec.file)), config \(XXH3.hex(spec.configHash))")
        for (index, source) in spec.sources.enumerated() {
            let own = files.filter { $0.sourceIndex == index }
            let bytes = own.reduce(0) { $0 + $1.size }
            lines.append("  source \(source.name): kind \(source.kind), \(own.count) file(s), \(bytes) bytes, category \(source.category ?? "-")")
            for file in own.prefix(5) { lines.append("    \(file.relativePath)") }
            if own.count > 5 { lines.append("    … and \(own.count - 5) more") }
        }
        lines.append("  stages: read -> \((stageNames.dropFirst() + ["split", "shard"]).joined(separator: " -> "))")
        let output = spec.output
        lines.append("  output: \(directory) (dataset \(output.dataset), version \(version))")
        lines.append("    shards of \(output.shardSize) bytes uncompressed, zstd level \(output.zstdLevel), validation \(output.validationFraction)")
        lines.append("    batches of \(spec.engine.batchRecords) records / \(spec.engine.batchBytes) bytes")
        return lines.joined(separator: "\n")
    }
}

extension RunPlan {
    /// The compression a path's extension names that the readers cannot undo (`gzip` for `.gz`, …), or `nil`.
    public static func unreadableCompression(_ path: String) -> String? {
        let lowered = path.lowercased()
        for (suffix, name) in [(".gz", "gzip"), (".tgz", "gzip"), (".bz2", "bzip2"), (".xz", "xz"), (".lz4", "lz4"), (".zip", "zip"),
                               (".7z", "7-Zip"), (".br", "Brotli")] where lowered.hasSuffix(suffix) {
            return name
        }
        return nil
    }
}

/// What Refinery writes beside a spec's inputs, which no source may read: the dataset versions' folder (their shards,
/// rejects and committed work), the catalog and its journal files, and the dedup index of published versions.
struct OutputFiles {
    let root: String
    let catalog: String
    let dedupIndex: String

    init(spec: PipelineSpec) {
        root = URL(fileURLWithPath: spec.output.root).standardizedFileURL.path
        catalog = URL(fileURLWithPath: spec.catalogPath).standardizedFileURL.path
        dedupIndex = URL(fileURLWithPath: spec.dedupIndexFolder).standardizedFileURL.path
    }

    /// What of Refinery's output `path` (absolute, standardised) is part of, or `nil` when it is none of it.
    func owner(of path: String) -> String? {
        if root != "/", path == root || path.hasPrefix(root + "/") { return "output.dir's folder \(root)" }
        if path == catalog || path == catalog + "-wal" || path == catalog + "-shm" || path == catalog + "-journal" { return "the catalog" }
        if path.hasPrefix(dedupIndex + "/") { return "the dedup index \(dedupIndex)" }
        return nil
    }
}
