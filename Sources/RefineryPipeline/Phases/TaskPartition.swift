/// How the map phase's units are shared among its tasks: the largest unit first, each to the task with the fewest
/// bytes so far (the lowest task number on a tie), so that tasks finish close together when file sizes differ.
/// Deterministic: every task, the submitter and `refinery status` compute the same shares from the same plan.
/// Which task reads a unit changes nothing in the output: the reduce replays the units in reading order.
enum TaskPartition {
    /// For each task, the indexes into `units` it reads, in reading order.
    static func assign(_ units: [WorkUnit], tasks: Int) -> [[Int]] {
        precondition(tasks >= 1)
        var shares = [[Int]](repeating: [], count: tasks)
        var load = [Int](repeating: 0, count: tasks)
        let bySize = units.indices.sorted { (units[$0].bytes, $1) > (units[$1].bytes, $0) }
        for index in bySize {
            var lightest = 0
            for task in 1..<tasks where load[task] < load[lightest] { lightest = task }
            shares[lightest].append(index)
            load[lightest] += units[index].bytes
        }
        return shares.map { $0.sorted() }
    }
}
