import RefineryCodecs
import RefineryRecords
import RefineryShards

/// Counts what a new dataset version holds that an old one does not: records by the XXH3 of their content, and
/// word 5-grams (lower-cased words of letters and digits) by a hash of the five word hashes. The old version's
/// 5-grams are kept only for a fixed 1-in-``sampling`` sample by hash, which cuts their memory sixteenfold (it
/// still grows with the old version: one hash per record and per sampled 5-gram) and estimates the fraction
/// without bias: the same 5-gram is always in or out of the sample.
struct NoveltyCounter {
    static let sampling: UInt64 = 16
    private var records: Set<UInt64> = []
    private var ngrams: Set<UInt64> = []

    /// Reads every record of the old version (train and validation).
    mutating func addOld(_ dataset: DatasetRecords) throws {
        try forEachContent(dataset) { content in
            records.insert(XXH3.hash(content))
            Self.forEachSampledNgram(content) { ngrams.insert($0) }
        }
    }

    /// Reads every record of the new version and counts what the old one lacks.
    func measureNew(_ dataset: DatasetRecords) throws -> DatasetDiff.Novelty {
        var novelty = DatasetDiff.Novelty(newRecords: 0, recordsNotInOld: 0, sampledNgrams: 0, ngramsNotInOld: 0)
        try forEachContent(dataset) { content in
            novelty.newRecords += 1
            if !records.contains(XXH3.hash(content)) { novelty.recordsNotInOld += 1 }
            Self.forEachSampledNgram(content) { hash in
                novelty.sampledNgrams += 1
                if !ngrams.contains(hash) { novelty.ngramsNotInOld += 1 }
            }
        }
        return novelty
    }

    private func forEachContent(_ dataset: DatasetRecords, _ body: (String) -> Void) throws {
        for split in dataset.splits {
            try dataset.forEach(split: split) { body(ExampleText.content(of: $0.value)) }
        }
    }

    /// Calls `body` with the hash of every word 5-gram of `text` that falls in the sample.
    static func forEachSampledNgram(_ text: String, _ body: (UInt64) -> Void) {
        var window: [UInt64] = []
        window.reserveCapacity(5)
        var word = ""
        func endWord() {
            guard !word.isEmpty else { return }
            window.append(XXH3.hash(word))
            word = ""
            if window.count > 5 { window.removeFirst() }
            guard window.count == 5 else { return }
            var hash: UInt64 = 0x9E37_79B9_7F4A_7C15
            for value in window { hash = (hash ^ value) &* 0x100_0000_01B3 &+ (hash >> 29) }
            // A final mix (murmur3's), so that the low bits the sample looks at depend on every word.
            hash ^= hash >> 33
            hash &*= 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 33
            if hash % sampling == 0 { body(hash) }
        }
        for character in text.lowercased() {
            if character.isLetter || character.isNumber { word.append(character) } else { endWord() }
        }
        endWord()
    }
}
