import RefineryCodecs
import RefineryRecords
import RefinerySpec

/// Stage 6: exact and near-duplicate removal across the whole run.
///
/// Unlike stages 1–5 it cannot decide one record at a time: the engine computes each surviving record's
/// ``DedupKeys`` on the workers (``keys(of:view:)``), spills the records, and a single ``DedupResolver`` then
/// reads the keys in canonical input order and decides which records are duplicates of which; the decisions are
/// applied when the spill is written out as shards. The survivor of each group is the first record in input order
/// (`keep: first`, the default) or the one with the highest `scores.quality` (`keep: best_quality`, ties to the
/// first), so the same inputs give the same survivors whatever the number of workers.
///
/// Parameters: `exact` (default true), `keep` (`first` | `best_quality`), `normalize: {lowercase, punctuation,
/// digits}` for the exact key. Reasons `exact_duplicate`, `near_duplicate`; the reject names the kept record in
/// `kept_id`.
public struct DedupStage: Sendable {
    /// Which member of a duplicate group survives.
    public enum Survivor: String, Sendable, CaseIterable {
        case first
        case bestQuality = "best_quality"
    }

    public let name = "dedup"
    public var exact = true
    public var survivor = Survivor.first
    /// Exact-key normalisation.
    public var lowercase = true
    public var digits = false

    public init() {}

    /// Reads the parameters from the spec (see the type's documentation).
    /// - Throws: ``RefineryError`` at the offending key.
    public init(parameters: SpecNode) throws {
        let table = try parameters.table(allowed: ["exact", "keep", "normalize"])
        exact = try table.optional("exact")?.bool() ?? exact
        if let node = table.optional("keep") {
            let value = try node.string()
            guard let parsed = Survivor(rawValue: value) else {
                throw node.error("unknown keep '\(value)'; use \(Survivor.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            survivor = parsed
        }
        if let node = table.optional("normalize") {
            let normalize = try node.table(allowed: ["lowercase", "digits"])
            lowercase = try normalize.optional("lowercase")?.bool() ?? lowercase
            digits = try normalize.optional("digits")?.bool() ?? digits
        }
    }

    /// The keys of one record (a worker computes them; they travel with the spill); `nil` for an interaction
    /// history, which has no text and is never a duplicate.
    public func keys(of record: Record, view: inout RecordView) -> DedupKeys? {
        if record.kind == .interactions { return nil }
        let text = view.text(of: record)
        // Words joined by one space: whitespace and punctuation between words never count.
        var normalized: [UInt8] = []
        normalized.reserveCapacity(text.bytes.count)
        for word in text.words {
            if !normalized.isEmpty { normalized.append(0x20) }
            for byte in text.bytes[word] {
                var b = byte
                if lowercase && b >= 0x41 && b <= 0x5A { b |= 0x20 }
                if digits && b >= 0x30 && b <= 0x39 { b = 0x30 }
                normalized.append(b)
            }
        }
        return DedupKeys(exact: exact ? XXH3.hash(normalized) : 0)
    }
}

/// What the resolver needs of one record, computed on a worker.
public struct DedupKeys: Sendable {
    /// XXH3-64 of the normalised text (0 when exact matching is off).
    public var exact: UInt64

    public init(exact: UInt64) {
        self.exact = exact
    }
}

/// The decision about one record.
public enum DedupDecision: Sendable, Equatable {
    case keep
    /// A duplicate of the record with this ordinal, which is kept.
    case exactDuplicate(of: Int)
    case nearDuplicate(of: Int, jaccard: Double)
}

/// Reads every record's keys in canonical order and groups duplicates; one per run, on one thread.
public struct DedupResolver {
    public let stage: DedupStage
    private var firstByExact: [UInt64: Int32] = [:]
    /// Per ordinal: the ordinal it duplicates (itself when it starts a group), and how.
    private var parent: [Int32] = []
    private var near: [Bool] = []
    private var jaccard: [Float] = []
    private var quality: [Float] = []

    public init(stage: DedupStage) {
        self.stage = stage
    }

    /// Adds the next record (ordinals are 0, 1, 2… in canonical order); `nil` keys: a record that is nobody's
    /// duplicate.
    public mutating func add(_ keys: DedupKeys?, quality score: Double?) {
        let ordinal = Int32(parent.count)
        var target = ordinal
        if stage.exact, let keys {
            if let first = firstByExact[keys.exact] {
                target = first
            } else {
                firstByExact[keys.exact] = ordinal
            }
        }
        parent.append(target)
        near.append(false)
        jaccard.append(1)
        quality.append(Float(score ?? 0))
    }

    /// The decision for every record added, in order.
    public func decisions() -> [DedupDecision] {
        let count = parent.count
        // Groups: every member points at the group's first record.
        var survivorOfGroup = [Int32](repeating: -1, count: count)
        for i in 0..<count {
            let root = Int(parent[i])
            let current = survivorOfGroup[root]
            if current < 0 {
                survivorOfGroup[root] = Int32(i)
            } else if stage.survivor == .bestQuality && quality[i] > quality[Int(current)] {
                survivorOfGroup[root] = Int32(i)
            }
        }
        return (0..<count).map { i in
            let survivor = Int(survivorOfGroup[Int(parent[i])])
            if survivor == i { return .keep }
            return near[i] ? .nearDuplicate(of: survivor, jaccard: Double(jaccard[i])) : .exactDuplicate(of: survivor)
        }
    }
}
