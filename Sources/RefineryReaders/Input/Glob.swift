import Foundation
import RefineryRecords
#if canImport(Glibc)
import Glibc
#endif

/// Expands file globs: `*`, `?` and `[...]` within one path part (fnmatch), `**` across folders.
/// Results are sorted by path bytes, so the reading order is the same on every machine.
public enum Glob {
    /// A match: the absolute path and the path relative to the glob's fixed leading folder.
    public struct Match: Sendable, Hashable {
        public var path: String
        public var relativePath: String
    }

    /// Every regular file matching `pattern`, which is absolute.
    public static func expand(_ pattern: String) -> [Match] {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var fixed: [String] = []
        for part in parts {
            if part.contains(where: { "*?[".contains($0) }) { break }
            fixed.append(part)
        }
        let rest = Array(parts[fixed.count...])
        let root = "/" + fixed.joined(separator: "/")
        if rest.isEmpty {
            // No wildcard: the pattern names one file.
            var info = stat()
            guard stat(root, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return [] }
            let name = fixed.last ?? root
            return [Match(path: root, relativePath: name)]
        }
        var results: [Match] = []
        walk(directory: root, relative: "", pattern: rest[...], into: &results)
        // `**/**` can reach a file along several paths: keep each once.
        var seen: Set<String> = []
        return results.filter { seen.insert($0.path).inserted }.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    private static func walk(directory: String, relative: String, pattern: ArraySlice<String>, into results: inout [Match]) {
        guard let head = pattern.first else { return }
        let tail = pattern.dropFirst()
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        if head == "**" {
            // Zero folders...
            walk(directory: directory, relative: relative, pattern: tail, into: &results)
            // ...or one more, then ** again.
            for entry in entries where !entry.hasPrefix(".") {
                let path = directory + "/" + entry
                if isDirectory(path) {
                    walk(directory: path, relative: join(relative, entry), pattern: pattern, into: &results)
                }
            }
            return
        }
        for entry in entries where fnmatch(head, entry, FNM_PERIOD) == 0 {
            let path = directory == "/" ? "/" + entry : directory + "/" + entry
            if tail.isEmpty {
                if isRegularFile(path) { results.append(Match(path: path, relativePath: join(relative, entry))) }
            } else if isDirectory(path) {
                walk(directory: path, relative: join(relative, entry), pattern: tail, into: &results)
            }
        }
    }

    private static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : a + "/" + b }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
