import RefineryRecords
import RefinerySpec

/// The stages a spec can name. Adding a stage: one folder with the stage, one line here.
public enum StageRegistry {
    /// Stage name → constructor from the stage's parameters node.
    public static let stages: [(name: String, make: @Sendable (SpecNode) throws -> any Stage)] = [
        ("validate", { try ValidateStage(parameters: $0) }),
        ("lang", { try LanguageStage(parameters: $0) }),
        ("pii", { try PIIStage(parameters: $0) }),
        ("quality", { try QualityStage(parameters: $0) }),
        ("toxicity", { try ToxicityStage(parameters: $0) }),
    ]

    /// Stages that run over the whole run rather than one record at a time; the engine builds them itself.
    public static let globalStages = ["dedup", "balance"]

    /// Builds the stages of a spec, in spec order.
    /// - Throws: ``RefineryError`` naming the line of an unknown stage or a bad parameter.
    public static func build(_ specs: [StageSpec]) throws -> [any Stage] {
        var seen: Set<String> = []
        return try specs.map { spec in
            guard let entry = stages.first(where: { $0.name == spec.name }) else {
                throw spec.node.error("unknown stage '\(spec.name)'; known stages: \((stages.map(\.name) + globalStages).joined(separator: ", "))")
            }
            guard seen.insert(spec.name).inserted else {
                throw spec.node.error("stage '\(spec.name)' appears twice")
            }
            return try entry.make(spec.parameters)
        }
    }
}
