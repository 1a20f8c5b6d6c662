/// Working arrays a stage keeps from record to record on one worker, so that measuring a record allocates nothing.
public protocol StageBuffers {
    /// Empty buffers; they grow to the largest record they are used for and stay that size.
    init()
}

/// One worker's ``StageBuffers``, each stage's under its type, handed to every stage in its ``StageTally``.
///
/// Arrays allocated afresh for each record cost a `malloc` and a `free` each, and a long document's landed in pages
/// the allocator had given back to the kernel, to be faulted in and cleared again: in the 1 GB benchmark run the
/// quality signals' arrays alone were 0.8 % of the CPU time in page faults.
///
/// Not thread-safe: a worker's own, never used by two threads at once (`@unchecked Sendable` only because the tally
/// that carries it is `Sendable`).
public final class StageScratch: @unchecked Sendable {
    private final class Slot<Buffers> {
        var buffers: Buffers
        init(_ buffers: Buffers) { self.buffers = buffers }
    }

    /// One slot per type of buffers, found by a linear search: a worker holds two or three.
    private var slots: [(type: ObjectIdentifier, slot: AnyObject)] = []

    public init() {}

    /// Calls `body` with this worker's buffers of type `Buffers`, made empty on first use. `body` has them `inout`
    /// for its duration: it must not ask for the same type again (that would be a second access to them, which
    /// Swift's exclusivity checks stop).
    public func withBuffers<Buffers: StageBuffers, Result>(_ type: Buffers.Type, _ body: (inout Buffers) throws -> Result) rethrows -> Result {
        let key = ObjectIdentifier(type)
        let slot: Slot<Buffers>
        if let found = slots.first(where: { $0.type == key }) {
            slot = unsafeDowncast(found.slot, to: Slot<Buffers>.self)
        } else {
            slot = Slot(Buffers())
            slots.append((key, slot))
        }
        return try body(&slot.buffers)
    }
}
