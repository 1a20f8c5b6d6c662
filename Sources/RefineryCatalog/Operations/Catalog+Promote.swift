import Foundation
import RefineryRecords
import RefineryShards
import RefinerySpec

extension Catalog {
    /// What a promotion did.
    public struct Promotion: Codable, Sendable {
        /// The version, now production.
        public var promoted: VersionRecord
        /// The version it replaced, now retired; `nil` when there was none (or nothing changed).
        public var retired: VersionRecord?
        /// Every declared gate's result (all passed); empty when the spec declares none.
        public var gates: [GateResult]
        /// `true` when the version already was production: nothing was checked or changed.
        public var alreadyProduction: Bool

        enum CodingKeys: String, CodingKey {
            case promoted, retired, gates, alreadyProduction = "already_production"
        }
    }

    /// Makes a version production after checking it: its files are there, `manifest.json` is the one the run
    /// wrote, every shard matches the manifest, and the gates of the spec stored in the manifest pass, and so
    /// do the production version's gates when they differ (category shares are compared with the current
    /// production version). Then, in one transaction, the
    /// current production version is retired and this one becomes production.
    /// - Parameter command: recorded in the status history.
    /// - Throws: ``PromotionRefused`` listing every gate when one fails; ``RefineryError`` with code `usage`
    ///   for an unknown version, `integrity` when the files do not match, `catalog` when its files were removed
    ///   or production changed meanwhile, `spec` when the stored gates are malformed.
    public func promote(dataset: String, version: String, command: String = Catalog.currentCommand) throws -> Promotion {
        let record = try requireVersion(dataset: dataset, version: version)
        if record.status == .production {
            return Promotion(promoted: record, retired: nil, gates: [], alreadyProduction: true)
        }
        try refuseRemoved(record, doing: "promote")
        let manifest = try verifiedManifest(record, for: "promotion")
        let current = try production(dataset: dataset)
        var results: [GateResult] = []
        var productionManifest: Manifest?
        if let current {
            do {
                productionManifest = try Manifest.read(directory: current.directory)
            } catch let error as RefineryError {
                throw RefineryError(.integrity, "cannot compare with production \(current.label): \(error.message)", at: error.location)
            }
        }
        if let gates = try GatesSpec.read(specText: manifest.spec, file: "\(record.manifestPath) (spec)") {
            results = GateEvaluator.evaluate(gates, candidate: manifest, production: productionManifest, productionLabel: current?.label)
        }
        // A candidate cannot lower the bar by loosening its own gates: production's gates apply too.
        if let current, let productionManifest,
           let gates = try GatesSpec.read(specText: productionManifest.spec, file: "\(current.manifestPath) (spec)"),
           gates != (try GatesSpec.read(specText: manifest.spec, file: "\(record.manifestPath) (spec)")) {
            results += GateEvaluator.evaluate(gates, candidate: manifest, production: productionManifest, productionLabel: current.label)
                .map { var result = $0; result.gate = "\(current.label) gate \(result.gate)"; return result }
        }
        guard results.allSatisfy(\.passed) else { throw PromotionRefused(label: record.label, results: results) }
        return try database.transaction {
            // Another promote may have run while the shards were read.
            guard try production(dataset: dataset)?.id == current?.id,
                  let fresh = try self.version(dataset: dataset, version: version), fresh.manifestHash == record.manifestHash else {
                throw RefineryError(.catalog, "\(record.label) or the production version of \(dataset) changed while promoting; run the command again")
            }
            let now = CatalogTime.now()
            if let current { try changeStatus(current, to: .retired, at: now, command: command) }
            try changeStatus(fresh, to: .production, at: now, command: command)
            return Promotion(promoted: try requireVersion(dataset: dataset, version: version),
                             retired: try current.flatMap { try self.version(dataset: $0.dataset, version: $0.version) },
                             gates: results, alreadyProduction: false)
        }
    }

    /// Refuses to use a version whose files `refinery gc` removed.
    func refuseRemoved(_ record: VersionRecord, doing action: String) throws {
        guard let removed = record.filesRemovedAt else { return }
        throw RefineryError(.catalog,
            "cannot \(action) \(record.label): `refinery gc` removed its files at \(removed). Rebuild it with `refinery run --force` "
            + "on its spec, or choose another version (`refinery datasets \(record.dataset)`)")
    }
}
