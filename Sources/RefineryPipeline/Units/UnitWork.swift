import RefineryReaders
import RefineryRecords

/// What the reader hands the workers, in order: a batch to process, the end of a fresh unit, or a committed
/// unit to load instead of reading it again.
enum UnitWork: Sendable {
    case batch(Batch)
    case end(UnitEnd)
    case replay(CommittedUnit, firstBatch: Int, sourceIndex: Int)
}

/// What the consumer gets back, in the same order.
enum UnitResult: Sendable {
    case batch(BatchOutput)
    case end(UnitEnd)
    case replayed([BatchOutput], UnitEnd)
    case failed(RefineryError)

    /// Does one piece of work on a worker thread.
    static func make(_ work: UnitWork, processor: Result<BatchProcessor, any Error>) -> UnitResult {
        switch work {
        case .batch(let batch):
            switch processor {
            case .success(let processor): return .batch(processor.process(batch))
            case .failure(let error): return .failed(RefineryError(.internal, "cannot start a worker: \(error)"))
            }
        case .end(let end):
            return .end(end)
        case .replay(let unit, let firstBatch, let sourceIndex):
            do {
                let (outputs, end) = try UnitStore.load(unit, firstBatch: firstBatch, sourceIndex: sourceIndex)
                return .replayed(outputs, end)
            } catch let error as RefineryError {
                return .failed(error)
            } catch {
                return .failed(RefineryError(.internal, "\(error)"))
            }
        }
    }
}

/// A unit an earlier run committed: its file, the XXH3 the catalog recorded for it, and the batches it holds.
struct CommittedUnit: Sendable {
    var file: String
    var fileXXH3: String
    var batches: Int
}
