import Foundation
import RefineryCatalog
import RefineryRecords

extension Engine {
    /// What a task of the map or dedup phase starts from.
    struct TaskStart {
        /// The task's own lock: two copies of one task never run at once. Released by the caller.
        var lock: RunLock
        /// The plan as the submitter made it: incremental when there is a catalog, checked against `--expect-version`.
        var plan: RunPlan
        /// The catalog, read-only, when it exists (a task never writes it).
        var catalog: Catalog?
    }

    /// Takes the lock of `phase` task `task` of `count` (`<dataset>.<phase>-I-of-N`) and makes the task's plan.
    /// - Throws: ``RefineryError``: the same task is running (code `busy`), the plan gives another version than the
    ///   pinned one (code `resume`), the catalog cannot be read.
    func startTask(_ phase: String, task: Int, of count: Int) throws -> TaskStart {
        let lock = try RunLock.acquire(catalogPath: plan.spec.catalogPath, dataset: "\(plan.spec.output.dataset).\(phase)-\(task)-of-\(count)") { nil }
        do {
            var plan = self.plan
            let catalog = FileManager.default.fileExists(atPath: plan.spec.catalogPath) ? try Catalog.openReadOnly(path: plan.spec.catalogPath) : nil
            if let catalog { plan = try RunSession.incrementalPlan(plan, catalog: catalog, full: options.full) }
            try RunSession.checkExpectedVersion(plan, options)
            return TaskStart(lock: lock, plan: plan, catalog: catalog)
        } catch {
            lock.release()
            throw error
        }
    }
}
