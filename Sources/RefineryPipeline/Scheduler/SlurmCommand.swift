import Foundation
import RefineryRecords

/// Runs Slurm's client commands (`sbatch`, `squeue`, `scontrol`, `scancel`) as child processes; they find the
/// cluster the usual way (`SLURM_CONF`, or `/etc/slurm/slurm.conf`).
enum SlurmCommand {
    /// Runs `name arguments…` from `PATH`; returns its standard output.
    /// - Throws: ``RefineryError`` (code `usage`) when the command is missing or exits non-zero, with its stderr.
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        guard let path = which(name) else {
            throw RefineryError(.usage, "`\(name)` is not on PATH: --executor slurm needs Slurm's client commands (Debian: apt-get install slurm-client)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both pipes before waiting: a full pipe would block the child.
        nonisolated(unsafe) var errorText = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorText = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let text = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errorText, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw RefineryError(.usage, "`\(name) \(arguments.joined(separator: " "))` failed (exit \(process.terminationStatus)): \(message)")
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The first executable called `name` on `PATH`.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The job id `sbatch --parsable` printed (`123`, or `123;cluster`).
    static func jobID(fromParsable output: String) throws -> String {
        let id = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw RefineryError(.internal, "sbatch printed no job id: '\(output)'")
        }
        return id
    }

    /// The state of every task of the given jobs that Slurm still knows: `squeue` for queued and running jobs,
    /// then `scontrol show job` for those that ended (kept for `MinJobAge`). Keys: `123` for a job, `123_4` for an
    /// array task; values: `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`…, with the pending reason.
    /// - Throws: ``RefineryError`` when `scontrol` fails for another reason than a job Slurm forgot (the
    ///   controller is unreachable): a caller deciding whether a job still runs must not guess.
    static func states(of jobs: [String]) throws -> [String: JobState] {
        var states: [String: JobState] = [:]
        for job in jobs {
            // scontrol lists each array task of a job on its own line (-o), pending ones as one line `123_[1-3]`;
            // SLURM_BITSTR_LEN=0 keeps long task lists whole (they are cut at 64 characters by default).
            let text: String
            do {
                text = try run("scontrol", ["show", "job", "-o", job], environment: ["SLURM_BITSTR_LEN": "0"])
            } catch let error as RefineryError where error.message.contains("Invalid job id") {
                continue
            }
            for line in text.split(separator: "\n") {
                var fields: [String: String] = [:]
                for pair in line.split(separator: " ") {
                    guard let equals = pair.firstIndex(of: "=") else { continue }
                    fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
                }
                guard let id = fields["JobId"], let state = fields["JobState"] else { continue }
                let reason = fields["Reason"].flatMap { $0 == "None" ? nil : $0 }
                let exit = fields["ExitCode"]
                let pending = ArraySpec.indexes(fields["ArrayTaskId"] ?? "")
                if let arrayJob = fields["ArrayJobId"], let tasks = fields["ArrayTaskId"], pending.isEmpty {
                    throw RefineryError(.internal, "cannot read the array task list '\(tasks)' of job \(arrayJob) in scontrol's output")
                }
                if let arrayJob = fields["ArrayJobId"], !pending.isEmpty {
                    for index in pending { states["\(arrayJob)_\(index)"] = JobState(state: state, reason: reason, exitCode: exit) }
                } else {
                    states[id] = JobState(state: state, reason: reason, exitCode: exit)
                }
            }
        }
        return states
    }

    /// A job's (or an array task's) state as Slurm reports it.
    struct JobState: Equatable {
        var state: String
        var reason: String?
        var exitCode: String?

        /// Queued or running: it may still finish.
        var isActive: Bool {
            ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING",
             "STOPPED", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD", "SPECIAL_EXIT"].contains(state)
        }
        /// Ended without success; a job waiting on it with `afterok` never starts.
        var isFailed: Bool { !isActive && state != "COMPLETED" }
    }
}

/// Slurm's array index lists: `0-3`, `1,3,5-7`, `0-9:2`, with an optional `%limit`.
public enum ArraySpec {
    /// The indexes a list names (empty when it does not parse).
    static func indexes(_ text: String) -> [Int] {
        let body = text.split(separator: "%").first.map(String.init) ?? ""
        var result: [Int] = []
        for part in body.split(separator: ",") {
            let stepParts = part.split(separator: ":")
            let step = stepParts.count > 1 ? Int(stepParts[1]) ?? 0 : 1
            guard let range = stepParts.first else { return [] }
            let bounds = range.split(separator: "-")
            guard let first = bounds.first, let low = Int(first) else { return [] }
            let high = bounds.count > 1 ? Int(bounds[1]) ?? low : low
            guard step > 0, high >= low else { return [] }
            result.append(contentsOf: stride(from: low, through: high, by: step))
        }
        return result
    }

    /// The shortest list naming `indexes` (sorted, distinct): runs of three or more as `a-b`.
    public static func text(_ indexes: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < indexes.count {
            var j = i
            while j + 1 < indexes.count && indexes[j + 1] == indexes[j] + 1 { j += 1 }
            if j - i >= 2 {
                parts.append("\(indexes[i])-\(indexes[j])")
            } else {
                parts.append(contentsOf: indexes[i...j].map(String.init))
            }
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
