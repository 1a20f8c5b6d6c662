/// Sums over the rows of a matrix, split by column so that each sum runs in one order whatever the cores.
public enum ColumnSum {
    /// `into[c] += Σ_r x[r · width + c]`.
    public static func add(_ x: UnsafePointer<Float>, rows: Int, width: Int, into: UnsafeMutablePointer<Float>) {
        Parallel.forEachRange(width, grain: 64) { columns in
            for r in 0..<rows {
                let row = x + r * width
                for c in columns { into[c] += row[c] }
            }
        }
    }
}
