#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Orders interaction events by (user bytes, timestamp, reading order) in bounded memory: an external merge sort.
///
/// Events collect in an in-memory run until it holds `memoryBudget` bytes; the run is then sorted and spilled to a
/// file in a private folder (``SpillFolder``). ``merge(_:)`` sorts the last run in memory and merges it with the
/// spilled runs through a heap, `fanIn` runs at a time (more runs are first merged into bigger ones, so open files
/// stay few). A small log never touches the disk. Memory: the run (`memoryBudget` of event bytes; arrays growing by
/// doubling may reserve up to twice that) plus one 256KiB read buffer per merged run.
///
/// Not `Sendable`: one sorter per `splitSource` call, on the reading thread. Call ``removeSpills()`` when done,
/// also after an error.
final class EventSorter {
    let memoryBudget: Int
    let spillParent: String
    let fanIn: Int
    private var run = EventRun()
    private var spills: [String] = []
    private var folder: SpillFolder?
    private var nextSequence: UInt64 = 0
    /// Runs written to disk so far (intermediate merges included).
    private(set) var spilledRuns = 0

    init(memoryBudget: Int, spillParent: String, fanIn: Int) {
        self.memoryBudget = memoryBudget
        self.spillParent = spillParent
        self.fanIn = max(2, fanIn)
    }

    /// Adds one event; its reading order is the order of calls.
    func add(user: some Collection<UInt8>, item: some Collection<UInt8>, timestamp: Int64, reward: Double,
             fileIndex: Int, line: Int) throws {
        run.append(user: user, item: item, timestamp: timestamp, reward: reward, sequence: nextSequence,
                   fileIndex: fileIndex, line: line)
        nextSequence += 1
        if run.byteCount >= memoryBudget { try spill() }
    }

    private func newSpillFile() throws -> String {
        let folder = try self.folder ?? SpillFolder(parent: spillParent)
        self.folder = folder
        spilledRuns += 1
        return folder.newFile()
    }

    /// Sorts the in-memory run and writes it to a new spill file.
    private func spill() throws {
        run.sort()
        let path = try newSpillFile()
        let writer = try SpillWriter(path: path)
        var event = SortedEvent()
        for index in run.entries.indices {
            run.load(index, into: &event)
            try writer.append(event)
        }
        try writer.finish()
        spills.append(path)
        run.removeAll()
    }

    /// Hands on every event added, in order. `body` must copy what it keeps of the event.
    func merge(_ body: (SortedEvent) throws -> Void) throws {
        run.sort()
        // Too many runs for one merge: merge the oldest into bigger runs first.
        while spills.count + (run.isEmpty ? 0 : 1) > fanIn {
            let group = Array(spills.prefix(fanIn))
            spills.removeFirst(group.count)
            let path = try newSpillFile()
            let writer = try SpillWriter(path: path)
            try Self.merge(try group.map { try EventCursor(reader: SpillReader(path: $0)) }) { try writer.append($0) }
            try writer.finish()
            for merged in group { unlink(merged) }
            spills.append(path)
        }
        var cursors = try spills.map { try EventCursor(reader: SpillReader(path: $0)) }
        if !run.isEmpty { cursors.append(EventCursor(run: run)) }
        try Self.merge(cursors, body)
    }

    /// Removes the spill folder, if one was made.
    func removeSpills() {
        folder?.remove()
        folder = nil
        spills.removeAll()
    }

    /// Merges sorted cursors through a binary min-heap of cursor indexes.
    private static func merge(_ cursors: [EventCursor], _ body: (SortedEvent) throws -> Void) throws {
        var heap: [Int] = []
        heap.reserveCapacity(cursors.count)
        func less(_ a: Int, _ b: Int) -> Bool { SortedEvent.precedes(cursors[heap[a]].current, cursors[heap[b]].current) }
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                if left >= heap.count { return }
                var child = left
                if left + 1 < heap.count && less(left + 1, left) { child = left + 1 }
                if !less(child, parent) { return }
                heap.swapAt(child, parent)
                parent = child
            }
        }
        for (index, cursor) in cursors.enumerated() where try cursor.advance() {
            heap.append(index)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                if !less(child, parent) { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }
        while let top = heap.first {
            try body(cursors[top].current)
            if try !cursors[top].advance() {
                heap.swapAt(0, heap.count - 1)
                heap.removeLast()
            }
            siftDown(0)
        }
    }
}

/// A sorted run being read: the in-memory run or a spill file, with its current event.
final class EventCursor {
    private(set) var current = SortedEvent()
    private let run: EventRun?
    private var nextIndex = 0
    private let reader: SpillReader?

    init(run: EventRun) {
        self.run = run
        reader = nil
    }

    init(reader: SpillReader) {
        run = nil
        self.reader = reader
    }

    /// Moves to the next event.
    /// - Returns: `false` when the run is exhausted.
    func advance() throws -> Bool {
        if let reader { return try reader.next(into: &current) }
        guard let run, nextIndex < run.entries.count else { return false }
        run.load(nextIndex, into: &current)
        nextIndex += 1
        return true
    }
}
