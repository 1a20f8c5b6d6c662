import Foundation
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefineryStages

/// The files of the dedup phase (``RunPhase/dedup(task:of:)``): task I of N numbers the buckets of LSH bands
/// I, I + N, I + 2N… (``BandBucketNumbering``) and writes, for every spilled record in canonical order, its bucket
/// number in each of those bands. The reduce reads the N files side by side and resolves duplicates over bucket
/// numbers (``NumberedLSHIndex``) instead of holding every band hash in one hash table.
///
/// `.work/dedup/<version>/bands-I-of-N.bin`: the numbers, 4 bytes each (little-endian), a record's bands side by side
/// (`UInt32.max` for a record without band hashes); then a JSON trailer (format, version, spec hash, task, count,
/// bands, bucket counts, records, a digest of the records' keys, which the resolution compares with its own records,
/// the unit files they came from, and the XXH3 of the numbers, checked as they are read); then the trailer's length,
/// 8 bytes. Written under a temporary name and renamed.
enum BandFiles {
    static let format = "refinery-bands/1"

    static func directory(root: String, version: String) -> String {
        ((UnitStore.folder(root: root) as NSString).appendingPathComponent("dedup") as NSString).appendingPathComponent(version)
    }

    static func path(root: String, version: String, task: Int, of count: Int) -> String {
        (directory(root: root, version: version) as NSString).appendingPathComponent("bands-\(task)-of-\(count).bin")
    }

    /// The bands task `task` of `count` numbers: `task`, `task + count`, … below `bands`.
    static func bands(task: Int, of count: Int, total bands: Int) -> [Int] {
        Array(stride(from: task, to: bands, by: count))
    }

    /// What a band file says about itself.
    struct Trailer: Codable, Equatable {
        var format: String
        var version: String
        var specHash: String
        var task: Int
        var count: Int
        var bands: [Int]
        var buckets: [Int]
        var records: Int
        var digest: UInt64
        /// XXH3 of the unit keys and unit file hashes it read (``unitsDigest(_:)``).
        var units: String
        /// XXH3 of the numbers.
        var body: String

        enum CodingKeys: String, CodingKey {
            case format, version, task, count, bands, buckets, records, digest, units, body
            case specHash = "spec_hash"
        }
    }

    /// The trailer of task `task`'s band file when it was made for this version and spec from these unit files (the
    /// task is done), else nil.
    static func done(root: String, version: String, specHash: String, task: Int, of count: Int, unitsDigest: String) -> Trailer? {
        guard let (trailer, _) = trailer(at: path(root: root, version: version, task: task, of: count)),
              trailer.version == version, trailer.specHash == specHash, trailer.units == unitsDigest else { return nil }
        return trailer
    }

    /// A digest of the committed units a dedup task reads, in order: a band file of other unit files is not reused.
    static func unitsDigest(_ units: [(key: String, fileXXH3: String)]) -> String {
        XXH3.hex(XXH3.hash(Array(units.map { "\($0.key):\($0.fileXXH3)\n" }.joined().utf8)))
    }

    /// A fold of the spilled records' keys in order, so that the reduce uses band files only for the very records
    /// they were made from.
    struct Digest {
        private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
        private(set) var records = 0

        mutating func add(_ keys: DedupKeys?) {
            mix(keys?.exact ?? 0x9e37_79b9_7f4a_7c15)
            mix((keys?.bands.first ?? 0) & 0xFFFF_FFFF)
            records += 1
        }

        private mutating func mix(_ word: UInt64) {
            value = (value ^ word) &* 0x0000_0100_0000_01b3
            value ^= value >> 29
        }
    }

    /// Writes one task's file: numbers appended record by record, the trailer last.
    final class Writer {
        private let path: String
        private let file: any OutputFile
        private let fileSystem: any OutputFileSystem
        private var buffer: [UInt32] = []
        private let hasher: XXH3Hasher

        init(path: String, fileSystem: any OutputFileSystem) throws {
            self.path = path
            self.fileSystem = fileSystem
            hasher = try XXH3Hasher()
            try fileSystem.makeDirectory((path as NSString).deletingLastPathComponent)
            file = try fileSystem.create(path + ".tmp")
            buffer.reserveCapacity(1 << 16)
        }

        func append(_ numbers: [UInt32]) throws {
            buffer.append(contentsOf: numbers)
            if buffer.count >= 1 << 16 { try flush() }
        }

        private func flush() throws {
            try buffer.map(\.littleEndian).withUnsafeBytes { bytes in
                hasher.update(bytes)
                try file.write(bytes)
            }
            buffer.removeAll(keepingCapacity: true)
        }

        /// Writes what is buffered and the trailer (its `body` is set here), and renames the file into place.
        func finish(_ trailer: Trailer) throws {
            var trailer = trailer
            do {
                try flush()
                trailer.body = XXH3.hex(hasher.digest)
                let json = try JSONEncoder().encode(trailer)
                var length = UInt64(json.count).littleEndian
                try [UInt8](json).withUnsafeBytes { try file.write($0) }
                try withUnsafeBytes(of: &length) { try file.write($0) }
                try file.close()
            } catch {
                abandon()
                throw error
            }
            try fileSystem.rename(path + ".tmp", to: path)
        }

        func abandon() {
            try? file.close()
            fileSystem.remove(path + ".tmp")
        }
    }

    /// A file's trailer, or nil when it is missing, cut short or not a band file.
    static func trailer(at path: String) -> (Trailer, bodyBytes: Int)? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), size >= 8,
              (try? handle.seek(toOffset: size - 8)) != nil, let tail = try? handle.readToEnd(), tail.count == 8 else { return nil }
        let length = tail.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= size - 8, (try? handle.seek(toOffset: size - 8 - length)) != nil,
              let json = try? handle.read(upToCount: Int(length)), json.count == Int(length),
              let trailer = try? JSONDecoder().decode(Trailer.self, from: json), trailer.format == format else { return nil }
        let body = Int(size - 8 - length)
        guard body == trailer.records * trailer.bands.count * 4, trailer.buckets.count == trailer.bands.count else { return nil }
        return (trailer, body)
    }

    /// The band files of a dedup phase that match these records, read side by side: each record's bucket number
    /// in every band.
    final class Reader {
        /// Per band (0…bands-1), its bucket count.
        let bucketCounts: [Int]
        let taskCount: Int
        /// Per file: its handle, its bands, its paths; and what was read of it and not used yet.
        private let sources: [(handle: FileHandle, bands: [Int], path: String)]
        private var buffers: [(numbers: [UInt32], next: Int, unread: Int)]
        /// Per file: the XXH3 of what was read, and the one its trailer records.
        private let hashers: [XXH3Hasher]
        private let bodies: [String]

        /// Opens the complete set of band files of `version` (every task of one task count, all made from these
        /// records), or answers why not: none, an incomplete set, or files of other records or another spec.
        static func open(root: String, version: String, specHash: String, bands: Int, digest: Digest) -> Result<Reader, BandFileMismatch> {
            let folder = directory(root: root, version: version)
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".bin") }
            guard !names.isEmpty else { return .failure(.none) }
            var byCount: [Int: [(Trailer, String)]] = [:]
            var mismatched = 0
            for name in names {
                let path = (folder as NSString).appendingPathComponent(name)
                guard let (trailer, _) = trailer(at: path) else { mismatched += 1; continue }   // the body's size is checked there
                guard trailer.version == version, trailer.specHash == specHash, trailer.records == digest.records,
                      trailer.digest == digest.value, name == "bands-\(trailer.task)-of-\(trailer.count).bin",
                      trailer.bands == Self.bandsOf(trailer, total: bands) else { mismatched += 1; continue }
                byCount[trailer.count, default: []].append((trailer, path))
            }
            // The complete set with the most tasks (any complete set gives the same numbers' decisions).
            for (count, files) in byCount.sorted(by: { $0.key > $1.key }) where Set(files.map(\.0.task)) == Set(0..<count) {
                do {
                    return .success(try Reader(files: files.sorted { $0.0.task < $1.0.task }, bands: bands, taskCount: count))
                } catch {
                    return .failure(.unreadable("\(error)"))
                }
            }
            if mismatched > 0 { return .failure(.otherRecords(files: mismatched)) }
            let best = byCount.max { $0.value.count < $1.value.count }!
            return .failure(.incomplete(have: best.value.count, of: best.key))
        }

        private static func bandsOf(_ trailer: Trailer, total: Int) -> [Int] {
            BandFiles.bands(task: trailer.task, of: trailer.count, total: total)
        }

        private init(files: [(Trailer, String)], bands: Int, taskCount: Int) throws {
            var counts = [Int](repeating: 0, count: bands)
            var sources: [(handle: FileHandle, bands: [Int], path: String)] = []
            var hashers: [XXH3Hasher] = []
            for (trailer, path) in files {
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    throw RefineryError(.output, "cannot open the dedup phase's band file", at: SourceLocation(file: path))
                }
                for (band, buckets) in zip(trailer.bands, trailer.buckets) { counts[band] = buckets }
                sources.append((handle, trailer.bands, path))
                hashers.append(try XXH3Hasher())
            }
            self.bucketCounts = counts
            self.taskCount = taskCount
            self.sources = sources
            buffers = files.map { trailer, _ in ([], 0, trailer.records * trailer.bands.count * 4) }
            self.hashers = hashers
            bodies = files.map(\.0.body)
        }

        /// Records read per refill of each file's buffer.
        private static let chunkRecords = 1 << 15

        /// The next record's bucket numbers, one per band, into `numbers` (of `bands` elements).
        func next(into numbers: inout [UInt32]) throws {
            for index in sources.indices {
                let width = sources[index].bands.count
                guard width > 0 else { continue }
                if buffers[index].next + width > buffers[index].numbers.count {
                    let data: Data?
                    do {
                        data = try sources[index].handle.read(upToCount: min(Self.chunkRecords * width * 4, buffers[index].unread))
                    } catch {
                        throw RefineryError(.output, "cannot read the dedup phase's band file: \(error)", at: SourceLocation(file: sources[index].path))
                    }
                    guard let data, data.count >= width * 4, data.count % (width * 4) == 0 else {
                        throw RefineryError(.output, "the dedup phase's band file is shorter than its trailer says", at: SourceLocation(file: sources[index].path))
                    }
                    buffers[index].numbers = data.withUnsafeBytes { raw in
                        (0..<(data.count / 4)).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
                    }
                    buffers[index].next = 0
                    buffers[index].unread -= data.count
                    data.withUnsafeBytes { hashers[index].update($0) }
                }
                let start = buffers[index].next
                for (offset, band) in sources[index].bands.enumerated() {
                    let number = buffers[index].numbers[start + offset]
                    guard number == .max || Int(number) < bucketCounts[band] else {
                        throw RefineryError(.integrity, "the dedup phase's band file is damaged (bucket \(number) of band \(band), which has "
                            + "\(bucketCounts[band])); remove .work/dedup and run the dedup tasks again", at: SourceLocation(file: sources[index].path))
                    }
                    numbers[band] = number
                }
                buffers[index].next = start + width
            }
        }

        /// Checks that every file read whole matches the XXH3 its trailer records, so that no damaged number was
        /// used.
        func verify() throws {
            for index in sources.indices where buffers[index].unread == 0 && XXH3.hex(hashers[index].digest) != bodies[index] {
                throw RefineryError(.integrity, "the dedup phase's band file does not match its recorded XXH3; remove .work/dedup and run "
                    + "the dedup tasks again", at: SourceLocation(file: sources[index].path))
            }
        }

        func close() {
            for source in sources { try? source.handle.close() }
        }
    }

    /// Why the reduce resolves without band files.
    enum BandFileMismatch: Error, CustomStringConvertible {
        case none
        case incomplete(have: Int, of: Int)
        case otherRecords(files: Int)
        case unreadable(String)

        var description: String {
            switch self {
            case .none: "no dedup phase ran"
            case .incomplete(let have, let count): "only \(have) of the \(count) dedup tasks' band files are there"
            case .otherRecords(let files): "no complete set of band files; \(files) of them were made from other records (units read again since?) or are damaged"
            case .unreadable(let message): message
            }
        }
    }
}
