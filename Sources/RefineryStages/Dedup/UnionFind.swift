/// Disjoint sets of records (ordinals `0..<count`), for clusters of near-duplicates: union by rank with path
/// compression, so a sequence of m operations takes O(m·α(n)).
///
/// Deterministic whatever the order of unions: ``find(_:)`` answers with the smallest ordinal of the set (kept at
/// each tree's root beside the rank), which in canonical order is the first record, the default survivor. Eight
/// bytes per element (an `Int32` parent or rank, an `Int32` smallest member).
public struct UnionFind: Sendable {
    /// An element's parent, or for a root `-1 - rank`.
    private var parent: ContiguousArray<Int32>
    /// For a root, the smallest element of its set; unused elsewhere.
    private var smallest: ContiguousArray<Int32>

    /// Creates `count` singletons `{0}, {1}, …`.
    public init(count: Int = 0) {
        precondition(count >= 0 && count <= Int(Int32.max), "count \(count) out of 0...2^31-1")
        parent = ContiguousArray(repeating: -1, count: count)
        smallest = ContiguousArray((0..<Int32(count)))
    }

    /// Elements so far.
    public var count: Int { parent.count }

    /// Bytes of its arrays, as allocated.
    public var memoryBytes: Int { (parent.capacity + smallest.capacity) * MemoryLayout<Int32>.stride }

    /// Makes room for `count` elements without regrowing (nothing when there is room already).
    public mutating func reserveCapacity(_ count: Int) {
        parent.reserveCapacity(count)
        smallest.reserveCapacity(count)
    }

    /// Adds singletons up to `count` elements (nothing when there are that many already).
    public mutating func extend(to count: Int) {
        precondition(count <= Int(Int32.max), "count \(count) above 2^31-1")
        guard count > parent.count else { return }
        smallest.append(contentsOf: Int32(parent.count)..<Int32(count))
        parent.append(contentsOf: repeatElement(-1, count: count - parent.count))
    }

    /// The smallest element of `x`'s set: the same for every member, whatever order the unions came in.
    /// - Complexity: amortised O(α(n)); compresses the path it walks.
    public mutating func find(_ x: Int) -> Int {
        Int(smallest[root(x)])
    }

    /// Whether `a` and `b` are in one set.
    public mutating func inSameSet(_ a: Int, _ b: Int) -> Bool {
        root(a) == root(b)
    }

    /// Joins the sets of `a` and `b`, growing the structure when either is new.
    /// - Returns: the smallest element of the joined set.
    @discardableResult
    public mutating func union(_ a: Int, _ b: Int) -> Int {
        extend(to: max(a, b) + 1)
        let ra = root(a), rb = root(b)
        guard ra != rb else { return Int(smallest[ra]) }
        // Ranks are stored as -1 - rank: the larger rank has the smaller stored value.
        let (child, top) = parent[ra] > parent[rb] ? (ra, rb) : (rb, ra)
        if parent[ra] == parent[rb] { parent[top] -= 1 }
        parent[child] = Int32(top)
        smallest[top] = min(smallest[top], smallest[child])
        return Int(smallest[top])
    }

    /// The root of `x`'s tree, pointing every element on the way straight at it.
    private mutating func root(_ x: Int) -> Int {
        precondition(x >= 0 && x < parent.count, "element \(x) out of 0..<\(parent.count)")
        var r = x
        while parent[r] >= 0 { r = Int(parent[r]) }
        var node = x
        while parent[node] >= 0 {
            let next = Int(parent[node])
            parent[node] = Int32(r)
            node = next
        }
        return r
    }
}
