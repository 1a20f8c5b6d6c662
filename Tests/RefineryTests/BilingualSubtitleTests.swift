import Foundation
import RefineryCodecs
import RefineryPipeline
import RefineryReaders
import RefineryRecords
import RefineryShards
import RefinerySpec
import Testing

@Suite struct BilingualSubtitleTests {
    static func srt(_ cues: [(Int, Int, String)]) -> String {
        func t(_ ms: Int) -> String { String(format: "00:%02d:%02d,%03d", ms / 60000, ms / 1000 % 60, ms % 1000) }
        return cues.enumerated().map { "\($0.offset + 1)\n\(t($0.element.0)) --> \(t($0.element.1))\n\($0.element.2)\n" }.joined(separator: "\n")
    }

    /// Runs a bilingual source over `files` and returns the JSON objects of the data shards and of the read rejects.
    static func run(_ files: [String: String], options: String = "{from: en, to: fr}", folderName: String = "refinery-test") throws
        -> (records: [[(key: String, value: JSONValue)]], rejects: [[(key: String, value: JSONValue)]], manifest: Manifest)
    {
        let folder = try TemporaryFolder(folderName)
        defer { folder.cleanup() }
        for (name, text) in files { try folder.write("in/\(name)", text) }
        let spec = try PipelineSpec.parse(yaml: """
            name: pairs
            sources:
              - {name: pairs, kind: bilingual_subtitles, glob: "in/*", category: translation, options: \(options)}
            output: {dir: out, validation_fraction: 0}
            """, file: folder.path + "/spec.yaml", baseDirectory: folder.path)
        let result = try RefineryTests.run(spec)
        let dataset = folder.path + "/out"
        return (try shardObjects(result.manifest.shards, in: dataset), try shardObjects(result.manifest.rejects, in: dataset), result.manifest)
    }

    static func contents(_ object: [(key: String, value: JSONValue)]) -> [String] {
        guard case .array(let messages)? = object.first(where: { $0.key == "messages" })?.value else { return [] }
        return messages.compactMap { message in
            guard case .object(let fields) = message else { return nil }
            return jsonString(fields, "content")
        }
    }

    @Test("the read stage counts the pair's file bytes, so the manifest does not depend on where the inputs are")
    func bytesInDoNotDependOnThePath() throws {
        let files = ["T.en.srt": Self.srt([(1000, 3000, "Where are you going?")]), "T.fr.srt": Self.srt([(1000, 3000, "Où vas-tu ?")])]
        let short = try Self.run(files, folderName: "r").manifest
        let long = try Self.run(files, folderName: "refinery-test-in-a-folder-with-a-much-longer-name").manifest
        #expect(try short.encoded() == long.encoded())
        #expect(short.stages.first?.bytesIn == files.values.reduce(0) { $0 + $1.utf8.count })
    }

    @Test func pairsByNameAlignByTimeAndQuarantineWhatHasNoPartner() throws {
        let english = Self.srt([(1000, 3000, "Where are you going?"), (4000, 6000, "Home. It is late."),
                                (10000, 12000, "See you tomorrow."), (20000, 21000, "Bye.")])
        let french = Self.srt([(1100, 3000, "Où vas-tu ?"), (4000, 5000, "À la maison."), (5000, 6100, "Il est tard."),
                               (10400, 12300, "À demain.")])
        let out = try Self.run(["Film.en.srt": english, "Film.fr.srt": french, "Other.en.srt": english, "Film.de.srt": french,
                                "notes.txt": "not a subtitle"])
        #expect(out.records.map(Self.contents) == [
            ["Translate to French: Where are you going?", "Où vas-tu ?"],
            ["Translate to French: Home. It is late.", "À la maison.\nIl est tard."],
            ["Translate to French: See you tomorrow.", "À demain."],
        ])
        #expect(out.records.map { jsonString($0, "id") } == ["pairs/Film.en.srt:1", "pairs/Film.en.srt:5", "pairs/Film.en.srt:9"])
        #expect(out.records.allSatisfy { jsonString($0, "lang") == "fr" })
        let reasons = out.rejects.map { "\(jsonString($0, "reason")!) \(jsonString($0, "id")!)" }.sorted()
        #expect(reasons == ["low_alignment pairs/Film.en.srt:13", "unpaired_file pairs/Film.de.srt:1",
                            "unpaired_file pairs/Other.en.srt:1", "unpaired_file pairs/notes.txt:1"])
        #expect(out.manifest.totals.balances && out.manifest.totals.read == 7)
    }

    @Test func theAlignmentThresholdAndPromptComeFromTheSpec() throws {
        let english = Self.srt([(1000, 3000, "Good morning."), (5000, 7000, "Drifted line.")])
        let french = Self.srt([(1000, 3000, "Bonjour."), (5800, 7800, "Ligne décalée.")])
        let strict = try Self.run(["a.en.srt": english, "a.fr.srt": french],
                                  options: "{from: en, to: fr, min_alignment: 0.7, prompt: 'EN→{language}: {text}'}")
        #expect(strict.records.map(Self.contents) == [["EN→French: Good morning.", "Bonjour."]])
        #expect(strict.rejects.map { jsonString($0, "reason") } == ["low_alignment"])
        #expect(jsonString(strict.rejects[0], "detail")?.hasPrefix("alignment 0.") == true)
        let loose = try Self.run(["a.en.srt": english, "a.fr.srt": french], options: "{from: en, to: fr, min_alignment: 0.3}")
        #expect(loose.records.count == 2)
    }

    @Test func aBrokenCueInTheTargetFileIsRejectedAtItsOwnFileAndLine() throws {
        let english = Self.srt([(1000, 3000, "One."), (4000, 6000, "Two.")])
        let french = "1\n00:00:01,000 --> 00:00:03,000\nUn.\n\n2\n00:00:04,000 --> 00:00:0x,000\nDeux.\n"
        let out = try Self.run(["t.en.srt": english, "t.fr.srt": french])
        #expect(out.records.count == 1)
        let broken = try #require(out.rejects.first { jsonString($0, "reason") == "invalid_timestamp" })
        #expect(jsonString(broken, "id") == "pairs/t.fr.srt:5")
        #expect(jsonString(broken, "file")?.hasSuffix("in/t.fr.srt") == true)
        #expect(out.rejects.map { jsonString($0, "reason") ?? "" }.sorted() == ["invalid_timestamp", "low_alignment"])
    }

    @Test func everyFileIsAccountedForEvenWithoutAUsablePair() throws {
        let french = Self.srt([(1000, 3000, "Bonjour.")])
        // Two English files for one title: the second is unpaired. An English file with no text: no_cues.
        let out = try Self.run(["A.en.srt": Self.srt([(1000, 3000, "Hello.")]), "A.en.vtt": "WEBVTT\n", "A.fr.srt": french,
                                "B.en.srt": "", "B.fr.srt": french])
        let reasons = out.rejects.map { "\(jsonString($0, "reason")!) \(jsonString($0, "id")!)" }.sorted()
        #expect(reasons == ["no_cues pairs/B.en.srt:1", "unpaired_file pairs/A.en.vtt:1"])
        #expect(out.records.count == 1)
        #expect(out.manifest.totals.read == 3)
    }

    @Test func badSpecsNameTheProblem() throws {
        for (options, message) in [("{from: en}", "to"), ("{from: en, to: en}", "both"), ("{from: en, to: fr, min_alignment: 0}", "above 0"), ("{from: en, to: fr, pair_by: '{title}.srt'}", "{lang}"),
                                   ("{from: en, to: fr, prompt: 'Translate'}", "{text}")] {
            let error = try #require(#expect(throws: RefineryError.self) { try Self.run([:], options: options) })
            #expect(error.message.contains(message), "\(options): \(error.message)")
        }
    }
}
