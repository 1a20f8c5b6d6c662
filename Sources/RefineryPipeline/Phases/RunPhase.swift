/// Which part of a run this process does. A run is phases of independent tasks: (1) `map`, the units (input files)
/// read and staged, each task committing its share of them under `.work/`; (2) `dedup`, when the spec's dedup looks
/// for near duplicates: the LSH buckets numbered band by band, each task over its share of the bands
/// (``BandFiles``); then `reduce`, one task: duplicates resolved over those bucket numbers, balance, the splits, the
/// shards and the manifest. The local executor does it all in one process over the same code: its map is the one
/// task of one, and without band files the reduce numbers nothing and indexes the band hashes itself (the same
/// decisions).
///
/// Any scheduler can run the phases: `refinery run SPEC --phase map --task-index I --task-count N` for every I,
/// then `--phase dedup --task-index J --task-count M` for every J once all of those succeeded, then
/// `refinery run SPEC --phase reduce` (`--executor slurm` writes and submits exactly that as two job arrays and a
/// job).
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
    /// The phases after the map, once every unit is committed; fails naming the units that are not.
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
