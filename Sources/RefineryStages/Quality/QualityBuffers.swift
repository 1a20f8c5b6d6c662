/// The quality signals' working arrays, reused from record to record on a worker (see ``StageScratch``).
struct QualityBuffers: StageBuffers {
    /// Prefix sums of the word hashes, one more than the words, and each word's length in characters
    /// (``QualitySignals/ngramRepetition(prefix:characters:totalCharacters:buffers:)`` reads them).
    var prefix: [UInt64] = []
    var characters: [Int32] = []
    /// Repeated lines and paragraphs (``QualitySignals/duplicates(_:in:minimum:table:)``).
    var items = HashCounter()
    /// The n-gram passes' table, and per position and per word what the passes have seen.
    var ngrams = HashCounter()
    var repeatsUpTo: [UInt8] = []
    var coveredAt: [UInt8] = []
    var candidates: [Int] = []

    init() {}

    /// Empties `array` and fills it with `count` zeros, keeping its storage.
    static func zero<T: FixedWidthInteger>(_ array: inout [T], count: Int) {
        array.removeAll(keepingCapacity: true)
        array.append(contentsOf: repeatElement(0, count: count))
    }
}
