import Foundation
import Synchronization
import RefineryCodecs
import RefineryRecords
import RefineryShards
import RefinerySpec

/// The repository root, found from this file's path.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fresh temporary folder, removed by the caller with `cleanup()`, and in any case when the test process exits (a
/// helper that hands back a folder's path cannot clean it up itself).
struct TemporaryFolder {
    let url: URL
    var path: String { url.path }

    init(_ name: String = "refinery-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        TemporaryFolder.made.withLock { made in
            if made.isEmpty { atexit { TemporaryFolder.made.withLock { $0.forEach { try? FileManager.default.removeItem(at: $0) } } } }
            made.append(url)
        }
    }

    /// Every folder made in this process, for the exit handler.
    private static let made = Mutex<[URL]>([])

    func cleanup() { try? FileManager.default.removeItem(at: url) }

    /// Writes a file (creating folders) and returns its path.
    @discardableResult
    func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: file)
        return file.path
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String { try write(relative, Array(text.utf8)) }
}

/// The JSON objects of shard (or reject) files of a dataset folder, line by line, in the order listed.
func shardObjects(_ entries: [ShardEntry], in dataset: String) throws -> [[(key: String, value: JSONValue)]] {
    try entries.flatMap { entry -> [[(key: String, value: JSONValue)]] in
        let bytes = try ZstdDecompressor.decompressAll(Array(try Data(contentsOf: URL(fileURLWithPath: dataset + "/" + entry.file))))
        return try bytes.split(separator: 0x0A).map { line in
            guard case .object(let members) = try JSONParser.parse(Array(line)).value else { throw RefineryError(.internal, "not an object") }
            return members
        }
    }
}

/// A string member of a JSON object, or nil.
func jsonString(_ object: [(key: String, value: JSONValue)], _ key: String) -> String? {
    if case .string(let text)? = object.first(where: { $0.key == key })?.value { return text }
    return nil
}

/// Every file under a folder (relative path → bytes), for byte-for-byte comparisons.
func folderContents(_ path: String, excluding: Set<String> = []) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let base = URL(fileURLWithPath: path)
    guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) else { return [:] }
    for case let url as URL in enumerator {
        guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true else { continue }
        let relative = String(url.standardizedFileURL.path.dropFirst(base.standardizedFileURL.path.count + 1))
        if excluding.contains(relative) { continue }
        result[relative] = try Data(contentsOf: url)
    }
    return result
}

