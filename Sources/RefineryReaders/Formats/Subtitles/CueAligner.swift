/// Aligns the cues of two subtitle files of the same title by time.
///
/// Two cues are linked when they overlap by at least `minLinkShare` of the shorter one's duration; linked cues
/// form groups (connected components, so one long line in one language can match two short ones in the other).
/// A group's score is its temporal overlap — the summed overlap of its links over the span from its first start
/// to its last end — 1 for cues with identical timing, falling as they drift apart.
struct CueAligner: Sendable {
    var minLinkShare = 0.3

    /// One aligned group: cue indexes on each side (in time order) and the score in [0, 1].
    struct Group {
        var source: [Int]
        var target: [Int]
        var score: Double
    }

    /// Groups in order of their first source cue; source cues with no partner come back with an empty `target`
    /// and score 0. Both inputs must be in start order.
    func align(_ source: [Cue], _ target: [Cue]) -> (groups: [Group], unalignedTargets: Int) {
        var parent = Array(0..<(source.count + target.count))
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        var linkOverlap = [Int: Int]()  // root → summed link overlap, filled after union
        var links: [(Int, Int, Int)] = []
        var low = 0
        for (i, s) in source.enumerated() {
            while low < target.count && target[low].end <= s.start { low += 1 }
            var j = low
            while j < target.count && target[j].start < s.end {
                let t = target[j]
                let overlap = min(s.end, t.end) - max(s.start, t.start)
                let shorter = min(s.end - s.start, t.end - t.start)
                if overlap > 0 && Double(overlap) >= minLinkShare * Double(max(shorter, 1)) {
                    links.append((i, j, overlap))
                    let a = find(i), b = find(source.count + j)
                    if a != b { parent[max(a, b)] = min(a, b) }
                }
                j += 1
            }
        }
        for (i, _, overlap) in links { linkOverlap[find(i), default: 0] += overlap }
        var groupOf = [Int: Int]()
        var groups: [Group] = []
        for i in source.indices {
            let root = find(i)
            if let g = groupOf[root] {
                groups[g].source.append(i)
            } else {
                groupOf[root] = groups.count
                groups.append(Group(source: [i], target: [], score: 0))
            }
        }
        var unaligned = 0
        for j in target.indices {
            if let g = groupOf[find(source.count + j)] { groups[g].target.append(j) } else { unaligned += 1 }
        }
        for g in groups.indices where !groups[g].target.isEmpty {
            let cues = groups[g].source.map { source[$0] } + groups[g].target.map { target[$0] }
            let span = (cues.map(\.end).max() ?? 0) - (cues.map(\.start).min() ?? 0)
            let overlap = linkOverlap[find(groups[g].source[0])] ?? 0
            groups[g].score = span > 0 ? min(1, Double(overlap) / Double(span)) : 0
        }
        return (groups, unaligned)
    }
}
