/// What a dataset version must show before `refinery promote` makes it production: the spec's `gates:` key.
/// Every gate is optional.
///
/// ```yaml
/// gates:
///   min_records: {train: 80, validation: 5}   # per split
///   max_drop_rate: {quality: 0.2, "*": 0.5}   # dropped / records in, per stage; "*": every stage without its own
///   max_share_change: 0.10                    # change of any category's share of written records vs production
///   min_validation_fraction: 0.05             # validation records / written records
/// ```
public struct GatesSpec: Sendable, Equatable {
    /// The stage key of ``maxDropRate`` that applies to every stage without its own.
    public static let anyStage = "*"

    /// Least records per split (`train`, `validation`).
    public var minRecords: [String: Int] = [:]
    /// Largest share of a stage's input it may drop, by stage name or ``anyStage``.
    public var maxDropRate: [String: Double] = [:]
    /// Largest absolute change of any category's share of written records against the production version.
    public var maxShareChange: Double?
    /// Least share of written records in the validation split.
    public var minValidationFraction: Double?

    public init() {}

    /// Reads the `gates` mapping.
    /// - Parameter stageNames: the stages a run of the spec reports (`read` and the spec's stages); a
    ///   `max_drop_rate` key naming another stage is an error. `nil` skips that check.
    /// - Throws: ``RefineryError`` (code `spec`) naming the key and line of the first problem.
    init(node: SpecNode, stageNames: [String]?) throws {
        let table = try node.table(allowed: ["min_records", "max_drop_rate", "max_share_change", "min_validation_fraction"])
        if let splits = table.optional("min_records") {
            for (split, value) in try splits.table(allowed: ["train", "validation"]).members {
                let count = try value.int()
                guard count >= 0 else { throw value.error("must be 0 or more, found \(count)") }
                minRecords[split] = count
            }
        }
        if let stages = table.optional("max_drop_rate") {
            for (stage, value) in try stages.entries() {
                if let stageNames, stage != Self.anyStage, !stageNames.contains(stage) {
                    throw value.error("no stage '\(stage)' in this spec; use one of \((stageNames + [Self.anyStage]).joined(separator: ", "))")
                }
                maxDropRate[stage] = try Self.fraction(value)
            }
        }
        maxShareChange = try table.optional("max_share_change").map(Self.fraction)
        minValidationFraction = try table.optional("min_validation_fraction").map(Self.fraction)
    }

    /// The gates of a spec's text, or `nil` when it declares none. Only the `gates` key is read, so the spec of
    /// a manifest written by another release still gives its gates.
    /// - Parameter file: the name used in error messages.
    /// - Throws: ``RefineryError`` (code `spec`) when the text is not YAML or the gates are malformed.
    public static func read(specText: String, file: String) throws -> GatesSpec? {
        let top = try SpecNode.root(yaml: specText, file: file).entries()
        guard let node = top.first(where: { $0.key == "gates" })?.node, !node.isNull else { return nil }
        return try GatesSpec(node: node, stageNames: nil)
    }

    private static func fraction(_ node: SpecNode) throws -> Double {
        let value = try node.double()
        guard (0...1).contains(value) else { throw node.error("must be a fraction between 0 and 1, found \(value)") }
        return value
    }
}
