import Foundation
import Logging
import RefineryCatalog
import RefineryShards
import RefineryTraining

/// A training run's row in the catalog. Every catalog problem is logged as a warning and otherwise ignored:
/// recording never fails a training run.
struct TrainingRecording {
    let catalog: Catalog
    let id: Int64
    /// The run's output folder, whose checkpoints are recorded.
    let output: String
    let logger: Logger

    /// Records the start of a run in the configuration's `catalog:`, or in the catalog beside the first
    /// dataset that lists its version.
    /// - Returns: `nil` when there is no such catalog or it cannot be written (logged).
    static func start(_ config: TrainingConfig, configPath: String, logger: Logger) -> TrainingRecording? {
        do {
            let manifests = try config.datasets.map { try Manifest.read(directory: $0.path) }
            let labels = manifests.map { "\($0.dataset)@\($0.version)" }
            let found = try config.catalog.map { try Catalog.openExisting(path: $0) }
                ?? Catalog.locate(listing: manifests[0], in: config.datasets[0].path)
            guard let catalog = found else {
                logger.info("training run not recorded: no catalog lists dataset \(labels[0])")
                return nil
            }
            let start = Catalog.TrainingRunStart(datasets: labels, configPath: URL(fileURLWithPath: configPath).standardizedFileURL.path,
                                                 configHash: config.hash, outputDirectory: config.output)
            let id = try catalog.beginTrainingRun(start)
            logger.info("training run recorded", metadata: ["catalog.path": "\(catalog.path)", "training_run.id": "\(id)"])
            return TrainingRecording(catalog: catalog, id: id, output: config.output, logger: logger)
        } catch {
            logger.warning("training run not recorded: \(error)")
            return nil
        }
    }

    /// Records success with the final metrics and the checkpoints left in the output folder.
    /// - Parameter last: the last step's record, for its NLL.
    func succeeded(_ summary: Trainer.Summary, last: StepRecord?) {
        var metrics: [String: Double] = ["loss": summary.finalLoss, "steps": Double(summary.steps), "updates": Double(summary.updates),
                                         "tokens": Double(summary.tokens)]
        if let last { metrics["nll"] = last.nll }
        finish(.succeeded, error: nil, metrics: metrics)
    }

    /// Records failure with the error.
    func failed(_ error: any Error) {
        finish(.failed, error: "\(error)", metrics: nil)
    }

    private func finish(_ status: Catalog.RunStatus, error: String?, metrics: [String: Double]?) {
        let checkpoints = (try? Checkpoint.list(under: (output as NSString).appendingPathComponent("checkpoints")))?.map(\.directory) ?? []
        do {
            try catalog.finishTrainingRun(id, status: status, error: error, checkpoints: checkpoints, finalMetrics: metrics)
        } catch {
            logger.warning("training run \(id) not marked \(status.rawValue) in the catalog: \(error)", metadata: ["catalog.path": "\(catalog.path)"])
        }
    }
}
