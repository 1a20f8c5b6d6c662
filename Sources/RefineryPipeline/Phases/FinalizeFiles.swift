import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefineryStages

/// The files between the resolve phase, the finalize phase and the reduce, under `.work/finalize/<version>/`:
/// - `<unit key>.fates`: the global stages' decision for each record the unit spilled, in order (written by the
///   resolve phase; ``FateCoding``);
/// - `resolution.json`: what the resolution says about the whole run (stage counters, category mix, stats.json
///   values, records per unit); written last, so its presence means every fates file is complete;
/// - `<unit key>.final`: the unit's finalized batch outputs (shard pieces of the records kept, rejects of the ones
///   dropped), in the work-unit file format, and `<unit key>.final.json`, its marker (XXH3, batches), written last.
enum FinalizeFiles {
    static let format = "refinery-resolution/1"

    static func directory(root: String, version: String) -> String {
        ((UnitStore.folder(root: root) as NSString).appendingPathComponent("finalize") as NSString).appendingPathComponent(version)
    }

    static func path(_ directory: String, _ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    /// `resolution.json`.
    struct Resolution: Codable {
        var format = FinalizeFiles.format
        var version: String
        var specHash: String
        /// Spilled records, and per unit key how many of them the unit holds and the XXH3 of the unit file they
        /// came from (the reduce uses the finalize phase's output only for units whose file is still that one).
        var records: Int
        var unitRecords: [String: Int]
        var unitFiles: [String: String]
        /// The other versions' dedup index segments it was checked against (``Engine/publishedSegmentStamps()``).
        var published: [String]
        var counters: [StageCounters]
        var repeats: Int
        var categoryMix: [String: CategoryMix]
        /// Seconds by phase index (as strings: JSON keys).
        var seconds: [String: Double]
        /// The stats.json values of the resolution, as a JSON object.
        var stats: String

        enum CodingKeys: String, CodingKey {
            case format, version, records, counters, repeats, seconds, stats, published
            case specHash = "spec_hash", unitRecords = "unit_records", unitFiles = "unit_files", categoryMix = "category_mix"
        }
    }

    /// The resolution of `version`, and the XXH3 of its file (which the finalized units' markers name).
    /// Whether a resolution was made from exactly these unit files (no more, no fewer) and these published segments.
    static func matches(_ resolution: Resolution, unitFiles: [String: String], published: [String]) -> Bool {
        resolution.unitFiles == unitFiles && resolution.published == published
    }

    static func readResolution(root: String, version: String, specHash: String) -> (Resolution, hash: String)? {
        let file = path(directory(root: root, version: version), "resolution.json")
        guard let data = FileManager.default.contents(atPath: file),
              let resolution = try? JSONDecoder().decode(Resolution.self, from: data),
              resolution.format == format, resolution.version == version, resolution.specHash == specHash else { return nil }
        return (resolution, XXH3.hex(XXH3.hash([UInt8](data))))
    }

    /// A unit's finalized outputs, when the finalize phase committed them from this resolution and unit file.
    struct Marker: Codable {
        var fileXXH3: String
        var resolution: String
        var unitFile: String

        enum CodingKeys: String, CodingKey {
            case fileXXH3 = "file_xxh3", resolution, unitFile = "unit_file_xxh3"
        }
    }

    static func finalized(_ key: String, directory: String, resolution: String, unitFile: String) -> (path: String, hash: String)? {
        guard let data = FileManager.default.contents(atPath: path(directory, "\(key).final.json")),
              let marker = try? JSONDecoder().decode(Marker.self, from: data),
              marker.resolution == resolution, marker.unitFile == unitFile else { return nil }
        let file = path(directory, "\(key).final")
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        return (file, marker.fileXXH3)
    }

    static let finalMagic = Array("refinery-final/2\n".utf8)

    /// A unit's finalized batch outputs as one file's bytes (the work-unit encoding of each output, and the global
    /// stages' drops by source, which work units do not carry).
    static func encodeFinal(_ outputs: [BatchOutput]) -> [UInt8] {
        var writer = ByteWriter()
        writer.int(outputs.count)
        for output in outputs {
            writer.batchOutput(output)
            writer.counts(output.globalDropped)
        }
        return finalMagic + writer.bytes
    }

    /// Reads a unit's finalized outputs back.
    /// - Throws: ``RefineryError`` (code `integrity`) when the file is missing, damaged or not the one its marker names.
    static func loadFinal(path file: String, hash: String, sourceIndex: Int) throws -> [BatchOutput] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RefineryError(.integrity, "cannot read the finalized unit", at: SourceLocation(file: file))
        }
        let bytes = [UInt8](data)
        guard XXH3.hex(XXH3.hash(bytes)) == hash, bytes.starts(with: finalMagic) else {
            throw RefineryError(.integrity, "the finalized unit does not match its marker; run the finalize task that owns it again with --force",
                                at: SourceLocation(file: file))
        }
        do {
            var reader = ByteReader(bytes, offset: finalMagic.count)
            let outputs = try (0..<(try reader.count())).map { index -> BatchOutput in
                var output = try reader.batchOutput(index: index, sourceIndex: sourceIndex)
                output.globalDropped = try reader.counts()
                return output
            }
            guard reader.isAtEnd else { throw UnitFileError.truncated(at: reader.offset) }
            return outputs
        } catch let error as UnitFileError {
            throw RefineryError(.integrity, "the finalized unit is damaged: \(error)", at: SourceLocation(file: file))
        }
    }
}

/// A unit's fates, one after the other: `0` keep (copies, validation), `1` drop (stage, reason, detail, kept id).
enum FateCoding {
    static func encode(_ fates: some Collection<RecordFate>) -> [UInt8] {
        var writer = ByteWriter()
        writer.int(fates.count)
        for fate in fates {
            switch fate {
            case .keep(let copies, let validation):
                writer.bool(false)
                writer.int(copies)
                writer.bool(validation)
            case .drop(let drop):
                writer.bool(true)
                writer.string(drop.stage)
                writer.string(drop.reason)
                writer.string(drop.detail)
                writer.bool(drop.keptID != nil)
                if let keptID = drop.keptID { writer.string(keptID) }
            }
        }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> [RecordFate] {
        var reader = ByteReader(bytes)
        let count = try reader.count()
        var fates: [RecordFate] = []
        fates.reserveCapacity(count)
        var shared: [String: RecordDrop] = [:]   // balance gives a category's drops one reason: share it again
        for _ in 0..<count {
            if try reader.bool() {
                let stage = try reader.string(), reason = try reader.string(), detail = try reader.string()
                let keptID = try reader.bool() ? try reader.string() : nil
                if keptID == nil, let drop = shared["\(stage)\u{0}\(reason)\u{0}\(detail)"] {
                    fates.append(.drop(drop))
                } else {
                    let drop = RecordDrop(stage: stage, reason: reason, detail: detail, keptID: keptID)
                    if keptID == nil { shared["\(stage)\u{0}\(reason)\u{0}\(detail)"] = drop }
                    fates.append(.drop(drop))
                }
            } else {
                fates.append(.keep(copies: try reader.int(), validation: try reader.bool()))
            }
        }
        guard reader.isAtEnd else { throw UnitFileError.truncated(at: reader.offset) }
        return fates
    }
}
