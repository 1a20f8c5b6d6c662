import Foundation
import RefineryRecords
import RefinerySpec
import Testing

@Suite struct SpecTests {
    static let base = "/data/project"

    static let minimal = """
        name: demo
        sources:
          - name: chats
            kind: chat_jsonl
            glob: in/*.jsonl
        output:
          dir: out/demo
        """

    static func parse(_ yaml: String, base: String = base) throws -> PipelineSpec {
        try PipelineSpec.parse(yaml: yaml, file: "t.yaml", baseDirectory: base)
    }

    /// The spec error `yaml` raises; records an issue when it parses or throws something else.
    static func specError(_ yaml: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> RefineryError? {
        let error = #expect(throws: RefineryError.self, sourceLocation: sourceLocation) { try parse(yaml) }
        #expect(error?.code == .spec, sourceLocation: sourceLocation)
        return error
    }

    /// The minimal spec with `output` holding `line` besides `dir`.
    static func withOutput(_ line: String) -> String { minimal + "\n  " + line }

    @Test("a minimal spec parses, with the documented defaults")
    func minimalSpec() throws {
        let spec = try Self.parse(Self.minimal)
        #expect(spec.name == "demo")
        #expect(spec.file == "t.yaml")
        #expect(spec.baseDirectory == Self.base)
        #expect(spec.sources.count == 1)
        let source = try #require(spec.sources.first)
        #expect(source.name == "chats")
        #expect(source.kind == "chat_jsonl")
        #expect(source.globs == ["in/*.jsonl"])
        #expect(source.category == nil && source.lang == nil && source.options == nil)
        #expect(source.allowEmpty == false)
        #expect(spec.stages.isEmpty)
        #expect(spec.output.directory == "/data/project/out/demo")
        #expect(spec.output.dataset == "demo")
        #expect(spec.output.version == nil)
        #expect(spec.output.shardSize == 64 << 20)
        #expect(spec.output.zstdLevel == 3)
        #expect(abs(spec.output.validationFraction - 0.05) < 1e-12)
        #expect(spec.engine.batchRecords == 2048)
        #expect(spec.engine.batchBytes == 4 << 20)
        #expect(spec.catalogPath == "/data/project/out/catalog.sqlite")
    }

    @Test("every section and option is read")
    func fullSpec() throws {
        let spec = try Self.parse("""
            name: full
            sources:
              - name: docs.v2
                kind: text
                glob: [a/*.md, "b/**/*.txt"]
                category: books
                lang: de
                allow_empty: yes
                options: {split: paragraph}
            stages:
              - validate: {min_chars: 20}
              - validate:
            output:
              dir: /abs/out
              dataset: ds
              version: v7
              shard_size: 1MiB
              zstd_level: 19
              validation_fraction: 0
            engine:
              batch_records: 1_000
              batch_bytes: 512KiB
            catalog: db/catalog.sqlite
            """)
        let source = try #require(spec.sources.first)
        #expect(source.name == "docs.v2")
        #expect(source.globs == ["a/*.md", "b/**/*.txt"])
        #expect(source.category == "books" && source.lang == "de")
        #expect(source.allowEmpty)
        #expect(source.options != nil)
        #expect(spec.stages.map(\.name) == ["validate", "validate"])
        #expect(spec.stages[1].parameters.isNull)
        #expect(spec.output.directory == "/abs/out")
        #expect(spec.output.dataset == "ds" && spec.output.version == "v7")
        #expect(spec.output.shardSize == 1 << 20)
        #expect(spec.output.zstdLevel == 19)
        #expect(spec.output.validationFraction == 0)
        #expect(spec.engine.batchRecords == 1000)
        #expect(spec.engine.batchBytes == 512 << 10)
        #expect(spec.catalogPath == "/data/project/db/catalog.sqlite")
    }

    @Test("the bundled demo spec loads, found from #filePath")
    func demoSpec() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("pipelines/demo.yaml").path
        let spec = try PipelineSpec.load(path: path)
        #expect(spec.name == "demo")
        #expect(spec.sources.map(\.kind).prefix(3) == ["chat_jsonl", "jsonl", "text"])
        #expect(spec.stages.map(\.name).first == "validate")
        #expect(spec.output.shardSize == 16 << 10)
        #expect(spec.output.directory == root.appendingPathComponent("out/demo").standardizedFileURL.path)
        #expect(spec.baseDirectory == root.appendingPathComponent("pipelines").standardizedFileURL.path)
    }

    @Test("an unknown key names the key, its line, and the closest allowed key", arguments: [
        ("name: demo\nstagse: []\n" + minimal.split(separator: "\n").dropFirst().joined(separator: "\n"), "stagse", "stages", 2),
        (withOutput("shard_szie: 1MiB"), "shard_szie", "shard_size", 8),
        (minimal.replacingOccurrences(of: "    glob:", with: "    globs:"), "globs", "glob", 5),
        (minimal.replacingOccurrences(of: "    kind: chat_jsonl", with: "    kind: chat_jsonl\n    categroy: x"), "categroy", "category", 5),
        (minimal + "\nengine:\n  batch_record: 5", "batch_record", "batch_records", 9),
        (minimal + "\noutptu: x", "outptu", "output", 8),
    ])
    func unknownKey(yaml: String, key: String, suggestion: String, line: Int) throws {
        let error = try #require(Self.specError(yaml))
        #expect(error.message.contains("unknown key '\(key)'"))
        #expect(error.message.contains("did you mean '\(suggestion)'?"))
        #expect(error.location?.file == "t.yaml")
        #expect(error.location?.line == line)
        #expect(error.description.hasPrefix("t.yaml:\(line):"))
    }

    @Test("an unknown key with no close match gets no suggestion but the list of allowed keys")
    func unknownKeyNoGuess() throws {
        let error = try #require(Self.specError(Self.minimal + "\ncolour: red"))
        #expect(error.message.contains("unknown key 'colour'"))
        #expect(!error.message.contains("did you mean"))
        #expect(error.message.contains("allowed here: name, sources, stages, output, engine, catalog, gates"))
        #expect(error.location?.line == 8)
    }

    @Test("a value of the wrong type names its path and what was found", arguments: [
        (withOutput("shard_size: lots"), "output.shard_size", "'lots'", 8),
        (withOutput("zstd_level: high"), "output.zstd_level", "expected an integer, found 'high'", 8),
        (withOutput("validation_fraction: much"), "output.validation_fraction", "expected a number", 8),
        (minimal.replacingOccurrences(of: "    kind: chat_jsonl", with: "    kind: chat_jsonl\n    allow_empty: maybe"),
         "sources[0].allow_empty", "expected true or false", 5),
        ("name: [a, b]\n" + minimal.split(separator: "\n").dropFirst().joined(separator: "\n"), "name", "expected a string, found a list", 1),
        ("name: d\nsources: {name: x}\noutput: {dir: o}", "sources", "expected a list, found a mapping", 2),
        ("name: d\nsources: [{name: x, kind: jsonl, glob: g}]\noutput: o", "output", "expected a mapping", 3),
        (minimal + "\nstages: [validate]", "stages[0]", "each stage is a mapping with one key", 8),
        (minimal + "\nengine: {batch_records: many}", "engine.batch_records", "expected an integer", 8),
    ])
    func wrongType(yaml: String, path: String, fragment: String, line: Int) throws {
        let error = try #require(Self.specError(yaml))
        #expect(error.message.hasPrefix("\(path): "), "message: \(error.message)")
        #expect(error.message.contains(fragment), "message: \(error.message)")
        #expect(error.location?.line == line)
    }

    @Test("a missing required key is named", arguments: [
        ("sources: [{name: x, kind: jsonl, glob: g}]\noutput: {dir: o}", "spec: missing required key 'name'"),
        ("name: d\noutput: {dir: o}", "spec: missing required key 'sources'"),
        ("name: d\nsources: [{name: x, kind: jsonl, glob: g}]", "spec: missing required key 'output'"),
        ("name: d\nsources: [{name: x, glob: g}]\noutput: {dir: o}", "sources[0]: missing required key 'kind'"),
        ("name: d\nsources: [{kind: jsonl, glob: g}]\noutput: {dir: o}", "sources[0]: missing required key 'name'"),
        ("name: d\nsources: [{name: x, kind: jsonl}]\noutput: {dir: o}", "sources[0]: missing required key 'glob'"),
        ("name: d\nsources: [{name: x, kind: jsonl, glob: g}]\noutput: {dataset: o}", "output: missing required key 'dir'"),
        ("name: ~\nsources: [{name: x, kind: jsonl, glob: g}]\noutput: {dir: o}", "spec: missing required key 'name'"),
        ("name: d\nsources: []\noutput: {dir: o}", "sources: needs at least one source"),
        ("", "the spec is empty"),
        ("# nothing but a comment\n", "the spec is empty"),
    ])
    func missingKey(yaml: String, message: String) throws {
        let error = try #require(Self.specError(yaml))
        #expect(error.message.contains(message), "message: \(error.message)")
    }

    @Test("text that is not YAML, or repeats a key, is a spec error", arguments: [
        "name: [unclosed",
        "name: a\nname: b\nsources: [{name: x, kind: jsonl, glob: g}]\noutput: {dir: o}",
        "\tname: tab-indented",
    ])
    func notYAML(yaml: String) {
        _ = Self.specError(yaml)
    }

    @Test("two sources with the same name are rejected at the second")
    func duplicateSources() throws {
        let error = try #require(Self.specError("""
            name: d
            sources:
              - name: same
                kind: jsonl
                glob: a/*.jsonl
              - name: same
                kind: text
                glob: b/*.md
            output: {dir: o}
            """))
        #expect(error.message.contains("source name 'same' is used twice"))
        #expect(error.message.hasPrefix("sources[1]: "))
        #expect(error.location?.line == 6)
    }

    @Test("a source name that cannot start a record id is rejected", arguments: ["a b", "a/b", "é", "x:y"])
    func badSourceName(name: String) throws {
        let error = try #require(Self.specError(Self.minimal.replacingOccurrences(of: "name: chats", with: "name: \"\(name)\"")))
        #expect(error.message.contains("must be letters, digits"))
    }

    @Test("zstd_level outside 1...19 is rejected", arguments: [0, 20, -1, 100])
    func zstdLevelOutOfRange(level: Int) throws {
        let error = try #require(Self.specError(Self.withOutput("zstd_level: \(level)")))
        #expect(error.message.contains("must be 1 to 19, found \(level)"))
        #expect(error.location?.line == 8)
    }

    @Test("zstd_level inside 1...19 is accepted", arguments: [1, 3, 19])
    func zstdLevelInRange(level: Int) throws {
        #expect(try Self.parse(Self.withOutput("zstd_level: \(level)")).output.zstdLevel == Int32(level))
    }

    @Test("validation_fraction outside 0...1 is rejected", arguments: ["1.5", "-0.1", ".nan"])
    func validationFractionOutOfRange(value: String) throws {
        let error = try #require(Self.specError(Self.withOutput("validation_fraction: \(value)")))
        #expect(error.message.hasPrefix("output.validation_fraction: "))
    }

    @Test("byte sizes read with binary and decimal units", arguments: [
        ("64MiB", 64 << 20),
        ("512KiB", 512 << 10),
        ("2GiB", 2 << 30),
        ("16K", 16 << 10),
        ("3M", 3 << 20),
        ("1G", 1 << 30),
        ("10KB", 10_000),
        ("5MB", 5_000_000),
        ("1GB", 1_000_000_000),
        ("100B", 100),
        ("1000000", 1_000_000),
        ("1.5MiB", 1_572_864),
        ("64 MiB", 64 << 20),
    ] as [(String, Int)])
    func byteSizes(text: String, bytes: Int) throws {
        #expect(try Self.parse(Self.withOutput("shard_size: \(text)")).output.shardSize == bytes)
        #expect(try Self.parse(Self.minimal + "\nengine: {batch_bytes: \(text)}").engine.batchBytes == bytes)
    }

    @Test("sizes that are not sizes, are zero, or do not fit are rejected", arguments: [
        "lots", "MiB", "-5MiB", "-1", "5XB", "0", "0B", "0.25B", "1e300GiB", "99999999999999999999", "[1]",
    ])
    func badByteSizes(text: String) throws {
        let error = try #require(Self.specError(Self.withOutput("shard_size: \(text)")))
        #expect(error.message.hasPrefix("output.shard_size: "))
    }

    @Test("engine batch limits must be positive", arguments: ["batch_records: 0", "batch_bytes: 0"])
    func engineLimits(line: String) throws {
        let error = try #require(Self.specError(Self.minimal + "\nengine: {\(line)}"))
        #expect(error.message.contains("must be at least 1"))
    }

    // MARK: Config hash

    @Test("configHash ignores comments, blank lines and layout", arguments: [
        """
        # A comment before everything.
        name: demo   # trailing comment

        sources:
          - name: chats      # the chats
            kind: chat_jsonl
            glob: in/*.jsonl

        # Where it goes.
        output:
          dir: out/demo
        """,
        """
        name:    demo
        sources:
            -   name: chats
                kind:   chat_jsonl
                glob: in/*.jsonl
        output:
            dir: out/demo   \n
        """,
        """
        name: demo
        sources:
        - name: chats
          kind: chat_jsonl
          glob: in/*.jsonl
        output:
          dir: out/demo

        """,
    ])
    func configHashStable(variant: String) throws {
        #expect(try Self.parse(variant).configHash == Self.parse(Self.minimal).configHash)
    }

    @Test("configHash changes when a value changes", arguments: [
        ("name: demo", "name: demo2"),
        ("kind: chat_jsonl", "kind: jsonl"),
        ("glob: in/*.jsonl", "glob: in/**/*.jsonl"),
        ("dir: out/demo", "dir: out/demo\n  zstd_level: 4"),
        ("dir: out/demo", "dir: out/other"),
    ])
    func configHashChanges(old: String, new: String) throws {
        let changed = Self.minimal.replacingOccurrences(of: old, with: new)
        #expect(changed != Self.minimal)
        #expect(try Self.parse(changed).configHash != Self.parse(Self.minimal).configHash)
    }

    @Test("configHash does not depend on the base directory or file name")
    func configHashIgnoresPlace() throws {
        let here = try PipelineSpec.parse(yaml: Self.minimal, file: "a.yaml", baseDirectory: "/x")
        let there = try PipelineSpec.parse(yaml: Self.minimal, file: "b.yaml", baseDirectory: "/y/z")
        #expect(here.configHash == there.configHash)
    }

    // MARK: Paths

    @Test("output dir and catalog resolve against the base directory", arguments: [
        ("out/v1", nil, "/data/project/out/v1", "/data/project/out/catalog.sqlite"),
        ("./out/../built", nil, "/data/project/built", "/data/project/catalog.sqlite"),
        ("../shared/out", "db/c.sqlite", "/data/shared/out", "/data/project/db/c.sqlite"),
        ("/abs/out", "/abs/catalog.sqlite", "/abs/out", "/abs/catalog.sqlite"),
    ] as [(String, String?, String, String)])
    func relativePaths(dir: String, catalog: String?, directory: String, catalogPath: String) throws {
        var yaml = Self.minimal.replacingOccurrences(of: "dir: out/demo", with: "dir: \(dir)")
        if let catalog { yaml += "\ncatalog: \(catalog)" }
        let spec = try Self.parse(yaml)
        #expect(spec.output.directory == directory)
        #expect(spec.catalogPath == catalogPath)
        #expect(spec.sources[0].globs == ["in/*.jsonl"], "globs stay as written")
    }

    @Test("load resolves relative paths against the spec file's folder")
    func loadFromFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("refinery-spec-\(UUID().uuidString)")
        let specs = folder.appendingPathComponent("specs")
        try FileManager.default.createDirectory(at: specs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = specs.appendingPathComponent("p.yaml").path
        try Self.minimal.replacingOccurrences(of: "dir: out/demo", with: "dir: ../out/p").write(toFile: path, atomically: true, encoding: .utf8)

        let spec = try PipelineSpec.load(path: path)
        let root = folder.standardizedFileURL.path
        #expect(spec.file == path)
        #expect(spec.baseDirectory == root + "/specs")
        #expect(spec.output.directory == root + "/out/p")
        #expect(spec.catalogPath == root + "/out/catalog.sqlite")
    }

    @Test("load of a missing file is a spec error naming the file")
    func loadMissing() throws {
        let path = "/nonexistent-\(UUID().uuidString)/p.yaml"
        let error = try #require(#expect(throws: RefineryError.self) { try PipelineSpec.load(path: path) })
        #expect(error.code == .spec)
        #expect(error.location?.file == path)
        #expect(error.message.contains("cannot read the spec file"))
    }
}
