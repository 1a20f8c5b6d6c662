import Foundation
import RefineryShards
import RefinerySpec

/// Measures a dataset version's manifest against the spec's gates.
public enum GateEvaluator {
    /// Every declared gate's result: `min_records` (train, then validation), `max_drop_rate` (stages in run
    /// order), `max_share_change`, `min_validation_fraction`.
    /// - Parameters:
    ///   - candidate: the manifest of the version to promote.
    ///   - production: the current production version's manifest, when there is one (for `max_share_change`).
    ///   - productionLabel: how to name the production version in notes.
    public static func evaluate(_ gates: GatesSpec, candidate: Manifest, production: Manifest?, productionLabel: String? = nil) -> [GateResult] {
        var results: [GateResult] = []
        for (split, minimum) in gates.minRecords.sorted(by: { $0.key < $1.key }) {
            let records = candidate.splits[split]?.records ?? 0
            results.append(GateResult(gate: "min_records.\(split)", passed: records >= minimum, measured: "\(records) records",
                                      limit: "at least \(minimum)"))
        }
        if !gates.maxDropRate.isEmpty {
            let stages = candidate.stages.map(\.name)
            for stage in candidate.stages {
                guard let limit = gates.maxDropRate[stage.name] ?? gates.maxDropRate[GatesSpec.anyStage] else { continue }
                let dropped = stage.droppedTotal
                let rate = stage.recordsIn == 0 ? 0 : Double(dropped) / Double(stage.recordsIn)
                results.append(GateResult(gate: "max_drop_rate.\(stage.name)", passed: rate <= limit,
                                          measured: "\(percent(rate)) dropped (\(dropped) of \(stage.recordsIn))", limit: "at most \(percent(limit))"))
            }
            for stage in gates.maxDropRate.keys.sorted() where stage != GatesSpec.anyStage && !stages.contains(stage) {
                results.append(GateResult(gate: "max_drop_rate.\(stage)", passed: false, measured: "nothing",
                                          limit: "at most \(percent(gates.maxDropRate[stage] ?? 0))",
                                          note: "this version ran no stage '\(stage)'; its stages: \(stages.joined(separator: ", "))"))
            }
        }
        if let limit = gates.maxShareChange {
            results.append(shareChange(candidate: candidate, production: production, productionLabel: productionLabel, limit: limit))
        }
        if let minimum = gates.minValidationFraction {
            let validation = candidate.splits["validation"]?.records ?? 0
            let written = candidate.totals.written
            let fraction = written == 0 ? 0 : Double(validation) / Double(written)
            results.append(GateResult(gate: "min_validation_fraction", passed: fraction >= minimum,
                                      measured: "\(percent(fraction)) (\(validation) of \(written) written)", limit: "at least \(percent(minimum))"))
        }
        return results
    }

    /// The category whose share of written records moved most against production.
    private static func shareChange(candidate: Manifest, production: Manifest?, productionLabel: String?, limit: Double) -> GateResult {
        let gate = "max_share_change"
        let limitText = "at most \(points(limit))"
        guard let production else {
            return GateResult(gate: gate, passed: true, measured: "nothing to compare", limit: limitText,
                              note: "no production version yet, so this gate passes")
        }
        let now = shares(candidate), before = shares(production)
        let categories = Set(now.keys).union(before.keys).sorted()
        guard let worst = categories.max(by: { abs((now[$0] ?? 0) - (before[$0] ?? 0)) < abs((now[$1] ?? 0) - (before[$1] ?? 0)) }) else {
            return GateResult(gate: gate, passed: true, measured: "no categories", limit: limitText)
        }
        let (old, new) = (before[worst] ?? 0, now[worst] ?? 0)
        let change = abs(new - old)
        return GateResult(gate: gate, passed: change <= limit, measured: "\(points(change)) for category '\(worst)'", limit: limitText,
                          note: "\(percent(old)) in \(productionLabel ?? "production") → \(percent(new)) here")
    }

    /// Each category's share of the records written to train and validation.
    private static func shares(_ manifest: Manifest) -> [String: Double] {
        var counts: [String: Int] = [:]
        for split in ["train", "validation"] {
            counts.merge(manifest.splits[split]?.categories ?? [:], uniquingKeysWith: +)
        }
        let total = counts.values.reduce(0, +)
        guard total > 0 else { return [:] }
        return counts.mapValues { Double($0) / Double(total) }
    }

    private static func percent(_ fraction: Double) -> String { String(format: "%.1f %%", fraction * 100) }

    private static func points(_ fraction: Double) -> String { String(format: "%.1f points", fraction * 100) }
}
