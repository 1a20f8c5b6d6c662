import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Named points in a run where a test can freeze the process, to `kill -9` it exactly there rather than after a
/// guessed delay: with `REFINERY_STOP_AT=<point>` in the environment the process sends itself `SIGSTOP` on
/// reaching that point. Points: `unit:N` once N work units are committed in this run (`unit:0`: before the first
/// is read), `manifest` once the manifest is written and before the catalog records the version.
enum StopPoint {
    private static let requested = ProcessInfo.processInfo.environment["REFINERY_STOP_AT"]

    static func reached(_ point: String) {
        if requested == point { raise(SIGSTOP) }
    }
}
