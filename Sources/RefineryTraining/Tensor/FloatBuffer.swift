/// A fixed-size, 64-byte-aligned, zero-initialised array of `Float` that the trainer's kernels reach by pointer:
/// parameters, gradients, optimiser moments and activations.
///
/// Not `Sendable` and not copy-on-write: one owner, which hands `pointer` to kernels for the duration of a call.
public final class FloatBuffer {
    /// The first element; valid while the buffer lives. Do not let it escape the owner.
    public let pointer: UnsafeMutablePointer<Float>
    /// The number of elements.
    public let count: Int

    /// Allocates `count` zeros.
    public init(count: Int) {
        precondition(count >= 0, "negative buffer size")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Sets every element to zero.
    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Copies `other`'s elements, which must be as many.
    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "buffer sizes differ")
        pointer.update(from: other.pointer, count: count)
    }

    /// The elements as an array (for tests, checkpoints and export).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Overwrites the elements from an array of the same size.
    public func load(_ values: [Float]) {
        precondition(values.count == count, "buffer sizes differ")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}
