/// Which part of a run this process does. A run is five phases of independent tasks:
/// 1. `map`: the units (input files) read and staged, each task committing its share of them under `.work/`;
/// 2. `dedup`, when the spec's dedup looks for near duplicates: the LSH buckets numbered band by band, each task over
///    its share of the bands (``BandFiles``);
/// 3. `resolve`, one task, when the spec has a global stage: duplicates clustered over those bucket numbers, balance
///    rates from the merged counts, the splits; each unit's fates written (``FinalizeFiles``);
/// 4. `finalize`: each task makes its share of the units' shard pieces from their fates;
/// 5. `reduce`, one task: the pieces appended in unit order, the manifest.
/// Each phase after the map is optional: the reduce does itself whatever no task did, with the same result. The
/// local executor does it all in one process over the same code; its map is the one task of one.
///
/// Any scheduler can run the phases, each once the one before has succeeded: `refinery run SPEC --phase map
/// --task-index I --task-count N` for every I, `--phase dedup --task-index J --task-count M` for every J,
/// `--phase resolve`, `--phase finalize --task-index I --task-count N` for every I, then `--phase reduce`
/// (`--executor slurm` writes and submits exactly that as a chain of jobs and job arrays).
public enum RunPhase: Sendable, Equatable, CustomStringConvertible {
    /// Every phase, in this process (`refinery run SPEC`).
    case all
    /// The map phase's task `task` (from 0) of `of`.
    case map(task: Int, of: Int)
    /// The dedup phase's task `task` (from 0) of `of`: numbers the buckets of its bands; fails naming the units
    /// that are not committed.
    case dedup(task: Int, of: Int)
    /// The resolve phase, one task: dedup and balance decided over every spilled record, written per unit for the
    /// finalize tasks.
    case resolve
    /// The finalize phase's task `task` (from 0) of `of`: its units' survivors and drops made into shard pieces.
    case finalize(task: Int, of: Int)
    /// The dataset and its manifest, once every unit is committed (and whatever the phases before did not do);
    /// fails naming the units that are not committed.
    case reduce

    public var description: String {
        switch self {
        case .all: "all"
        case .map(let task, let count): "map \(task) of \(count)"
        case .dedup(let task, let count): "dedup \(task) of \(count)"
        case .resolve: "resolve"
        case .finalize(let task, let count): "finalize \(task) of \(count)"
        case .reduce: "reduce"
        }
    }
}
