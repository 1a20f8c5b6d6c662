import Foundation
import RefineryShards

/// How to run a plan on this machine. None of these change the output.
public struct RunOptions: Sendable {
    /// Worker threads for decoding, stages and compression; default: every core.
    public var workers: Int
    /// Replace a dataset folder that already holds a manifest.
    public var force: Bool
    /// Where files are written; tests inject failures here.
    public var fileSystem: any OutputFileSystem

    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount, force: Bool = false,
                fileSystem: any OutputFileSystem = POSIXFileSystem()) {
        self.workers = max(1, workers)
        self.force = force
        self.fileSystem = fileSystem
    }
}
