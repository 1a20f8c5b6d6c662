/// Which part of a run this process does. A run is phases of independent tasks: (1) `map`, the units (input files)
/// read and staged, each task committing its share of them under `.work/`; then `reduce`, one task: the global
/// stages (dedup, balance) over everything the map tasks committed, the splits, the shards and the manifest. The
/// local executor does both in one process over the same code: its map is the one task of one.
///
/// Any scheduler can run the phases: `refinery run SPEC --phase map --task-index I --task-count N` for every I,
/// then `refinery run SPEC --phase reduce` once all of them succeeded (`--executor slurm` writes and submits exactly
/// that as two job arrays).
public enum RunPhase: Sendable, Equatable, CustomStringConvertible {
    /// Every phase, in this process (`refinery run SPEC`).
    case all
    /// The map phase's task `task` (from 0) of `of`.
    case map(task: Int, of: Int)
    /// The phases after the map, once every unit is committed; fails naming the units that are not.
    case reduce

    public var description: String {
        switch self {
        case .all: "all"
        case .map(let task, let count): "map \(task) of \(count)"
        case .reduce: "reduce"
        }
    }
}
