import RefineryCodecs
import RefineryReaders
import RefineryRecords
import RefineryShards

/// A piece of a run that is read, staged and committed on its own: one input file, or a whole source when its
/// records span files (``RecordFormat/unitsSpanFiles``). A run killed at any moment resumes from its committed
/// units; the rest are read again.
struct WorkUnit: Sendable {
    var sourceIndex: Int
    var files: [SourceFile]
    /// Identifies the unit's work across runs: XXH3 of the Refinery release, the manifest and unit-file formats,
    /// the spec's config hash, the source and every file's path and content hash. A unit with the same key always
    /// gives the same output, so committed work is reused only under the same key.
    var key: String
    /// For people: `source/relative-path`, or `source (N files)`.
    var name: String
    /// Input bytes (compressed size for `.zst` files).
    var bytes: Int

    /// The plan's files cut into units, in reading order.
    static func units(of plan: RunPlan) -> [WorkUnit] {
        var groups: [[SourceFile]] = []
        for (index, file) in plan.files.enumerated() {
            let sourceFile = SourceFile(index: index, file: file)
            if let last = groups.last?.last, last.file.sourceIndex == file.sourceIndex,
               plan.formats[file.sourceIndex].unitsSpanFiles {
                groups[groups.count - 1].append(sourceFile)
            } else {
                groups.append([sourceFile])
            }
        }
        let configHash = XXH3.hex(plan.spec.configHash)
        return groups.map { files in
            let sourceIndex = files[0].file.sourceIndex
            let source = plan.spec.sources[sourceIndex].name
            var identity = JSONWriter()
            identity.string(Manifest.refineryVersion)
            identity.string(Manifest.currentFormat)
            identity.string(String(decoding: UnitStore.magic, as: UTF8.self))
            identity.string(configHash)
            identity.string(source)
            for file in files {
                identity.string(plan.fingerprints[file.index].path)
                identity.string(plan.fingerprints[file.index].xxh3)
            }
            let name = files.count == 1 ? "\(source)/\(files[0].file.relativePath)" : "\(source) (\(files.count) files)"
            return WorkUnit(sourceIndex: sourceIndex, files: files, key: XXH3.hex(XXH3.hash(identity.bytes)),
                            name: name, bytes: files.reduce(0) { $0 + $1.file.size })
        }
    }
}

/// What the reader learnt about a unit once it had split all of it.
struct UnitEnd: Sendable {
    var counts = LineSplitter.Counts()
    /// Batches the unit made.
    var batches = 0
}
