import Dispatch
import Foundation
import RefineryRecords
#if canImport(Glibc)
import Glibc
#endif

/// A stop asked for by a signal while a run writes its dataset: SIGTERM (a scheduler's time limit, `kill`) or SIGINT
/// (Ctrl-C). Killed outright, a run left the catalog saying `running` and the metrics file `running` until a later run
/// found it; caught, the first signal asks the run to stop at the next batch (``check()``), where it fails the way a
/// full disk does — no manifest, temporary files removed, committed units kept — and is recorded as interrupted. The
/// default action is restored at once, so a second signal ends the process where it is.
public enum RunStop {
    private static let state = Lock()
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    nonisolated(unsafe) private static var received: Int32 = 0

    /// The signals a run catches.
    static let signals: [Int32] = [SIGTERM, SIGINT]

    /// Catches ``signals`` until ``release()``.
    public static func catchSignals() {
        state.withLock {
            guard sources.isEmpty else { return }
            received = 0
            for number in signals {
                Glibc.signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    state.withLock { if received == 0 { received = number } }
                    Glibc.signal(number, SIG_DFL)
                }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Stops catching: the default actions again.
    public static func release() {
        state.withLock {
            for source in sources { source.cancel() }
            sources.removeAll()
            for number in signals { Glibc.signal(number, SIG_DFL) }
        }
    }

    /// The signal received since ``catchSignals()``, if one was.
    public static var receivedSignal: Int32? {
        state.withLock { received == 0 ? nil : received }
    }

    /// Throws ``RefineryError`` (code `stopped`) once a signal was received.
    static func check() throws {
        guard let number = receivedSignal else { return }
        throw RefineryError(.stopped, "stopped by \(name(number)) before the dataset was written; no manifest was written, "
            + "and the units committed so far stay: the same command resumes from them")
    }

    /// `SIGTERM`, `SIGINT`, or the number.
    public static func name(_ number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        default: "signal \(number)"
        }
    }

    /// A lock for the static state (the handlers run on Dispatch's threads).
    private final class Lock: @unchecked Sendable {
        private let lock = NSLock()
        func withLock<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }
    }
}
