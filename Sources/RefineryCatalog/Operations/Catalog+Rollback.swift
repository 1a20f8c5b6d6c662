import RefineryRecords

extension Catalog {
    /// What a rollback did.
    public struct Rollback: Codable, Sendable {
        /// The version that was production, now retired.
        public var retired: VersionRecord
        /// The version that was production before it, production again.
        public var restored: VersionRecord
    }

    /// Puts back the version that was production before the current one: the current production version is
    /// retired and the previous one (from the status history; after a rollback, the one before that) becomes
    /// production, in one transaction. The
    /// previous version's manifest and shards are verified first; gates are not evaluated again.
    /// - Throws: ``RefineryError`` with code `catalog` when the dataset has no production version, no earlier
    ///   one, or the earlier one's files were removed by `gc`; `integrity` when its files do not match.
    public func rollback(dataset: String, command: String = Catalog.currentCommand) throws -> Rollback {
        guard let current = try production(dataset: dataset) else {
            let known = try versions(dataset: dataset)
            throw RefineryError(known.isEmpty ? .usage : .catalog,
                known.isEmpty
                    ? "catalog \(path) has no dataset '\(dataset)'; `refinery datasets` lists the ones it has"
                    : "\(dataset) has no production version to roll back; `refinery promote \(dataset)@VERSION` makes one")
        }
        // Production versions form a stack: a promotion pushes, a rollback pops (it makes the one below the top
        // production again), so a second rollback goes further back instead of undoing the first.
        var stack: [String] = []
        for change in try history(dataset: dataset) where change.to == .production {
            if stack.count >= 2 && stack[stack.count - 2] == change.version {
                stack.removeLast()
            } else if stack.last != change.version {
                stack.append(change.version)
            }
        }
        guard stack.last == current.version, stack.count >= 2 else {
            throw RefineryError(.catalog, "\(current.label) is the first production version of \(dataset); there is none before it to roll back to")
        }
        let restored = try requireVersion(dataset: dataset, version: stack[stack.count - 2])
        try refuseRemoved(restored, doing: "roll back to")
        _ = try verifiedManifest(restored, for: "rollback")
        return try database.transaction {
            guard try production(dataset: dataset)?.id == current.id else {
                throw RefineryError(.catalog, "the production version of \(dataset) changed meanwhile; run the command again")
            }
            let now = CatalogTime.now()
            try changeStatus(current, to: .retired, at: now, command: command)
            try changeStatus(try requireVersion(dataset: dataset, version: restored.version), to: .production, at: now, command: command)
            return Rollback(retired: try requireVersion(dataset: dataset, version: current.version),
                            restored: try requireVersion(dataset: dataset, version: restored.version))
        }
    }
}
