import Foundation
import RefineryShards
import Testing

/// `refinery inspect` exits with the codes the README's table gives, the same as `report` and `diff` on the same folder.
@Suite struct InspectExitCodeTests {
    @Test("a shard not matching its manifest: inspect exits 65 like report and diff, names the shard, prints no counts")
    func damagedShard() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let dataset = try DiffTests.dataset(folder, "d", DiffTests.texts("a", 0..<20) + DiffTests.texts("b", 0..<20))
        let healthy = try refinery(["inspect", dataset])
        #expect(healthy.status == 0, "\(healthy.stderr)")
        #expect(healthy.stdout.contains("train: "))

        // One byte overwritten: same size, different checksum.
        let manifest = try Manifest.read(directory: dataset)
        let file = manifest.shards[0].file
        let shard = dataset + "/" + file
        var bytes = try Data(contentsOf: URL(fileURLWithPath: shard))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: shard))

        let inspect = try refinery(["inspect", dataset])
        #expect(inspect.status == 65, "\(inspect.stderr)")
        #expect(inspect.stderr.contains(file) && inspect.stderr.contains("FAILED"), "\(inspect.stderr)")
        #expect(inspect.stdout.isEmpty, "the manifest's counts were printed as if they held: \(inspect.stdout)")
        #expect(try refinery(["inspect", shard]).status == 65)
        let report = try refinery(["report", dataset, "--out", folder.path + "/report.html"])
        #expect(report.status == 65, "\(report.stderr)")
        let diff = try refinery(["diff", dataset, dataset])
        #expect(diff.status == 65, "\(diff.stderr)")
    }

    @Test("a folder without manifest.json: inspect exits 64 like report, saying it is not a dataset")
    func notADataset() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        _ = try folder.write("stray/notes.txt", "no manifest here\n")
        let inspect = try refinery(["inspect", folder.path + "/stray"])
        #expect(inspect.status == 64, "\(inspect.stderr)")
        #expect(inspect.stderr.contains("not a dataset folder"), "\(inspect.stderr)")
        #expect(inspect.stdout.isEmpty)
        let report = try refinery(["report", folder.path + "/stray", "--out", folder.path + "/report.html"])
        #expect(report.status == 64, "\(report.stderr)")
    }
}
