import Foundation
import RefineryCatalog
import RefineryRecords
#if canImport(Glibc)
import Glibc
#endif

extension RefineryError.Code {
    /// Another run holds the dataset.
    public static let busy = RefineryError.Code("busy")
    /// Work committed by an interrupted run of another spec is in the way of this one.
    public static let resume = RefineryError.Code("resume")
}

/// One run at a time per dataset: an exclusive `flock(2)` on `<catalog folder>/.locks/<dataset>.lock`. The kernel
/// releases it when the process exits, however it exits, so a killed run never leaves it stuck.
final class RunLock {
    private let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Takes the dataset's lock without waiting.
    /// - Parameter holder: the run holding it, to name in the refusal (read from the catalog).
    /// - Throws: ``RefineryError`` (code `busy`) naming the running run when another process holds it.
    static func acquire(catalogPath: String, dataset: String, holder: () -> RunRecord?) throws -> RunLock {
        let folder = ((catalogPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent(".locks")
        let path = (folder as NSString).appendingPathComponent("\(dataset).lock")
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

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
