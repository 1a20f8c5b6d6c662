// dedup-bench [--rounds N] [--only PHASE,...] [--index-records N] FILE...: times the deduplication kernels on the
// calling thread (pin it with taskset) over the records of FILEs, held in memory: `.jsonl` lines with `text` or
// `messages` (tools/bench/gen_corpus.py writes them), any other file as plain text cut at blank lines into records of
// about 2 KB.
// Phases, each timed alone, fastest of N rounds (default 5), MB/s of record text (UTF-8 bytes) per second of the
// thread's CPU time (so that other load on a shared machine does not count):
//   view          TextView (words, lines, paragraphs) — shared with the other stages, not part of dedup
//   exact         DedupText.exactHash: normalisation + XXH3 of the normalised text
//   shingles      DedupText.withShingles: normalisation + XXH3 per word + 5-word shingle hashes
//   sig.KERNEL    MinHasher signature of precomputed shingles, for each kernel this CPU can run (scalar: the Swift
//                 reference; portable, avx2, avx512: CRefineryMinHash), each checked against the first (MISMATCH)
//   fingerprint   DedupText.fingerprint from the view: exact hash + shingles + signature
//   keys          DedupStage.keys(of:view:) from a built view: fingerprint + band hashes + sketch, fresh buffers per
//                 record (the call the engine makes)
//   keys.scratch  the same with a worker's reusable DedupStage.Scratch (keys(of:view:scratch:))
//   index         band hashes + LSHIndex.insertOrMatch + UnionFind, one record after another (the index thread)
// Also printed: the bytes of one record's keys (DedupKeys inline, band hashes and sketch on the heap) and of the index.
// `--index-records N` also fills an index with N records of random band hashes, for its time and bytes per record
// at scale.
// Prints one JSON object on stdout; a table on stderr. `--only` times just the named phases (the others run once, for
// the inputs of later phases); use it under a profiler.
// Build: swift build -c release --product dedup-bench. The signature kernel is chosen at run time from the CPU
// (REFINERY_MINHASH_KERNEL=portable|avx2|avx512|scalar picks another for the fingerprint and keys phases); no
// -target-cpu flag is needed. MinHasher+Signature.swift has the numbers, tools/bench/README.md how to reproduce them.
import Foundation
import RefineryRecords
@_spi(Benchmarks) import RefineryStages

var arguments = Array(CommandLine.arguments.dropFirst())
var rounds = 5
if let at = arguments.firstIndex(of: "--rounds"), at + 1 < arguments.count {
    rounds = Int(arguments[at + 1]) ?? 5
    arguments.removeSubrange(at...(at + 1))
}
var syntheticRecords = 0
if let at = arguments.firstIndex(of: "--index-records"), at + 1 < arguments.count {
    syntheticRecords = Int(arguments[at + 1]) ?? 0
    arguments.removeSubrange(at...(at + 1))
}
var only: Set<String>?
if let at = arguments.firstIndex(of: "--only"), at + 1 < arguments.count {
    only = Set(arguments[at + 1].split(separator: ",").map(String.init))
    arguments.removeSubrange(at...(at + 1))
}
guard !arguments.isEmpty else {
    FileHandle.standardError.write(
        Data("usage: dedup-bench [--rounds N] [--only PHASE,...] [--index-records N] FILE...\n".utf8))
    exit(64)
}

/// The records of one file.
func records(_ path: String) throws -> [String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    if path.hasSuffix(".jsonl") {
        var texts: [String] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
            if let text = object["text"] as? String {
                texts.append(text)
            } else if let messages = object["messages"] as? [[String: Any]] {
                let turns = messages.compactMap { $0["content"] as? String }
                if turns.count == messages.count { texts.append(turns.joined(separator: "\n\n")) }
            }
        }
        return texts
    }
    let text = String(decoding: data, as: UTF8.self)
    var texts: [String] = []
    var current = ""
    for paragraph in text.components(separatedBy: "\n\n") {
        current += current.isEmpty ? paragraph : "\n\n" + paragraph
        if current.utf8.count >= 2000 {
            texts.append(current)
            current = ""
        }
    }
    if !current.isEmpty { texts.append(current) }
    return texts
}

let texts = try arguments.flatMap(records)
let totalBytes = texts.reduce(0) { $0 + $1.utf8.count }
let megabytes = Double(totalBytes) / 1e6
FileHandle.standardError.write(
    Data("dedup-bench: \(texts.count) records, \(String(format: "%.1f", megabytes)) MB, \(rounds) rounds\n".utf8))

/// This thread's CPU time in seconds: on a shared machine, time spent waiting for the core does not count.
func threadSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// The fastest of `rounds` runs of `body` in thread CPU seconds; `body` returns a checksum so that its work is not
/// optimised away.
@MainActor func time(_ name: String, _ body: () -> Int) -> (seconds: Double, check: Int) {
    if let only, !only.contains(name) {
        let check = body()
        return (0, check)
    }
    var best = Double.infinity
    var check = 0
    for _ in 0..<rounds {
        let start = threadSeconds()
        check = body()
        best = min(best, threadSeconds() - start)
    }
    return (best, check)
}

var results: [(String, Double)] = []
@MainActor func report(_ name: String, _ seconds: Double) {
    if let only, !only.contains(name) { return }
    results.append((name, megabytes / seconds))
    let line = "  " + name.padding(toLength: 28, withPad: " ", startingAt: 0)
        + String(format: "%9.1f MB/s  %8.3f s\n", megabytes / seconds, seconds)
    FileHandle.standardError.write(Data(line.utf8))
}

var views: [TextView] = []
report("view", time("view") {
    views = texts.map(TextView.init)
    return views.count
}.seconds)

var dedup = DedupText()
report("exact", time("exact") {
    var x = 0
    for view in views { x ^= Int(truncatingIfNeeded: dedup.exactHash(view)) }
    return x
}.seconds)

report("shingles", time("shingles") {
    var x = 0
    for view in views { x &+= dedup.withShingles(view) { $0.count } }
    return x
}.seconds)

let shingles = views.map { dedup.shingles($0) }
let shingleCount = shingles.reduce(0) { $0 + $1.count }
let bytesPerShingle = String(format: "%.2f", Double(totalBytes) / Double(max(shingleCount, 1)))
FileHandle.standardError.write(Data("  (\(shingleCount) shingles, \(bytesPerShingle) bytes of text per shingle)\n".utf8))

let hasher = MinHasher(seed: 42)
var signature: [UInt32] = []
var reference: [[UInt32]] = []
for kernel in MinHasher.SignatureKernel.available {
    var signatures: [[UInt32]] = []
    let (seconds, _) = time("sig.\(kernel.rawValue)") {
        signatures.removeAll(keepingCapacity: true)
        for set in shingles {
            set.withUnsafeBufferPointer { hasher.signature(of: $0, into: &signature, kernel: kernel) }
            signatures.append(signature)
        }
        return signatures.count
    }
    if reference.isEmpty { reference = signatures }
    if signatures != reference { FileHandle.standardError.write(Data("  MISMATCH: \(kernel) differs from scalar\n".utf8)) }
    report("sig.\(kernel.rawValue)", seconds)
}

report("fingerprint", time("fingerprint") {
    var x = 0
    for view in views {
        let (exact, _) = dedup.fingerprint(view, using: hasher, into: &signature)
        x ^= Int(truncatingIfNeeded: exact)
    }
    return x
}.seconds)

// The worker's call, as the engine makes it: DedupStage.keys(of:view:) with the record's view already built by an
// earlier stage; the keys of the last round are kept to weigh what one record carries to the index.
let stage = DedupStage()
let recordsForKeys = texts.enumerated().map { Record(id: "r\($0.offset)", source: "bench", text: $0.element, location: SourceLocation(file: "bench")) }
let recordViews = recordsForKeys.map { record -> RecordView in
    var view = RecordView()
    _ = view.text(of: record)
    return view
}
var lastKeys: [DedupKeys?] = []
report("keys", time("keys") {
    lastKeys.removeAll(keepingCapacity: true)
    var x = 0
    for (ordinal, record) in recordsForKeys.enumerated() {
        var view = recordViews[ordinal]
        let keys = stage.keys(of: record, view: &view)
        x ^= Int(truncatingIfNeeded: keys?.exact ?? 0)
        lastKeys.append(keys)
    }
    return x
}.seconds)
var scratch = stage.makeScratch()
report("keys.scratch", time("keys.scratch") {
    lastKeys.removeAll(keepingCapacity: true)
    var x = 0
    for (ordinal, record) in recordsForKeys.enumerated() {
        var view = recordViews[ordinal]
        let keys = stage.keys(of: record, view: &view, scratch: &scratch)
        x ^= Int(truncatingIfNeeded: keys?.exact ?? 0)
        lastKeys.append(keys)
    }
    return x
}.seconds)

// What one record's keys weigh: the inline value (in the spill entry) and the heap blocks of its two arrays.
let withKeys = lastKeys.compactMap { $0 }.filter { !$0.bands.isEmpty }
/// Heap bytes of an array's storage: a 32-byte header (on 64-bit platforms) and its capacity (malloc may round up).
func heapBytes<Element>(_ array: [Element]) -> Int {
    array.capacity == 0 ? 0 : 32 + array.capacity * MemoryLayout<Element>.stride
}
let bandsBytes = Double(withKeys.reduce(0) { $0 + heapBytes($1.bands) }) / Double(max(withKeys.count, 1))
let sketchBytes = Double(withKeys.reduce(0) { $0 + heapBytes($1.sketch) }) / Double(max(withKeys.count, 1))
let keysLine = String(format: "  keys: %d B inline (DedupKeys?), bands %.0f B and sketch %.0f B on the heap (header + capacity)\n",
                      MemoryLayout<DedupKeys?>.size, bandsBytes, sketchBytes)
FileHandle.standardError.write(Data(keysLine.utf8))

var index = LSHIndex()
var clusters = UnionFind()
var duplicates = 0
let indexSeconds = time("index") {
    index = LSHIndex()
    clusters = UnionFind()
    duplicates = 0
    var matches: [Int] = []
    var bands: [UInt64] = []
    for (ordinal, signature) in reference.enumerated() {
        hasher.bandHashes(signature, into: &bands)
        index.insertOrMatch(ordinal: ordinal, bands: bands, into: &matches)
        clusters.extend(to: ordinal + 1)
        for match in matches { clusters.union(match, ordinal) }
        if !matches.isEmpty { duplicates += 1 }
    }
    return duplicates
}.seconds
report("index", indexSeconds)
let indexLine = String(format: "  index: %d records, %.2f µs a record, %d entries, %.1f bytes/record, %d with a candidate\n",
                       index.count, indexSeconds * 1e6 / Double(max(index.count, 1)), index.entries,
                       index.bytesPerRecord, duplicates)
FileHandle.standardError.write(Data(indexLine.utf8))

// The index at scale: `syntheticRecords` records of random band hashes (all unique: the most entries per record).
var syntheticBytesPerRecord = 0.0
if syntheticRecords > 0 {
    var state: UInt64 = 1
    var big = LSHIndex()
    var matches: [Int] = []
    var bands = [UInt64](repeating: 0, count: 14)
    let start = threadSeconds()
    for ordinal in 0..<syntheticRecords {
        for band in 0..<14 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bands[band] = state ^ (state >> 29)
        }
        big.insertOrMatch(ordinal: ordinal, bands: bands, into: &matches)
    }
    let seconds = threadSeconds() - start
    syntheticBytesPerRecord = big.bytesPerRecord
    let line = String(format: "  index at scale: %d unique records, %.2f µs a record, %.1f bytes/record (%.0f MB)\n",
                      syntheticRecords, seconds * 1e6 / Double(syntheticRecords), big.bytesPerRecord,
                      Double(big.memoryBytes) / 1e6)
    FileHandle.standardError.write(Data(line.utf8))
}

var json = "{\"records\": \(texts.count), \"megabytes\": \(megabytes), \"shingles\": \(shingleCount)"
for (name, rate) in results { json += ", \"\(name)\": \(String(format: "%.1f", rate))" }
json += ", \"keys_inline_bytes\": \(MemoryLayout<DedupKeys?>.size), \"keys_bands_heap_bytes\": \(bandsBytes)"
json += ", \"keys_sketch_heap_bytes\": \(sketchBytes)"
json += ", \"index_bytes_per_record\": \(String(format: "%.1f", index.bytesPerRecord))"
json += ", \"synthetic_index_bytes_per_record\": \(String(format: "%.1f", syntheticBytesPerRecord))}"
print(json)
