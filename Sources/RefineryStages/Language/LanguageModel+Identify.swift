import CRefineryPrefetch
import Foundation

/// The one pass over a text (decode, fold, hash, accumulate) and the decision from its totals.
extension LanguageModel {
    /// What one pass over a text leaves for the decision.
    struct Evidence {
        /// The script group with the most letters (ties: the lower group).
        var group = ScriptGroup.none
        var groupLetters = 0
        var totalLetters = 0
        /// Letters in the fullest letter class (folded code point mod 256).
        var largestClass = 0
        /// N-grams scored for `group`, and the sums of their quantised log-probabilities per language.
        var ngrams = 0
        var sums = SIMD32<Int32>.zero
    }

    /// Scans the parts `feed` hands to the scanner (each part's text follows the previous one after a
    /// separator, as a chat's turns joined by blank lines would) and returns what the decision needs.
    /// - Parameters:
    ///   - maxBytes: bytes read in all, over all parts (the scalar crossing the limit is read whole).
    ///   - record: called with every n-gram bucket in order (tests); `nil` in production.
    func scan(maxBytes: Int, record: ((Int) -> Void)? = nil, _ feed: (inout Scanner) -> Void) -> Evidence {
        let groupCount = ScriptGroup.count
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: groupCount * 32) { sums in
            sums.initialize(repeating: 0)
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * groupCount + 256) { counters in
                counters.initialize(repeating: 0)
                return withUnsafeTemporaryAllocation(of: Int.self, capacity: Scanner.batchCapacity) { batch in
                    var evidence = Evidence()
                    evidence.largestClass = rows.withUnsafeBufferPointer { rows in
                        Self.foldTable.withUnsafeBufferPointer { table in
                            var scanner = Scanner(rows: rows, table: table, sums: sums, counters: counters, batch: batch,
                                                  shift: UInt64(64 - bits), budget: max(0, maxBytes), record: record)
                            feed(&scanner)
                            scanner.finish()
                            return scanner.largestClass
                        }
                    }
                    for g in 1..<groupCount {
                        evidence.totalLetters += counters[g]
                        if counters[g] > evidence.groupLetters {
                            evidence.groupLetters = counters[g]
                            evidence.group = ScriptGroup(rawValue: UInt8(g)) ?? .other
                        }
                    }
                    let g = Int(evidence.group.rawValue)
                    evidence.ngrams = counters[groupCount + g]
                    for l in 0..<32 { evidence.sums[l] = sums[g * 32 + l] }
                    return evidence
                }
            }
        }
    }

    /// The state of one pass: the last three folded characters, the script group the separator inherits, and a
    /// batch of buckets waiting to be summed. Its buffers are scoped to ``scan(maxBytes:record:_:)``: it must not
    /// escape the `feed` closure.
    ///
    /// The sequence seen is: a separator, the folded scalars with runs of separators collapsed, a separator. At
    /// each position the n-grams of length 1...4 ending there are hashed right to left — h = seed; h = (h ^ c) * p
    /// for c = s[i], s[i-1], …, bucket = (h * golden) >> (64 - bits) — so four multiplications give all four; the
    /// unigram of a separator is skipped.
    /// This is `Batch.ngrams` of tools/langid/train.py.
    ///
    /// Buckets are gathered up to 256 at a time (one script group per batch) and then summed in a tight loop whose
    /// loads are independent, so the table's cache misses overlap instead of waiting behind the branches of
    /// decoding; each row is prefetched as its bucket is filed, so most have arrived by then. A row is 32 biased
    /// bytes q + 128 (see ``LanguageModel/rows``) loaded as 16 UInt16 lanes: one
    /// accumulator sums the lanes (wrapping), another their high bytes (languages 2k + 1); the low bytes' sums
    /// (languages 2k) are the difference. That is two adds and a shift per 16 bytes with SSE2; 256 rows fit in 16
    /// bits before the sums are widened to Int32 and unbiased.
    struct Scanner {
        static let batchCapacity = 256

        let rows: UnsafeBufferPointer<SIMD16<UInt16>>
        let table: UnsafeBufferPointer<UInt32>
        /// Int32 sums per group (32 lanes each).
        let sums: UnsafeMutableBufferPointer<Int32>
        /// Letters per group, n-grams per group, letters per class (folded code point mod 256).
        let counters: UnsafeMutableBufferPointer<Int>
        let batch: UnsafeMutableBufferPointer<Int>
        let shift: UInt64
        /// Bytes that may still be read.
        var budget: Int
        let record: ((Int) -> Void)?

        /// Letters in the fullest letter class so far, kept as they are counted. A pass over the 256 class counters
        /// per text (64-bit compares, which a baseline x86-64 build emulates with SSE2) took a sixth of the language
        /// stage's samples over subtitle windows.
        var largestClass = 0
        var back1 = UInt64(LanguageModel.separator), back2: UInt64 = 0, back3: UInt64 = 0
        /// Characters before the current one (at most 3 matter): the leading separator.
        var available = 1
        var previousWasSeparator = true
        var lastGroup = 0
        var batchGroup = 0
        var pending = 0
        var started = false

        init(rows: UnsafeBufferPointer<SIMD16<UInt16>>, table: UnsafeBufferPointer<UInt32>, sums: UnsafeMutableBufferPointer<Int32>,
             counters: UnsafeMutableBufferPointer<Int>, batch: UnsafeMutableBufferPointer<Int>, shift: UInt64, budget: Int,
             record: ((Int) -> Void)?) {
            self.rows = rows
            self.table = table
            self.sums = sums
            self.counters = counters
            self.batch = batch
            self.shift = shift
            self.budget = budget
            self.record = record
        }

        /// Sums the batch's rows into its group's Int32 sums.
        @inline(__always)
        mutating func flush() {
            guard pending > 0 else { return }
            if let record { for j in 0..<pending { record(batch[j]) } }
            var whole = SIMD16<UInt16>.zero
            var odd = SIMD16<UInt16>.zero
            for j in 0..<pending {
                let row = rows[batch[j]]
                whole &+= row
                odd &+= row &>> 8
            }
            let even = whole &- (odd &<< 8)
            let base = batchGroup &* 32
            let bias = 128 &* Int32(truncatingIfNeeded: pending)
            for k in 0..<16 {
                sums[base &+ 2 &* k] &+= Int32(truncatingIfNeeded: even[k]) &- bias
                sums[base &+ 2 &* k &+ 1] &+= Int32(truncatingIfNeeded: odd[k]) &- bias
            }
            counters[ScriptGroup.count &+ batchGroup] &+= pending
            pending = 0
        }

        /// Puts the bucket of n-gram hash `h` in the next slot of the batch, and asks for its row at once, so that the
        /// table's cache miss overlaps the decoding of the next characters instead of stalling the sum in ``flush()``
        /// (a quarter fewer of the language stage's samples over subtitle windows).
        @inline(__always)
        private func enqueue(_ h: UInt64) {
            let bucket = Int(truncatingIfNeeded: (h &* LanguageModel.golden) &>> shift)
            crefinery_prefetch(rows.baseAddress.unsafelyUnwrapped + bucket)
            batch[pending] = bucket
        }

        /// Hashes the n-grams ending at a folded character that counts for `group`.
        @inline(__always)
        mutating func step(_ folded: UInt32, _ group: Int) {
            if group != batchGroup || pending > Self.batchCapacity - 4 {
                flush()
                batchGroup = group
            }
            let prime = LanguageModel.fnvPrime
            let c = UInt64(folded)
            var h = (LanguageModel.hashSeed ^ c) &* prime
            enqueue(h)
            pending &+= folded != LanguageModel.separator ? 1 : 0
            h = (h ^ back1) &* prime
            enqueue(h)
            pending &+= 1
            if available >= 2 {
                h = (h ^ back2) &* prime
                enqueue(h)
                pending &+= 1
                if available >= 3 {
                    h = (h ^ back3) &* prime
                    enqueue(h)
                    pending &+= 1
                } else {
                    available = 3
                }
            } else {
                available = 2
            }
            back3 = back2
            back2 = back1
            back1 = c
        }

        /// Reads one part (UTF-8; invalid sequences count as separators, a sequence cut off at the end is ignored).
        mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>) {
            if started && !previousWasSeparator && budget > 0 {
                // Between parts: one separator, as the blank line between a chat's turns.
                previousWasSeparator = true
                step(LanguageModel.separator, lastGroup)
            }
            started = true
            let n = bytes.count
            let limit = min(n, budget)
            let groupCount = ScriptGroup.count
            var i = 0
            while i < limit {
                let lead = bytes[i]
                var scalar: UInt32
                if lead < 0x80 {
                    scalar = UInt32(lead)
                    i &+= 1
                } else if lead < 0xC0 {
                    scalar = 0xFFFD  // a stray continuation byte
                    i &+= 1
                } else {
                    let length = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
                    guard i &+ length <= n else {
                        i = n
                        break
                    }
                    scalar = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
                    for k in 1..<length { scalar = scalar &<< 6 | UInt32(bytes[i &+ k] & 0x3F) }
                    i &+= length
                }
                let entry: UInt32
                if scalar < 0x10000 {
                    entry = table[Int(truncatingIfNeeded: scalar)]
                } else if (0x20000...0x3FFFF).contains(scalar) {
                    entry = scalar | UInt32(ScriptGroup.cjk.rawValue) &<< 24
                } else {
                    entry = LanguageModel.separator
                }
                let folded = entry & 0xFF_FFFF
                let group = Int(truncatingIfNeeded: entry &>> 24)
                if group == 0 {
                    if previousWasSeparator { continue }
                    previousWasSeparator = true
                    step(folded, lastGroup)
                } else {
                    previousWasSeparator = false
                    lastGroup = group
                    counters[group] &+= 1
                    let k = 2 &* groupCount &+ Int(truncatingIfNeeded: folded & 255)
                    let letters = counters[k] &+ 1
                    counters[k] = letters
                    largestClass = Swift.max(largestClass, letters)
                    step(folded, group)
                }
            }
            budget -= i
        }

        /// Ends the sequence with a separator and sums what is left.
        mutating func finish() {
            if !previousWasSeparator {
                previousWasSeparator = true
                step(LanguageModel.separator, lastGroup)
            }
            flush()
        }
    }

    /// The guess from a pass's evidence: script first, then naive Bayes among that script's languages.
    /// `posteriors`: whether to list every language's posterior (`false`: the guess's ``LanguageGuess/posteriors`` are
    /// left empty, the language and score are the same).
    func decide(_ evidence: Evidence, posteriors wanted: Bool = true) -> LanguageGuess {
        let total = evidence.totalLetters
        if total == 0 || (total >= 20 && evidence.largestClass * 2 > total) { return .undetermined }
        let languagesOfScript = candidates[Int(evidence.group.rawValue)]
        guard let first = languagesOfScript.first else { return .undetermined }
        let share = Double(evidence.groupLetters) / Double(total)
        if languagesOfScript.count == 1 {
            return LanguageGuess(lang: languages[first], score: share, posteriors: wanted ? [(lang: languages[first], p: 1)] : [])
        }
        // The weights in place (at most the 32 languages of a row), not in an array made per record.
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: languagesOfScript.count) { weights in
            var top = -Double.infinity
            for (k, l) in languagesOfScript.enumerated() {
                weights[k] = (Double(evidence.ngrams) * offsets[l] + scales[l] * Double(evidence.sums[l])) / temperature
                top = max(top, weights[k])
            }
            var sum = 0.0
            for k in weights.indices {
                weights[k] = exp(weights[k] - top)
                sum += weights[k]
            }
            var best = 0
            for k in weights.indices where weights[k] > weights[best] { best = k }
            let lang = languages[languagesOfScript[best]]
            guard wanted else { return LanguageGuess(lang: lang, score: share * (weights[best] / sum), posteriors: []) }
            // Labelled as `LanguageGuess` has them: an unlabelled array was cast element by element at run time.
            let posteriors = languagesOfScript.indices.map { (lang: languages[languagesOfScript[$0]], p: weights[$0] / sum) }
            return LanguageGuess(lang: lang, score: share * posteriors[best].1, posteriors: posteriors)
        }
    }
}
