import Foundation

/// Linear warm-up to the peak rate, then cosine decay to the floor at the last step.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public var peak: Double
    public var floor: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Double, floor: Double, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak
        self.floor = floor
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The rate for update number `step` (0-based).
    public func rate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps - 1)
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        return floor + (peak - floor) * 0.5 * (1 + Foundation.cos(.pi * progress))
    }
}
