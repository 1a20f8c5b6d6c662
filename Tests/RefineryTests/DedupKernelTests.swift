import RefineryCodecs
import RefineryRecords
@_spi(Benchmarks) @testable import RefineryStages
import Testing

@Suite struct DedupKernelTests {
    // MARK: Helpers

    /// `count` words drawn from a vocabulary of 5,000 with a fixed seed.
    static func randomWords(_ count: Int, seed: UInt64) -> [String] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return "w\((state >> 33) % 5000)"
        }
    }

    static func exactHash(_ text: String, _ normalization: DedupNormalization = .default) -> UInt64 {
        var dedup = DedupText(normalization: normalization)
        return dedup.exactHash(TextView(text))
    }

    static func normalized(_ text: String, _ normalization: DedupNormalization = .default) -> String {
        var dedup = DedupText(normalization: normalization)
        return dedup.normalizedText(TextView(text))
    }

    static func shingles(_ text: String) -> [UInt32] {
        var dedup = DedupText()
        return dedup.shingles(TextView(text))
    }

    static func trueJaccard(_ a: [UInt32], _ b: [UInt32]) -> Double {
        let a = Set(a), b = Set(b)
        return Double(a.intersection(b).count) / Double(a.union(b).count)
    }

    // MARK: Exact hash

    @Test("identical texts give the same exact hash and signature")
    func identicalTexts() {
        let text = Self.randomWords(300, seed: 1).joined(separator: " ")
        let hasher = MinHasher(seed: 7)
        var a = DedupText(), b = DedupText()
        let first = a.fingerprint(TextView(text), using: hasher)
        let second = b.fingerprint(TextView(String(text)), using: hasher)
        #expect(first == second)
        #expect(first.signature.count == 112)
        #expect(first.shingleCount == 296)
    }

    @Test("the default exact hash is XXH3 of the lower-cased words joined by one space")
    func defaultNormalisation() {
        #expect(Self.exactHash("Hello,   World!\n") == XXH3.hash("hello world"))
        #expect(Self.normalized("  Don't e-mail ME -- now!  ") == "dont email me now")
        #expect(Self.normalized("ÉCOLE Straße ПРИВЕТ Ωμέγα") == "école straße привет ωμέγα")
        #expect(Self.normalized("foo.bar") == "foo bar")
    }

    @Test("case, whitespace and punctuation variants hash alike by default and apart with the option off",
          arguments: [
              ("The Quick Brown Fox", "the quick brown fox", DedupNormalization(lowercase: false)),
              ("the  quick\n\tbrown   fox", "the quick brown fox",
               DedupNormalization(collapseWhitespace: false)),
              ("the quick, brown fox!", "the quick brown fox", DedupNormalization(stripPunctuation: false)),
          ])
    func variants(variant: String, plain: String, optionOff: DedupNormalization) {
        #expect(Self.exactHash(variant) == Self.exactHash(plain))
        #expect(Self.exactHash(variant, optionOff) != Self.exactHash(plain, optionOff))
    }

    @Test("digits become zero only when asked")
    func digits() {
        let zero = DedupNormalization(digitsToZero: true)
        #expect(Self.exactHash("Episode 12 of 47", zero) == Self.exactHash("episode 00 of 00", zero))
        #expect(Self.exactHash("Episode 12 of 47") != Self.exactHash("Episode 13 of 47"))
        #expect(Self.normalized("Page ٣٤ / 12", zero) == "page 00 00")
    }

    @Test("options that keep punctuation or whitespace look between the words")
    func gaps() {
        #expect(Self.normalized("  Hello ,   World!  ", DedupNormalization(stripPunctuation: false)) == "hello , world!")
        #expect(Self.normalized("Hello,  World!\n", DedupNormalization(collapseWhitespace: false)) == "hello  world\n")
        let text = " Don't\tSTOP! "
        #expect(Self.normalized(text, .none) == text)
        #expect(Self.exactHash(text, .none) == XXH3.hash(text))
    }

    @Test("lower-casing that lengthens the text (İ → i̇) is not cut short")
    func growingLowercase() {
        let text = String(repeating: "İ", count: 200) + " END"
        #expect(Self.normalized(text) == text.lowercased())
    }

    @Test("empty text: the hash of nothing, no shingles, an all-ones signature")
    func emptyText() {
        let hasher = MinHasher(seed: 3)
        var dedup = DedupText()
        for text in ["", "  \n\n ", "?!…"] {
            let fingerprint = dedup.fingerprint(TextView(text), using: hasher)
            #expect(fingerprint.exactHash == XXH3.hash(""))
            #expect(fingerprint.shingleCount == 0)
            #expect(fingerprint.signature == [UInt32](repeating: .max, count: 112))
            #expect(Self.shingles(text).isEmpty)
        }
    }

    @Test("a chat hashes as its turns joined by a blank line")
    func chat() {
        let record = Record(id: "c", source: "s", messages: [Message(role: "user", content: "Hi there!"),
                                                            Message(role: "assistant", content: "Hello.")],
                            location: SourceLocation(file: "f"))
        var view = RecordView()
        var dedup = DedupText()
        let hash = dedup.exactHash(view.text(of: record))
        #expect(hash == XXH3.hash("hi there hello"))
    }

    // MARK: Shingles

    @Test("shingles are word 5-grams; shorter texts give one shingle of all their words")
    func wordShingles() {
        #expect(Self.shingles("one two three four five six seven").count == 3)
        #expect(Self.shingles("one two three").count == 1)
        #expect(Self.shingles("one two three") != Self.shingles("one two"))
        #expect(Self.shingles("one two three") != Self.shingles("three two one"), "order matters")
        #expect(Self.shingles("One, TWO; three four five") == Self.shingles("one two three four five"))
        var trigrams = DedupText(shingleSize: 3)
        let count = trigrams.shingles(TextView("a b c d e")).count
        #expect(count == 3)
    }

    @Test("text without spaces (Han, kana, Thai) gives character shingles")
    func characterShingles() {
        let chinese = "今天天气很好我们去公园散步吧"
        let shingles = Self.shingles(chinese)
        #expect(shingles.count == chinese.count - 4)
        #expect(shingles == Self.shingles(chinese.map(String.init).joined(separator: " ")))
        #expect(Self.shingles("東京に行く") .count == 1)
        let thai = Self.shingles("สวัสดีครับ")
        #expect(!thai.isEmpty)
    }

    // MARK: MinHash

    /// The signature of every kernel this CPU can run, keyed by kernel.
    static func signatures(_ hasher: MinHasher, _ shingles: [UInt32]) -> [(MinHasher.SignatureKernel, [UInt32])] {
        MinHasher.SignatureKernel.available.map { kernel in
            var signature: [UInt32] = []
            shingles.withUnsafeBufferPointer { hasher.signature(of: $0, into: &signature, kernel: kernel) }
            return (kernel, signature)
        }
    }

    /// `count` random shingle hashes (fixed seed), with the extreme values mixed in.
    static func randomShingles(_ count: Int, state: inout UInt64) -> [UInt32] {
        let edges: [UInt32] = [0, 1, 2, .max, .max - 1, 1 << 31, (1 << 31) - 1, 1 << 30]
        return (0..<count).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return i % 97 == 13 ? edges[Int(state >> 61)] : UInt32(truncatingIfNeeded: state >> 32)
        }
    }

    @Test("the kernels this CPU has include the scalar reference and the portable one; the default is one of them")
    func availableKernels() {
        let available = MinHasher.SignatureKernel.available
        #expect(available.contains(.scalar) && available.contains(.portable))
        #expect(available.contains(MinHasher.defaultKernel))
        // Each C kernel runs only where its instructions exist; the scalar and portable ones everywhere.
        #expect(MinHasher.SignatureKernel.scalar.isAvailable && MinHasher.SignatureKernel.portable.isAvailable)
    }

    @Test("every kernel computes the same signature, equal to a direct (a·h + b) mod (2^61 − 1)")
    func kernelsAgree() {
        let hasher = MinHasher(bands: 3, rows: 5, seed: 11)  // 15 permutations: a partial group of lanes
        var state: UInt64 = 5
        for size in [1, 2, 7, 100, 1000] {
            let shingles: [UInt32] = (0..<size).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1
                return UInt32(truncatingIfNeeded: state >> 32)
            }
            var reference = [UInt32](repeating: 0, count: 15)
            for k in 0..<15 {
                let (a, b) = hasher.coefficients(k)
                let minimum = shingles.map { h -> UInt64 in
                    let product = a.multipliedFullWidth(by: UInt64(h))
                    let residue = MinHasher.prime.dividingFullWidth(product).remainder
                    return (residue + b) % MinHasher.prime
                }.min() ?? 0
                reference[k] = UInt32(truncatingIfNeeded: minimum)
            }
            for (kernel, signature) in Self.signatures(hasher, shingles) {
                #expect(signature == reference, "\(kernel), \(size) shingles")
            }
        }
    }

    @Test("every kernel on this CPU matches the scalar reference bit for bit, for every shape of signature",
          arguments: [(1, 1), (1, 3), (2, 4), (3, 5), (5, 7), (4, 8), (14, 8), (9, 9), (20, 8), (64, 7)])
    func kernelsMatchReference(bands: Int, rows: Int) {
        // Shapes with 1 to 448 permutations: partial groups of 4 and 8 lanes, and every size of a kernel's last block.
        var state = UInt64(bands * 1_000 + rows)
        for seed: UInt64 in [0, 42, 0x5EED_0F_DED0] {
            let hasher = MinHasher(bands: bands, rows: rows, seed: seed)
            for size in [0, 1, 2, 3, 5, 8, 17, 64, 333, 1_200] {
                let shingles = Self.randomShingles(size, state: &state)
                let signatures = Self.signatures(hasher, shingles)
                let reference = signatures[0]
                #expect(reference.0 == .scalar)
                #expect(reference.1.count == bands * rows)
                for (kernel, signature) in signatures.dropFirst() {
                    #expect(signature == reference.1, "\(kernel), \(bands) × \(rows), seed \(seed), \(size) shingles")
                }
            }
        }
    }

    @Test("every kernel agrees on edge values: a and b near 2^61 − 1, h = 2^32 − 1, residues that fold to p")
    func kernelsAgreeOnEdges() {
        let p = MinHasher.prime
        // a·h + b ≡ 0 for h = 1000 and b = p − 1000: the lazily reduced value is p, which sorts after 1 (h = 1001), so
        // the stored minimum is 1, not the true minimum 0 — the kernels must make exactly the same choice.
        let permutations: [(a: UInt64, b: UInt64)] = [
            (1, p - 1_000), (p - 1, p - 1), (p - 1, 0), ((1 << 31) - 1, p - 1), ((1 << 61) - 2, 1), (1 << 31, 7),
            (1 << 30, p - 2), (3, p - 3_000), (0x1555_5555_5555_5555, 0x0AAA_AAAA_AAAA_AAAA), (1, 0),
            ((1 << 31) | 1, p / 2), (2, p - 2_000),
        ]
        let hasher = MinHasher(bands: 3, rows: 4, permutations: permutations)
        #expect(hasher.coefficients(0) == (1, p - 1_000))
        #expect(hasher.coefficients(4) == ((1 << 61) - 2, 1))
        let shingleSets: [[UInt32]] = [
            [1_000], [1_000, 1_001], [1_001, 1_000], [.max], [.max, 0], [0], [1_000, .max, 1, 1_001], [1_000, 1_000],
            (0..<300).map { UInt32(truncatingIfNeeded: $0 &* 0x9E37_79B9) }, [999, 1_000, 1_001, 1_002],
        ]
        for shingles in shingleSets {
            let signatures = Self.signatures(hasher, shingles)
            for (kernel, signature) in signatures.dropFirst() {
                #expect(signature == signatures[0].1, "\(kernel) on \(shingles.prefix(4))")
            }
        }
        var signature: [UInt32] = []
        [UInt32(1_000), 1_001].withUnsafeBufferPointer { hasher.signature(of: $0, into: &signature, kernel: .scalar) }
        #expect(signature[0] == 1, "the fold's order (p after 1) is the reference's")
        [UInt32(1_000)].withUnsafeBufferPointer { hasher.signature(of: $0, into: &signature, kernel: .scalar) }
        #expect(signature[0] == 0, "a lone p is made canonical")
    }

    @Test("keys computed with a reused scratch equal keys computed with fresh buffers, in any order of records")
    func scratchKeys() {
        let stage = DedupStage()
        let location = SourceLocation(file: "f")
        let texts = [Self.randomWords(2_000, seed: 4).joined(separator: " "), "", "one two three",
                     String(repeating: "İ", count: 60) + " ÉCOLE Straße", "今天天气很好我们去公园散步吧", "?!…",
                     Self.randomWords(40, seed: 5).joined(separator: ", ")]
        var records = texts.enumerated().map { Record(id: "d\($0.offset)", source: "s", text: $0.element, location: location) }
        records.append(Record(id: "c", source: "s", messages: [Message(role: "user", content: "Hi there, how are you?"),
                                                              Message(role: "assistant", content: "Fine.")],
                              location: location))
        records.append(Record(id: "i", source: "s", interactions: Interactions(items: ["a", "b"]), location: location))
        var scratch = stage.makeScratch()
        for order in [records, records.reversed(), records + records] {
            for record in order {
                var freshView = RecordView(), reusedView = RecordView()
                let fresh = stage.keys(of: record, view: &freshView)
                let reused = stage.keys(of: record, view: &reusedView, scratch: &scratch)
                #expect(fresh?.exact == reused?.exact, "\(record.id)")
                #expect(fresh?.bands == reused?.bands, "\(record.id)")
                #expect(fresh?.sketch == reused?.sketch, "\(record.id)")
                #expect((fresh == nil) == (record.kind == .interactions))
            }
        }
    }

    @Test("exact verification's shingle set is the record's shingles, sorted, each once, made again from its JSON line")
    func shingleSetFromLine() throws {
        let stage = DedupStage()
        let location = SourceLocation(file: "f")
        let words = Self.randomWords(300, seed: 6)
        let records = [Record(id: "d", source: "s", text: (words + words.prefix(50)).joined(separator: " ") + " \"quoted\"\ttab\n\u{1F600} é",
                              location: location),
                       Record(id: "c", source: "s", messages: [Message(role: "user", content: "Hi \"there\",\nhow are you?"),
                                                               Message(role: "assistant", content: "Fine, thanks.")], location: location),
                       Record(id: "e", source: "s", text: "", location: location)]
        var scratch = stage.makeScratch()
        for record in records {
            var writer = JSONWriter()
            record.writeJSON(to: &writer)
            let view = try writer.bytes.withUnsafeBufferPointer { try RecordView.text(ofLine: $0) }
            var recordView = RecordView()
            #expect(view.bytes == recordView.text(of: record).bytes, "\(record.id)")
            var text = DedupText(normalization: stage.normalization, shingleSize: stage.shingle)
            let shingles = text.shingles(view)
            let set = stage.shingleSet(of: view, scratch: &scratch)
            #expect(set == Set(shingles).sorted(), "\(record.id)")
        }
        // The repeated fifty words repeat shingles, which the set counts once.
        var text = DedupText()
        #expect(stage.shingleSet(of: TextView((words + words.prefix(50)).joined(separator: " ")), scratch: &scratch).count
                < text.shingles(TextView((words + words.prefix(50)).joined(separator: " "))).count)
        #expect(DedupStage.jaccard([1, 2, 3], [2, 3, 4]) == 0.5 && DedupStage.jaccard([], []) == 1 && DedupStage.jaccard([1], []) == 0)
    }

    @Test("the same seed gives the same signature bytes; another seed does not")
    func determinism() {
        let text = TextView(Self.randomWords(200, seed: 9).joined(separator: " "))
        var dedup = DedupText()
        let shingles = dedup.shingles(text)
        let signature = MinHasher(seed: 42).signature(of: shingles)
        #expect(MinHasher(seed: 42).signature(of: shingles) == signature)
        #expect(MinHasher(seed: 43).signature(of: shingles) != signature)
        // Pinned, so that a change of the words' hashing or the permutations, which would orphan every persisted
        // band hash, is deliberate.
        #expect(XXH3.hash(signature.withUnsafeBytes { Array($0) }) == Self.pinnedSignatureHash)
        #expect(MinHasher(seed: 42).bandHashes(signature).first == Self.pinnedFirstBand)
    }

    static let pinnedSignatureHash: UInt64 = 5_859_298_191_751_928_829
    static let pinnedFirstBand: UInt64 = 4_096_345_438_541_904_859

    @Test("estimated Jaccard is within 0.1 of the true Jaccard", arguments: [0.9, 0.5, 0.1])
    func estimatedJaccard(target: Double) {
        // Sets of 1,000 shingles in total, sharing round(target × 1000). Shingle hashes look random (they are hashes);
        // a linear permutation family is not min-wise independent on structured keys such as i·c mod 2³².
        func shingle(_ i: Int) -> UInt32 {
            var z = UInt64(i) &* 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt32(truncatingIfNeeded: z ^ (z >> 31))
        }
        let shared = Int((target * 1000).rounded())
        let only = (1000 - shared) / 2
        let common = (0..<shared).map(shingle)
        let a = common + (0..<only).map { shingle(100_000 + $0) }
        let b = common + (0..<only).map { shingle(200_000 + $0) }
        let truth = Self.trueJaccard(a, b)
        var total = 0.0
        for seed in UInt64(1)...10 {
            let hasher = MinHasher(seed: seed)
            let estimate = MinHasher.estimatedJaccard(hasher.signature(of: a), hasher.signature(of: b))
            #expect(abs(estimate - truth) <= 0.1, "seed \(seed): estimate \(estimate), truth \(truth)")
            total += estimate
        }
        #expect(abs(total / 10 - truth) <= 0.03, "mean of 10 seeds \(total / 10), truth \(truth)")
    }

    @Test("the S-curve of 14 × 8")
    func sCurve() {
        let hasher = MinHasher(seed: 0)
        #expect(abs(hasher.threshold - 0.719) < 0.001)
        #expect(abs(hasher.candidateProbability(jaccard: 0.8) - 0.924) < 0.001)
        #expect(abs(hasher.candidateProbability(jaccard: 0.7) - 0.565) < 0.001)
        #expect(abs(hasher.candidateProbability(jaccard: 0.5) - 0.053) < 0.001)
    }

    // MARK: LSH

    @Test("a near-duplicate with 5% of its words changed is a candidate; unrelated texts are not")
    func nearDuplicates() {
        let hasher = MinHasher(seed: 2026)
        var dedup = DedupText()
        var index = LSHIndex()
        let original = Self.randomWords(400, seed: 100)
        // 20 of 400 words rewritten, in two places (a reworded sentence and a changed sign-off).
        var edited = original
        for i in 100..<110 { edited[i] = "x\(i)" }
        for i in 380..<390 { edited[i] = "y\(i)" }
        let texts = [original, Self.randomWords(400, seed: 200), edited, Self.randomWords(400, seed: 300)]
            .map { $0.joined(separator: " ") }
        let shingles = texts.map { dedup.shingles(TextView($0)) }
        #expect(Self.trueJaccard(shingles[0], shingles[2]) > 0.8)
        var found: [[Int]] = []
        for (ordinal, text) in texts.enumerated() {
            let fingerprint = dedup.fingerprint(TextView(text), using: hasher)
            found.append(index.insertOrMatch(ordinal: ordinal, bands: hasher.bandHashes(fingerprint.signature)))
        }
        #expect(found == [[], [], [0], []])
        #expect(index.count == 4)
        #expect(index.entries < 14 * 4, "the near-duplicate opened only the buckets it does not share")
    }

    @Test("the index grows without losing buckets, and lookups do not insert")
    func indexGrowth() {
        var index = LSHIndex(bands: 4)
        var state: UInt64 = 77
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
        let records = (0..<20_000).map { _ in (0..<4).map { _ in next() } }
        for (ordinal, bands) in records.enumerated() {
            #expect(index.insertOrMatch(ordinal: ordinal, bands: bands).isEmpty)
        }
        #expect(index.entries == 80_000)
        #expect(index.matches(bands: records[12_345]) == [12_345])
        #expect(index.matches(bands: [records[7][0], records[9][1], next(), records[7][3]]) == [7, 9])
        #expect(index.matches(bands: [next(), next(), next(), next()]).isEmpty)
        #expect(index.count == 20_000)
        #expect(index.bytesPerRecord >= 4 * 8 && index.bytesPerRecord <= 4 * 8 / 0.4)
        // A bucket is the band hash's low 32 bits: the high ones do not tell buckets apart.
        #expect(index.matches(bands: [records[7][0] ^ (0xFFFF << 32), next(), next(), next()]) == [7])
        #expect(index.matches(bands: [records[7][0] ^ 1, next(), next(), next()]).isEmpty)
    }

    // MARK: Union-find

    @Test("union-find roots are the smallest ordinal, whatever the order of unions")
    func unionFind() {
        for order in [[(5, 3), (3, 9), (9, 1), (7, 8)], [(9, 1), (7, 8), (3, 9), (5, 3)], [(8, 7), (1, 9), (9, 5), (5, 3)]] {
            var sets = UnionFind(count: 10)
            for (a, b) in order { sets.union(a, b) }
            let roots = (0..<10).map { sets.find($0) }
            #expect(roots == [0, 1, 2, 1, 4, 1, 6, 7, 7, 1], "unions \(order)")
            let joined = sets.inSameSet(1, 7)
            #expect(!joined)
        }
        var growing = UnionFind()
        let root = growing.union(1_000, 40)
        let alone = growing.find(999)
        #expect(root == 40 && growing.count == 1_001 && alone == 999)
    }

    @Test("a resolver over bucket numbers (the dedup phase's band files) decides exactly as one over band hashes")
    func numberedBucketsDecideAlike() {
        let location = SourceLocation(file: "f")
        // Groups of near-duplicates (one word in 60 changed), exact repeats, short texts without bands, and strangers.
        var texts: [String] = []
        for group in 0..<40 {
            let base = Self.randomWords(60, seed: UInt64(100 + group))
            for variant in 0..<(group % 4) {
                var words = base
                words[(variant * 17 + group) % words.count] = "changed\(variant)"
                texts.append(words.joined(separator: " "))
            }
            texts.append(base.joined(separator: " "))
            if group % 5 == 0 { texts.append(base.joined(separator: " ")) }
            if group % 7 == 0 { texts.append("") }   // no shingles: no bands
        }
        for policy in [DedupStage.Survivor.first, .bestQuality] {
            var stage = DedupStage()
            stage.verify = .estimate
            stage.survivor = policy
            let keys = texts.enumerated().map { index, text -> DedupKeys? in
                var view = RecordView()
                return stage.keys(of: Record(id: "r\(index)", source: "s", text: text, location: location), view: &view)
            }
            #expect(keys.contains { $0?.bands.isEmpty == true }, "some records have no bands")
            // The dedup phase: bucket numbers per band, split between two tasks (bands 0, 2, 4… and 1, 3, 5…).
            let bands = stage.hasher.bands
            var numberings = (0..<bands).map { _ in BandBucketNumbering() }
            var numbers: [[UInt32]] = []
            for key in keys {
                numbers.append((0..<bands).map { band in key.map { $0.bands.isEmpty ? UInt32.max : numberings[band].number($0.bands[band]) } ?? .max })
            }
            var hashed = DedupResolver(stage: stage)
            var numbered = DedupResolver(stage: stage, bucketCounts: numberings.map(\.buckets))
            for (index, key) in keys.enumerated() {
                let quality = Double((index * 37) % 11) / 10
                hashed.add(key, quality: quality, id: "r\(index)")
                numbered.add(key, buckets: numbers[index], quality: quality, id: "r\(index)")
            }
            let expected = hashed.decisions()
            #expect(expected.filter { if case .nearDuplicate = $0 { true } else { false } }.count >= 20, "the texts hold near duplicates")
            #expect(expected.filter { if case .exactDuplicate = $0 { true } else { false } }.count >= 8, "and exact ones")
            #expect(numbered.decisions() == expected, "\(policy)")
            #expect(numbered.indexBytesPerRecord < hashed.indexBytesPerRecord, "the numbered index is the smaller")
        }
    }
}
