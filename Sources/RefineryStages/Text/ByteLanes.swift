/// Eight bytes of text handled at once in a `UInt64` ("SIMD within a register"), for the ASCII fast paths of
/// ``TextView`` and the quality signals: finding where a run of letters ends, folding case, counting letters.
///
/// Lane `i` is the byte at offset `i` (the word is read little-endian, so lane 0 is the lowest byte). A per-lane
/// answer is the lane's high bit (`0x80`); `trailingZeroBitCount / 8` of such a mask is the first lane that
/// answers yes. A few instructions per eight bytes replace a branch per byte, which byte-at-a-time loops over
/// words mispredicted at most word ends.
public enum ByteLanes {
    /// `0x01` in every lane: `ones &* b` repeats byte `b` across the lanes.
    static let ones: UInt64 = 0x0101_0101_0101_0101
    /// The high bit of every lane.
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The number of lanes a lane mask (high bits only) marks: each lane's bit moved to its lowest bit and the
    /// lanes summed into the top one by a multiplication. `nonzeroBitCount` is a dozen instructions on baseline
    /// x86-64, which has no POPCNT: in ``measure(_:afterSpace:)`` that was most of the loop.
    @inline(__always)
    static func count(_ lanes: UInt64) -> Int {
        Int(truncatingIfNeeded: ((lanes &>> 7) &* ones) &>> 56)
    }

    /// The eight bytes at `offset` (`offset + 8 <= bytes.count`).
    @inline(__always)
    static func load(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawBufferPointer(bytes).loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// All bits of the first `count` (1 to 8) lanes.
    @inline(__always)
    static func first(_ count: Int) -> UInt64 {
        // Masking shifts and wrapping arithmetic: the checked ones branch (shifts of 64 or more, overflow) per call.
        ~0 &>> UInt64(truncatingIfNeeded: 64 &- 8 &* count)
    }

    /// The `count` (1 to 8) bytes at `offset`, the other lanes zero.
    @inline(__always)
    static func load(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, count: Int) -> UInt64 {
        if offset &+ 8 <= bytes.count { return load(bytes, at: offset) & first(count) }
        // Near the end of the buffer: byte by byte, so nothing past it is read.
        var word: UInt64 = 0
        for k in 0..<count { word |= UInt64(bytes[offset &+ k]) &<< UInt64(truncatingIfNeeded: 8 &* k) }
        return word
    }

    /// The high bit of each lane whose byte is ASCII and in `low...high` (both ASCII). The sums run on the low
    /// seven bits of each lane, so no lane carries into the next one.
    @inline(__always)
    static func inRange(_ word: UInt64, _ low: UInt8, _ high: UInt8) -> UInt64 {
        let seven = word & ~highBits
        let atLeastLow = seven &+ ones &* UInt64(0x80 - low)
        let aboveHigh = seven &+ ones &* UInt64(0x7F - high)
        return atLeastLow & ~aboveHigh & ~word & highBits
    }

    /// The high bit of each lane holding an ASCII letter.
    @inline(__always)
    static func letter(_ word: UInt64) -> UInt64 { inRange(word | ones &* 0x20, 0x61, 0x7A) }

    /// The high bit of each lane holding an ASCII letter or digit.
    @inline(__always)
    static func letterOrDigit(_ word: UInt64) -> UInt64 { inRange(word, 0x30, 0x39) | letter(word) }

    /// The end of the run of bytes at `start` that `lanes` marks (the high bit of each byte's lane) and `byte`
    /// accepts (the same test, one byte at a time, for the tail): eight bytes per step.
    @inline(__always)
    static func endOfRun(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, lanes: (UInt64) -> UInt64,
                         byte: (UInt8) -> Bool) -> Int {
        var i = start
        while i + 8 <= bytes.count {
            let others = ~lanes(load(bytes, at: i)) & highBits
            if others != 0 { return i + others.trailingZeroBitCount / 8 }
            i += 8
        }
        while i < bytes.count && byte(bytes[i]) { i += 1 }
        return i
    }

    /// The high bit of each lane holding a UTF-8 continuation byte (`10xxxxxx`).
    @inline(__always)
    static func continuation(_ word: UInt64) -> UInt64 { word & ~(word &<< 1) & highBits }

    /// The high bit of each lane holding a UTF-8 lead byte of a scalar of two or more bytes (`11xxxxxx`).
    @inline(__always)
    static func multibyteLead(_ word: UInt64) -> UInt64 { word & (word &<< 1) & highBits }

    /// The high bit of each lane holding `byte`. (XOR with `byte` makes those lanes zero; a lane is zero exactly when
    /// its high bit is clear and adding 0x7F to its low seven bits leaves the high bit clear, and that sum never
    /// carries into the next lane.)
    @inline(__always)
    static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let zeroWhere = word ^ (ones &* UInt64(byte))
        return ~(((zeroWhere & ~highBits) &+ ~highBits) | zeroWhere) & highBits
    }

    /// Whether any lane holds `byte`.
    @inline(__always)
    static func contains(_ word: UInt64, _ byte: UInt8) -> Bool {
        // The classic zero-lane test on word XOR byte: a lane borrows only where it was zero or a lower lane
        // borrowed, which needs a zero lane, so the answer is exact.
        let zeroWhere = word ^ (ones &* UInt64(byte))
        return (zeroWhere &- ones) & ~zeroWhere & highBits != 0
    }

    /// Counts per-lane answers over many words without a population count per word (baseline x86-64 has no POPCNT
    /// instruction): each lane keeps its own count, at most 255, and the lanes are added up every 255 additions.
    struct Counter {
        private var lanes: UInt64 = 0
        private var pending = 0
        private var flushed = 0

        /// Counts the lanes whose high bit is set in `answers` (no other bit may be set).
        @inline(__always)
        mutating func add(_ answers: UInt64) {
            lanes &+= answers &>> 7
            pending &+= 1
            if pending == 255 { flush() }
        }

        /// All lanes counted so far.
        var total: Int { flushed + Self.sum(lanes) }

        private mutating func flush() {
            flushed += Self.sum(lanes)
            lanes = 0
            pending = 0
        }

        /// The sum of the eight byte lanes: pairs into 16-bit lanes, then one multiply adds those into the top 16 bits.
        private static func sum(_ lanes: UInt64) -> Int {
            let pairs = (lanes & 0x00FF_00FF_00FF_00FF) &+ ((lanes &>> 8) & 0x00FF_00FF_00FF_00FF)
            return Int(truncatingIfNeeded: (pairs &* 0x0001_0001_0001_0001) &>> 48)
        }
    }

    /// The Unicode scalars of `bytes` (``scalarCount(_:_:)``), its words (``wordCount(_:)``) and whether every byte is
    /// ASCII, in one pass, eight bytes per step. `afterSpace` says whether the byte before `bytes` was whitespace (true
    /// at the start of a text) and is set for the next part, so that the parts of a text cut anywhere count as the
    /// whole.
    public static func measure(_ bytes: UnsafeBufferPointer<UInt8>, afterSpace: inout Bool) -> (scalars: Int, words: Int, ascii: Bool) {
        var continuations = 0
        var words = 0
        var high: UInt64 = 0
        var before: UInt64 = afterSpace ? 0x80 : 0
        var i = 0
        while i + 8 <= bytes.count {
            let chunk = load(bytes, at: i)
            high |= chunk
            if chunk & highBits != 0 { continuations &+= count(continuation(chunk)) }
            let space = inRange(chunk, 0x09, 0x0D) | inRange(chunk, 0x20, 0x20)
            words &+= count(~space & (space &<< 8 | before) & highBits)
            before = space &>> 56
            i += 8
        }
        var previousSpace = before != 0
        while i < bytes.count {
            let byte = bytes[i]
            high |= UInt64(byte)
            if byte & 0xC0 == 0x80 { continuations += 1 }
            let space = byte == 0x20 || byte &- 0x09 < 5
            if previousSpace && !space { words += 1 }
            previousSpace = space
            i += 1
        }
        afterSpace = previousSpace
        return (bytes.count - continuations, words, high & highBits == 0)
    }

    /// The number of Unicode scalars in `bytes[range]` (its bytes that do not continue one), eight bytes per step.
    public static func scalarCount(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        var continuations = 0
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let chunk = load(bytes, at: i)
            if chunk & highBits != 0 { continuations &+= count(continuation(chunk)) }
            i += 8
        }
        if i < range.upperBound {
            continuations &+= count(continuation(load(bytes, at: i, count: range.upperBound - i)))
        }
        return range.count - continuations
    }

    /// The number of words in `bytes`: runs of bytes that are not ASCII whitespace (space, tab, LF, VT, FF, CR), eight
    /// bytes per step. A word starts at each such byte after whitespace or at the start.
    static func wordCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var afterSpace = true
        return measure(bytes, afterSpace: &afterSpace).words
    }

    /// The Unicode scalars and the words of `text` (``measure(_:afterSpace:)``).
    public static func measure(_ text: String) -> (scalars: Int, words: Int) {
        func count(_ bytes: UnsafeBufferPointer<UInt8>) -> (scalars: Int, words: Int) {
            var afterSpace = true
            let (scalars, words, _) = measure(bytes, afterSpace: &afterSpace)
            return (scalars, words)
        }
        if let result = text.utf8.withContiguousStorageIfAvailable(count) { return result }
        var copy = text
        return copy.withUTF8(count)
    }

    /// The number of Unicode scalars in `text`.
    public static func scalarCount(_ text: String) -> Int {
        func count(_ bytes: UnsafeBufferPointer<UInt8>) -> Int { scalarCount(bytes, 0..<bytes.count) }
        if let result = text.utf8.withContiguousStorageIfAvailable(count) { return result }
        var copy = text
        return copy.withUTF8(count)
    }
}
