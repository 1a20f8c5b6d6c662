import Foundation
import RefineryRecords
import RefineryShards
import Testing
import Yams

/// The dataset card's YAML header, which Hugging Face `datasets` reads to load a folder: its configs, and features that
/// declare every key the shards and reject lines hold (a key it does not declare fails the load).
@Suite struct DatasetCardTests {
    /// The card's YAML header as a dictionary.
    static func header(_ folder: String) throws -> [String: Any] {
        let card = try String(contentsOfFile: folder + "/README.md", encoding: .utf8)
        let parts = card.components(separatedBy: "---\n")
        try #require(parts.count >= 3 && parts[0].isEmpty)
        return try #require(try Yams.load(yaml: parts[1]) as? [String: Any])
    }

    /// The names of a YAML list of features.
    static func names(_ features: Any?) -> [String] {
        ((features as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
    }

    /// The sub-features of the feature `name` (a struct) in a list of features.
    static func structFeatures(_ features: Any?, _ name: String) -> [[String: Any]] {
        ((features as? [[String: Any]])?.first { $0["name"] as? String == name }?["struct"] as? [[String: Any]]) ?? []
    }

    @Test("the card has a default config for train and validation and a rejects config whose features cover every reject line")
    func rejectsConfig() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let result = try run(try demoSpec(output: folder.path + "/demo"))
        let header = try Self.header(folder.path + "/demo")
        let configs = try #require(header["configs"] as? [[String: Any]])
        #expect(configs.compactMap { $0["config_name"] as? String } == ["default", "rejects"])
        let info = try #require(header["dataset_info"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: info.compactMap { entry in (entry["config_name"] as? String).map { ($0, entry) } })
        let recordFeatures = try #require(byName["default"]?["features"])
        let rejectFeatures = try #require(byName["rejects"]?["features"])
        #expect(Self.names(rejectFeatures) == ["id", "stage", "reason", "detail", "file", "line", "kept_id", "raw", "record"])
        #expect(Self.names(Self.structFeatures(rejectFeatures, "record")) == Self.names(recordFeatures))
        let splits = try #require(byName["rejects"]?["splits"] as? [[String: Any]])
        #expect(splits.first?["num_examples"] as? Int == result.manifest.totals.quarantined)

        // Every key of every reject line, and of the record it holds, and its scores and pii, is declared.
        let declared = Set(Self.names(rejectFeatures))
        let recordKeys = Set(Self.names(recordFeatures))
        let scoreKeys = Set(Self.names(Self.structFeatures(recordFeatures, "scores")))
        let piiKeys = Set(Self.names(Self.structFeatures(recordFeatures, "pii")))
        let rejects = try shardObjects(result.manifest.rejects, in: folder.path + "/demo")
        #expect(rejects.count == result.manifest.totals.quarantined)
        for line in rejects {
            #expect(Set(line.map(\.key)).isSubset(of: declared), "\(line.map(\.key))")
            guard case .object(let record)? = line.first(where: { $0.key == "record" })?.value else { continue }
            #expect(Set(record.map(\.key)).isSubset(of: recordKeys))
            if case .object(let scores)? = record.first(where: { $0.key == "scores" })?.value {
                #expect(Set(scores.map(\.key)).isSubset(of: scoreKeys), "\(scores.map(\.key))")
            }
            if case .object(let pii)? = record.first(where: { $0.key == "pii" })?.value {
                #expect(Set(pii.map(\.key)).isSubset(of: piiKeys), "\(pii.map(\.key))")
            }
        }
    }
}
