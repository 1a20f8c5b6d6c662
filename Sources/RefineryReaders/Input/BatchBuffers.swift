import Foundation

/// Batch buffers the workers are done with, for the reader to fill again. A buffer allocated afresh for each batch
/// lands in memory the allocator has lately handed back to the kernel, which must map and clear it again: on the
/// 1 GB benchmark the kernel's clearing of those pages alone was 7 % of the reader thread's time, and the run took
/// 785 k page faults against 576 k with the buffers reused. Holds at most `limit` buffers; one still shared when
/// it is taken (its worker has not let go of it yet) is copied on write, as a fresh one would be allocated.
public final class BatchBuffers: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [[UInt8]] = []
    private let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// An empty buffer with the capacity it had, or nil when none is free.
    func take() -> [UInt8]? {
        guard var buffer = lock.withLock({ free.popLast() }) else { return nil }
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }

    /// Hands back the buffer of a batch that has been processed (dropped when `limit` are free already).
    public func recycle(_ buffer: [UInt8]) {
        guard buffer.capacity > 0 else { return }
        lock.withLock {
            if free.count < limit { free.append(buffer) }
        }
    }
}
