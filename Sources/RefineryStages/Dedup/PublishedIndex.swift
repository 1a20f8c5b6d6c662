import Foundation
import RefineryCodecs
import RefineryRecords

/// The dedup index of what earlier versions of a dataset published, so that tonight's batch is deduplicated
/// against them and not only against itself.
///
/// Every run with a `dedup` stage writes one segment file for the version it publishes (``PublishedIndexFile``),
/// holding, for each record written into its shards, the exact hash, the LSH band hashes and a 2-bit sketch of its
/// MinHash signature, and its id. A later run of the same dataset loads the segments of every other version into
/// this index and asks it about each record before the run's own duplicates are resolved
/// (``match(_:id:)``): an exact hash or an LSH bucket shared with a published record whose sketch agrees to at least
/// `threshold` makes the record a duplicate of that published record.
///
/// A published record with the record's own id is not a duplicate of it: ids are stable and derived from the
/// source, so the same input processed again (with a changed spec, say) is the same record, published anew.
///
/// ## Memory and size
/// On disk a record costs 8 bytes (exact hash) + 4 per band (the low 32 bits of its band hash: 56 bytes at
/// 14 bands) + 2 bits per permutation (28 bytes at 112) + its id, zstd-compressed (a few bytes): about 100 bytes
/// (``PublishedIndexFile/Summary/bytesPerRecord`` reports it). Loaded, the band hashes go into an ``LSHIndex``
/// (8 bytes a slot, 14 slots a record at full tables) and the ids into one arena (``memoryBytes`` reports it; about
/// 300 bytes a record with the 12-byte slots the tables had before). The 32-bit band keys make a stranger share a
/// bucket with probability n/2³² per band at n published records; the sketch then rules it out (chance agreement of
/// 2-bit minima is 1/4, far below any useful threshold).
public struct PublishedIndex {
    /// One loaded segment: a published version and its first record's ordinal.
    public struct Segment: Sendable, Equatable {
        public var version: String
        public var records: Int
        public var start: Int
    }

    public let stage: DedupStage
    public private(set) var segments: [Segment] = []
    private var exact: [UInt64: Int32] = [:]
    private var lsh: LSHIndex
    /// Two bits per permutation, ``PublishedIndexFile/sketchBytes(permutations:)`` bytes a record, back to back.
    private var sketches: [UInt8] = []
    private var idBytes: [UInt8] = []
    private var idEnds: [UInt32] = []
    private var scratch: [UInt64] = []
    private var candidates: [Int] = []

    /// Records loaded, over all segments.
    public var count: Int { idEnds.count }

    /// An empty index for a stage's parameters.
    public init(stage: DedupStage) {
        self.stage = stage
        lsh = LSHIndex(bands: stage.hasher.bands)
        scratch = [UInt64](repeating: 0, count: stage.hasher.bands)
    }

    /// Adds one segment read from disk.
    /// - Throws: ``RefineryError`` (code `output`) when it was made with other dedup parameters, whose hashes
    ///   cannot be compared with this run's.
    public mutating func add(_ file: PublishedIndexFile) throws {
        guard file.parameters == PublishedIndexFile.parameters(of: stage) else {
            throw RefineryError(.output, "made with other dedup parameters (bands, rows, shingle, seed or normalisation) than this spec's")
        }
        let start = count
        lsh.reserveCapacity(records: start + file.records)
        exact.reserveCapacity(start + file.records)
        let bands = stage.hasher.bands
        for record in 0..<file.records {
            let ordinal = start + record
            if stage.exact, exact[file.exact[record]] == nil { exact[file.exact[record]] = Int32(ordinal) }
            if stage.near, file.hasBands(record) {
                for band in 0..<bands { scratch[band] = UInt64(file.bands[record * bands + band]) }
                lsh.insertOrMatch(ordinal: ordinal, bands: scratch, into: &candidates)
            }
        }
        sketches += file.sketches
        for id in file.ids {
            idBytes += id.utf8
            idEnds.append(UInt32(idBytes.count))
        }
        segments.append(Segment(version: file.version, records: file.records, start: start))
    }

    /// Bytes the loaded index holds (LSH tables, exact hashes, sketches, ids), for the run's statistics.
    public var memoryBytes: Int {
        lsh.memoryBytes + exact.capacity * 16 + sketches.count + idBytes.count + idEnds.count * 4
    }

    /// The published record this one duplicates, if any: an exact match first, else the LSH candidate whose sketch
    /// agrees most (at least `threshold`; ties to the earliest published), never a record with the same id.
    public mutating func match(_ keys: DedupKeys, id: String) -> PublishedMatch? {
        keys.bands.withUnsafeBufferPointer { bands in
            keys.sketch.withUnsafeBufferPointer { sketch in match(exact: keys.exact, bands: bands, sketch: sketch, id: { id }) }
        }
    }

    /// ``match(_:id:)`` with the keys in place and the id made only when a published record is to be told from it.
    public mutating func match(exact hash: UInt64, bands: UnsafeBufferPointer<UInt64>, sketch: UnsafeBufferPointer<UInt8>,
                               id: () -> String) -> PublishedMatch? {
        if stage.exact, let ordinal = exact[hash].map(Int.init), self.id(ordinal) != id() {
            return PublishedMatch(id: self.id(ordinal), version: version(of: ordinal), jaccard: nil)
        }
        guard stage.near, !bands.isEmpty, count > 0 else { return nil }
        for band in 0..<bands.count { scratch[band] = UInt64(PublishedIndexFile.key(bands[band])) }
        var best: (ordinal: Int, jaccard: Double)?
        for candidate in lsh.matches(bands: scratch) {
            let similarity = estimatedJaccard(sketch, candidate)
            if similarity >= stage.threshold && similarity > (best?.jaccard ?? -1) && self.id(candidate) != id() {
                best = (candidate, similarity)
            }
        }
        guard let best else { return nil }
        return PublishedMatch(id: self.id(best.ordinal), version: version(of: best.ordinal), jaccard: best.jaccard)
    }

    /// Jaccard similarity from a record's one-byte sketch and a published 2-bit one: the share of equal low two
    /// bits, corrected for the 1/4 of chance agreements.
    func estimatedJaccard(_ sketch: UnsafeBufferPointer<UInt8>, _ ordinal: Int) -> Double {
        let width = PublishedIndexFile.sketchBytes(permutations: sketch.count)
        let base = ordinal * width
        var equal = 0
        for (k, byte) in sketch.enumerated() {
            let packed = sketches[base + k >> 2] >> UInt8((k & 3) * 2) & 3
            if byte & 3 == packed { equal += 1 }
        }
        let share = Double(equal) / Double(sketch.count)
        return max(0, (share - 0.25) / 0.75)
    }

    private func id(_ ordinal: Int) -> String {
        let start = ordinal == 0 ? 0 : Int(idEnds[ordinal - 1])
        return String(decoding: idBytes[start..<Int(idEnds[ordinal])], as: UTF8.self)
    }

    private func version(of ordinal: Int) -> String {
        segments.last { $0.start <= ordinal }?.version ?? ""
    }
}

/// A record of an earlier version that a new record duplicates.
public struct PublishedMatch: Sendable, Equatable {
    /// The published record's id.
    public var id: String
    /// The version that published it.
    public var version: String
    /// Estimated Jaccard similarity; `nil` for the same normalised text.
    public var jaccard: Double?

    public init(id: String, version: String, jaccard: Double?) {
        self.id = id
        self.version = version
        self.jaccard = jaccard
    }
}

/// One segment of the published index: what one dataset version published, in one file.
///
/// Layout (little-endian): the 8-byte magic `RFNDXv01`; the header (dataset and version as u32 length + UTF-8, the
/// dedup parameters' hash u64, records u64, bands u32, permutations u32); the exact hashes (u64 each); the band hashes'
/// low 32 bits (`bands` u32 a record; a record without shingles has all ones, see ``hasBands(_:)``); the sketches
/// (two bits a permutation, ``sketchBytes(permutations:)`` a record); the ids (u32 length of a zstd frame holding
/// u32 length + UTF-8 per id); and an XXH3-64 of everything before it, so damage is caught when it is read.
public struct PublishedIndexFile: Sendable {
    static let magic: [UInt8] = Array("RFNDXv01".utf8)
    /// Marks a record without band hashes (no shingles; matched by its exact hash only).
    static let noBands: UInt32 = .max
    /// The zstd level of the ids' frame: 3, as the ids are a fiftieth of the file and a run encodes its segment on one
    /// core after the map. On the 1 GB benchmark corpus's 670,000 kept ids (26 MB), level 9 took 0.26 s for 1.18 MB,
    /// level 3 0.03 s for 1.63 MB (`zstd -b`), in a 63 MB segment.
    static let idsLevel: Int32 = 3

    public var dataset: String
    public var version: String
    public var parameters: UInt64
    public var records: Int { exact.count }
    public var bands: [UInt32]
    public var bandCount: Int
    public var permutations: Int
    public var exact: [UInt64]
    public var sketches: [UInt8]
    public var ids: [String]

    /// The 32 bits of a band hash a segment keeps: its low half (all ones moved to all ones but one, which marks
    /// a record without bands).
    public static func key(_ band: UInt64) -> UInt32 {
        let low = UInt32(truncatingIfNeeded: band)
        return low == noBands ? noBands - 1 : low
    }

    /// Bytes of one record's 2-bit sketch.
    public static func sketchBytes(permutations: Int) -> Int { (permutations + 3) / 4 }

    /// A hash of every dedup parameter the keys depend on: segments made with other parameters are not comparable.
    public static func parameters(of stage: DedupStage) -> UInt64 {
        let n = stage.normalization
        let text = "bands=\(stage.hasher.bands) rows=\(stage.hasher.rows) seed=\(stage.hasher.seed) shingle=\(stage.shingle) "
            + "lowercase=\(n.lowercase) whitespace=\(n.collapseWhitespace) punctuation=\(n.stripPunctuation) digits=\(n.digitsToZero)"
        return XXH3.hash(text)
    }

    /// An empty segment for a version, to fill with ``append(_:id:)``.
    public init(dataset: String, version: String, stage: DedupStage) {
        self.dataset = dataset
        self.version = version
        parameters = Self.parameters(of: stage)
        bandCount = stage.hasher.bands
        permutations = stage.hasher.permutations
        bands = []
        exact = []
        sketches = []
        ids = []
    }

    /// Adds a published record.
    public mutating func append(_ keys: DedupKeys, id: String) {
        keys.bands.withUnsafeBufferPointer { bands in
            keys.sketch.withUnsafeBufferPointer { sketch in append(exact: keys.exact, bands: bands, sketch: sketch, id: id) }
        }
    }

    /// ``append(_:id:)`` with the keys in place.
    public mutating func append(exact hash: UInt64, bands hashes: UnsafeBufferPointer<UInt64>, sketch: UnsafeBufferPointer<UInt8>, id: String) {
        exact.append(hash)
        if hashes.count == bandCount {
            bands.append(contentsOf: hashes.lazy.map(Self.key))
        } else {
            bands.append(contentsOf: repeatElement(Self.noBands, count: bandCount))
        }
        // The sketch's bytes two bits each, four to a byte, straight onto the end of the sketches.
        let start = sketches.count
        sketches.append(contentsOf: repeatElement(0, count: Self.sketchBytes(permutations: permutations)))
        if sketch.count == permutations {
            for (k, byte) in sketch.enumerated() { sketches[start + (k >> 2)] |= (byte & 3) << UInt8((k & 3) * 2) }
        }
        ids.append(id)
    }

    /// Whether a record has band hashes.
    public func hasBands(_ record: Int) -> Bool { bands[record * bandCount] != Self.noBands }

    /// The file's bytes.
    public func encoded() throws -> [UInt8] {
        var out = Self.magic
        func u32(_ value: Int) { withUnsafeBytes(of: UInt32(value).littleEndian) { out += $0 } }
        func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { out += $0 } }
        func string(_ value: String) { u32(value.utf8.count); out += value.utf8 }
        string(dataset)
        string(version)
        u64(parameters)
        u64(UInt64(records))
        u32(bandCount)
        u32(permutations)
        out.reserveCapacity(out.count + records * (8 + 4 * bandCount + Self.sketchBytes(permutations: permutations) + 8))
        // Whole arrays at once, as their bytes are little-endian already (on a big-endian machine, value by value).
        if UInt32(1).littleEndian == 1 {
            exact.withUnsafeBytes { out += $0 }
            bands.withUnsafeBytes { out += $0 }
        } else {
            for value in exact { u64(value) }
            for value in bands { u32(Int(value)) }
        }
        out += sketches
        var idList: [UInt8] = []
        idList.reserveCapacity(ids.reduce(0) { $0 + 4 + $1.utf8.count })
        for id in ids {
            withUnsafeBytes(of: UInt32(id.utf8.count).littleEndian) { idList += $0 }
            idList += id.utf8
        }
        var frame: [UInt8] = []
        try ZstdCompressor(level: Self.idsLevel).compressFrame(idList, into: &frame)
        u32(frame.count)
        out += frame
        u64(XXH3.hash(out))
        return out
    }

    /// Reads a segment.
    /// - Throws: ``RefineryError`` (code `output`) naming what is wrong when the bytes are not a whole segment.
    public init(decoding bytes: [UInt8]) throws {
        func damaged(_ what: String) -> RefineryError { RefineryError(.output, "not a Refinery dedup index segment, or a damaged one: \(what)") }
        guard bytes.count >= Self.magic.count + 8, Array(bytes.prefix(Self.magic.count)) == Self.magic else { throw damaged("bad magic") }
        let body = bytes.count - 8
        let stored = bytes[body...].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
        guard bytes.withUnsafeBytes({ XXH3.hash(UnsafeRawBufferPointer(rebasing: $0[..<body])) }) == stored else { throw damaged("checksum mismatch") }
        var at = Self.magic.count
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, at + n <= body else { throw damaged("truncated at byte \(at)") }
            defer { at += n }
            return bytes[at..<(at + n)]
        }
        func u32() throws -> Int { Int(try take(4).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }.littleEndian) }
        func u64() throws -> UInt64 { try take(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian }
        func string() throws -> String { String(decoding: try take(try u32()), as: UTF8.self) }
        let dataset = try string()
        let version = try string()
        let parameters = try u64()
        let records = Int(try u64())
        let bandCount = try u32()
        let permutations = try u32()
        guard records < body, bandCount > 0, permutations > 0 else { throw damaged("impossible header") }
        let exact = try take(records * 8).withUnsafeBytes { raw in
            (0..<records).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self).littleEndian }
        }
        let bands = try take(records * bandCount * 4).withUnsafeBytes { raw in
            (0..<(records * bandCount)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian }
        }
        let sketches = Array(try take(records * Self.sketchBytes(permutations: permutations)))
        let idList = try ZstdDecompressor.decompressAll(Array(try take(try u32())))
        guard at == body else { throw damaged("\(body - at) unexpected bytes before the checksum") }
        var ids: [String] = []
        ids.reserveCapacity(records)
        var position = 0
        while position + 4 <= idList.count {
            let length = Int(idList[position..<(position + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }.littleEndian)
            position += 4
            guard position + length <= idList.count else { throw damaged("truncated id list") }
            ids.append(String(decoding: idList[position..<(position + length)], as: UTF8.self))
            position += length
        }
        guard ids.count == records, position == idList.count else { throw damaged("\(ids.count) ids for \(records) records") }
        (self.dataset, self.version, self.parameters, self.bandCount, self.permutations) = (dataset, version, parameters, bandCount, permutations)
        (self.exact, self.bands, self.sketches, self.ids) = (exact, bands, sketches, ids)
    }
}
