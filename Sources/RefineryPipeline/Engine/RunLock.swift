import Foundation
import RefineryCatalog
import RefineryRecords
#if canImport(Glibc)
import Glibc
#endif

/// One writer at a time per dataset (a run, or `gc` deleting files): an exclusive `flock(2)` on
/// `<catalog folder>/.locks/<dataset>.lock`. The kernel releases it when the process exits, however it exits, so
/// a killed run never leaves it stuck.
public final class RunLock {
    private let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Takes the dataset's lock without waiting.
    /// - Parameter holder: the run holding it, to name in the refusal (read from the catalog).
    /// - Throws: ``RefineryError`` (code `busy`) naming the running run when another process holds it.
    public static func acquire(catalogPath: String, dataset: String, holder: () -> RunRecord?) throws -> RunLock {
        // The real path, so that a catalog reached through a symbolic link has the same lock.
        let catalogFolder = URL(fileURLWithPath: (catalogPath as NSString).deletingLastPathComponent).resolvingSymlinksInPath().path
        let folder = (catalogFolder as NSString).appendingPathComponent(".locks")
        let path = (folder as NSString).appendingPathComponent("\(fileName(dataset)).lock")
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RefineryError(.output, "cannot open the run lock: \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            let running = holder().map { "run \($0.id) (pid \($0.pid) on \($0.host), started \($0.startedAt), spec \($0.specPath))" }
                ?? "another refinery process"
            throw RefineryError(.busy, "dataset '\(dataset)' is being written by \(running); this run was refused. "
                + "Wait for it to finish (`refinery runs` shows it), or stop it: a killed run frees the lock at once and the next run resumes its work",
                at: SourceLocation(file: path))
        }
        return RunLock(descriptor: descriptor, path: path)
    }

    /// A dataset name as a file name: letters, digits, `-` and `_` as they are, anything else (`/`, `.`) as `%XX`.
    static func fileName(_ dataset: String) -> String {
        var name = ""
        for byte in dataset.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"):
                name.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                name += String(format: "%%%02X", byte)
            }
        }
        return name
    }

    public func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
