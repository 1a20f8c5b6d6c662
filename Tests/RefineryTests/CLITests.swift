import Foundation
import RefineryShards
import Testing

/// The real `refinery` binary that `swift build --build-tests` puts beside the test bundle.
func refineryBinary() throws -> URL {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("refinery"),
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("refinery"),
        Bundle.main.bundleURL.appendingPathComponent("refinery"),
    ]
    return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                        "refinery binary not found near \(CommandLine.arguments[0])")
}

/// Runs the real `refinery` binary.
func refinery(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = try refineryBinary()
    process.arguments = arguments
    process.currentDirectoryURL = repositoryRoot
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// Runs the real `refinery` binary with the dynamic loader's `LD_DEBUG` set to `what`; returns its status and the
/// loader's log (stderr).
func refineryUnderLoaderDebug(_ arguments: [String], what: String) throws -> (status: Int32, log: String) {
    let process = Process()
    process.executableURL = try refineryBinary()
    process.arguments = arguments
    process.environment = ["LD_DEBUG": what]
    let err = Pipe()
    process.standardOutput = FileHandle.nullDevice
    process.standardError = err
    try process.run()
    let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, log)
}

/// Writes the demo spec into `folder`, reading the repository's fixtures and writing under the folder; returns its path.
func demoSpec(in folder: TemporaryFolder) throws -> String {
    let spec = try String(contentsOf: repositoryRoot.appendingPathComponent("pipelines/demo.yaml"), encoding: .utf8)
        .replacingOccurrences(of: "../fixtures/", with: repositoryRoot.path + "/fixtures/")
        .replacingOccurrences(of: "dir: ../out/demo", with: "dir: out/demo")
    return try folder.write("demo.yaml", spec)
}

@Suite struct CLITests {
    @Test("a command that does not train never loads OpenBLAS (whose thread pool spun for 0.1 s of CPU in every process)",
          .enabled(if: FileManager.default.fileExists(atPath: "/lib64/ld-linux-x86-64.so.2")
                   || FileManager.default.fileExists(atPath: "/lib/ld-linux-aarch64.so.1")))
    func blasOnlyWhenTraining() throws {
        // The dynamic loader lists every library it opens, at start-up and by dlopen.
        let (status, log) = try refineryUnderLoaderDebug(["inspect", "--help"], what: "libs")
        #expect(status == 0)
        #expect(log.contains("libzstd"), "LD_DEBUG printed no library list: \(log.prefix(200))")
        #expect(!log.contains("libopenblas"))
    }

    @Test("the binary allocates with jemalloc: every library's malloc and free bind to it, and a run's debug log names it",
          .enabled(if: FileManager.default.fileExists(atPath: "/lib64/ld-linux-x86-64.so.2")
                   || FileManager.default.fileExists(atPath: "/lib/ld-linux-aarch64.so.1")))
    func jemallocAllocates() throws {
        // The dynamic loader prints each symbol binding: `binding file <user> [0] to <provider> [0]: normal symbol `malloc'`.
        let (status, log) = try refineryUnderLoaderDebug(["--version"], what: "bindings")
        #expect(status == 0)
        let bindings = log.split(separator: "\n").filter { $0.hasSuffix("symbol `malloc' [GLIBC_2.2.5]") || $0.hasSuffix("symbol `free' [GLIBC_2.2.5]") }
        #expect(!bindings.isEmpty, "LD_DEBUG printed no malloc binding: \(log.prefix(200))")
        for binding in bindings { #expect(binding.contains("libjemalloc"), "\(binding)") }

        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let run = try refinery(["run", try demoSpec(in: folder), "--dry-run", "--log-level", "debug"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("allocator=jemalloc 5."), "\(run.stderr.prefix(400))")
    }

    @Test("run prints the funnel, inspect verifies it, --head prints JSON lines to stdout")
    func runAndInspect() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let specPath = try demoSpec(in: folder)
        let run = try refinery(["run", specPath, "--workers", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = try JSONSerialization.jsonObject(
            with: Data(contentsOf: repositoryRoot.appendingPathComponent("fixtures/demo/EXPECTED.json"))) as! [String: Any]
        let (read, written, quarantined) = (expected["read"] as! Int, expected["written"] as! Int, expected["quarantined"] as! Int)
        let tooShort = (expected["dropped"] as! [String: Int])["validate.too_short"]!
        #expect(run.stderr.contains("accounting: read \(read) = written \(written) + quarantined \(quarantined)  (balanced)"))
        // The funnel shows every source of the spec.
        for source in ["support_chats", "catalog", "stories", "subtitles", "bilingual"] {
            #expect(run.stderr.contains("\n\(source) "), "funnel row for \(source)")
        }
        // The category mix says which "before" it is: the records going into dedup (the report's is before balancing).
        #expect(run.stderr.contains("category      records before dedup  after  chars before dedup  after"), "\(run.stderr)")
        let manifest = try Manifest.read(directory: folder.path + "/out/demo")
        let inspect = try refinery(["inspect", folder.path + "/out/demo"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("train: \(manifest.splits["train"]!.records) records"))
        let head = try refinery(["inspect", folder.path + "/out/demo", "--head", "3"])
        let lines = head.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.hasPrefix("{\"id\":") })
        let rejects = try refinery(["inspect", folder.path + "/out/demo", "--rejects"])
        #expect(rejects.stdout.contains("validate.too_short\t\(tooShort)"))

        // One shard, data or rejects, is checked against the manifest beside it (or one folder up).
        let one = try refinery(["inspect", folder.path + "/out/demo/rejects/validate-00000-of-00001.jsonl.zst"])
        #expect(one.status == 0)
        #expect(one.stderr.contains("verified against the manifest"))
        #expect(one.stdout.contains("too_short \(tooShort)"))

        // Corrupt one shard: inspect fails and names it.
        let shard = folder.path + "/out/demo/" + manifest.shards[0].file
        var bytes = try Data(contentsOf: URL(fileURLWithPath: shard))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: shard))
        let broken = try refinery(["inspect", folder.path + "/out/demo"])
        #expect(broken.status == 65)
        #expect(broken.stderr.contains(manifest.shards[0].file) && broken.stderr.contains("FAILED"))
    }

    @Test("bad usage and bad specs exit 64 with a message naming the problem")
    func usageErrors() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let badKey = try folder.write("bad.yaml", "name: x\nsources:\n  - name: s\n    kind: jsonl\n    globb: '*.jsonl'\noutput: {dir: out}\n")
        let result = try refinery(["run", badKey, "--dry-run"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("bad.yaml:5"))
        #expect(result.stderr.contains("unknown key 'globb'") && result.stderr.contains("did you mean 'glob'"))
        #expect(try refinery(["run", badKey, "--workers", "0"]).status == 64)
        #expect(try refinery(["run"]).status == 64)
        let missing = try refinery(["run", folder.path + "/nope.yaml"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("nope.yaml"))
    }
}
