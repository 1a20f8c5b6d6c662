import RefineryCodecs
import Foundation
import RefineryRecords

/// What the classifier reads from one text: the hashed n-gram features and the lexicon's matches.
public struct ToxicityFeatures: Sendable {
    /// Indexes into the weight table, one per occurrence.
    public var indexes: [Int32] = []
    /// Lexicon matches.
    public var hits = 0
    /// Words (tokens of the text itself, not spelled-out joins).
    public var words = 0

    public init() {}

    mutating func reset() {
        indexes.removeAll(keepingCapacity: true)
        hits = 0
        words = 0
    }
}

/// Logistic regression over hashed word and character n-grams plus lexicon evidence, trained on English insults
/// by `tools/toxicity/train.sh`; the probability it gives is `scores.toxicity`.
///
/// Features, all from ``ToxText`` tokens (normalised, so `Y0U 1D10T` reads as `you idiot`): each word, each pair
/// of adjacent words, and each character 3- and 4-gram of a word with its ends marked, hashed into `2^bits`
/// weights; their values are scaled by 1/√n for n features, so long texts do not score high for length alone.
/// The lexicon adds a one-hot of its match count (1, 2, 3 or more), unscaled.
///
/// Two models share the file: the full one, for English and for text of unknown language, and a lexicon-only one
/// (bias and match-count weights, fitted on the same data) for other languages, whose words the n-gram weights
/// never saw — there the score is the probability of abuse given only how many listed terms the text holds.
public struct ToxicityClassifier: Sendable {
    /// log2 of the number of n-gram weights.
    public let bits: Int
    public var bias: Float
    /// Weights of the lexicon match-count features (1, 2, 3+) in the full model.
    public var lexiconWeights: [Float]
    public var weights: [Float]
    /// The lexicon-only model.
    public var lexiconOnlyBias: Float
    public var lexiconOnlyWeights: [Float]

    public static let lexiconLevels = 3
    static let magic: [UInt8] = Array("RTOX".utf8)
    static let version: UInt32 = 1

    /// An untrained model (all weights zero).
    public init(bits: Int) {
        self.bits = bits
        bias = 0
        lexiconWeights = [Float](repeating: 0, count: Self.lexiconLevels)
        weights = [Float](repeating: 0, count: 1 << bits)
        lexiconOnlyBias = 0
        lexiconOnlyWeights = [Float](repeating: 0, count: Self.lexiconLevels)
    }

    // MARK: Features

    /// Fills `features` from normalised tokens; `ngrams: false` leaves the n-gram indexes out (non-English text).
    func features(of text: ToxText, hits: Int, ngrams: Bool, into features: inout ToxicityFeatures) {
        features.reset()
        features.hits = hits
        features.words = Self.forEachFeature(of: text, bits: bits, ngrams: ngrams) { features.indexes.append($0) }
    }

    /// The probability of abuse of normalised tokens with `hits` lexicon matches, and the number of words; the
    /// same sum as ``probability(_:)`` over ``features(of:hits:ngrams:into:)``, without storing the features.
    func probability(of text: ToxText, hits: Int, ngrams: Bool) -> (probability: Double, words: Int) {
        var sum: Float = 0
        var count = 0
        let words = weights.withUnsafeBufferPointer { weights in
            Self.forEachFeature(of: text, bits: bits, ngrams: ngrams) { index in
                sum += weights[Int(index)]
                count += 1
            }
        }
        return (Self.sigmoid(logit(sum: sum, count: count, hits: hits)), words)
    }

    /// Calls `body` with the weight index of every feature of the tokens, in a fixed order; returns the number of
    /// words.
    @inline(__always)
    static func forEachFeature(of text: ToxText, bits: Int, ngrams: Bool, _ body: (Int32) -> Void) -> Int {
        var words = 0
        let shift = UInt64(64 - bits)
        @inline(__always) func index(_ h: UInt64, _ salt: UInt64) -> Int32 {
            Int32(truncatingIfNeeded: ((h ^ salt) &* 0x9E37_79B9_7F4A_7C15) >> shift)
        }
        var previous: UInt64 = 0
        // Raw buffers: slicing the token arrays per word retained and released them on every word.
        text.withBuffers { tokens, scalars in withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 26) { marked in
            for token in tokens where !token.joined {
                words += 1
                guard ngrams else { continue }
                body(index(token.hash, 0x1111_1111))
                if previous != 0 {
                    body(index(previous &* 31 &+ token.hash, 0x2222_2222))
                }
                previous = token.hash
                // Character 3- and 4-grams of `^word$`, both from one pass; skipped for long tokens (URLs,
                // hashes), which say nothing.
                let length = token.scalars.count
                guard length <= 24 else { continue }
                marked[0] = 0x5E
                for k in 0..<length { marked[k + 1] = UInt64(scalars[token.scalars.lowerBound + k]) }
                marked[length + 1] = 0x24
                let count = length + 2
                for start in 0..<(count - 2) {
                    var h: UInt64 = 0xCBF2_9CE4_8422_2325
                    h = (h ^ marked[start]) &* 0x0000_0100_0000_01B3
                    h = (h ^ marked[start + 1]) &* 0x0000_0100_0000_01B3
                    h = (h ^ marked[start + 2]) &* 0x0000_0100_0000_01B3
                    body(index(h, 0x3333_3333))
                    guard start + 3 < count else { break }
                    h = (h ^ marked[start + 3]) &* 0x0000_0100_0000_01B3
                    body(index(h, 0x4444_4444))
                }
            }
        } }
        return words
    }


    /// The lexicon level feature (0 for no match, else 1...3).
    static func level(_ hits: Int) -> Int { min(hits, lexiconLevels) }

    // MARK: Scoring

    /// The probability of abuse under the full model.
    public func probability(_ features: ToxicityFeatures) -> Double {
        Self.sigmoid(logit(features))
    }

    func logit(_ features: ToxicityFeatures) -> Float {
        var sum: Float = 0
        for index in features.indexes { sum += weights[Int(index)] }
        return logit(sum: sum, count: features.indexes.count, hits: features.hits)
    }

    /// Bias, the n-gram weights' sum scaled by 1/√count, and the lexicon level's weight.
    @inline(__always)
    func logit(sum: Float, count: Int, hits: Int) -> Float {
        let scale = count == 0 ? 0 : 1 / Float(count).squareRoot()
        var z = bias + sum * scale
        let level = Self.level(hits)
        if level > 0 { z += lexiconWeights[level - 1] }
        return z
    }

    /// The probability of abuse under the lexicon-only model.
    public func lexiconProbability(hits: Int) -> Double {
        let level = Self.level(hits)
        return Self.sigmoid(lexiconOnlyBias + (level > 0 ? lexiconOnlyWeights[level - 1] : 0))
    }

    static func sigmoid(_ z: Float) -> Double { 1 / (1 + Foundation.exp(-Double(z))) }

    // MARK: Training

    /// Fits both models by AdaGrad on the logistic loss with L2 regularisation, visiting the examples in an order
    /// fixed by `seed`; the same examples and settings give the same weights.
    public mutating func train(_ examples: [(features: ToxicityFeatures, label: Bool)], epochs: Int, rate: Float,
                               l2: Float, seed: UInt64) {
        var order = Array(examples.indices)
        var random = SplitMix64(seed: seed)
        var squares = [Float](repeating: 1e-6, count: weights.count)
        var biasSquare: Float = 1e-6
        var lexiconSquares = [Float](repeating: 1e-6, count: Self.lexiconLevels)
        var onlySquares = [Float](repeating: 1e-6, count: Self.lexiconLevels + 1)
        for _ in 0..<epochs {
            // Fisher–Yates with SplitMix64.
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                let j = Int(random.next() % UInt64(i + 1))
                order.swapAt(i, j)
            }
            for e in order {
                let (features, label) = examples[e]
                let y: Float = label ? 1 : 0
                // Full model.
                let g = Float(Self.sigmoid(logit(features))) - y
                let scale = features.indexes.isEmpty ? 0 : 1 / Float(features.indexes.count).squareRoot()
                for index in features.indexes {
                    let i = Int(index)
                    let grad = g * scale + l2 * weights[i]
                    squares[i] += grad * grad
                    weights[i] -= rate * grad / squares[i].squareRoot()
                }
                biasSquare += g * g
                bias -= rate * g / biasSquare.squareRoot()
                let level = Self.level(features.hits)
                if level > 0 {
                    let grad = g + l2 * lexiconWeights[level - 1]
                    lexiconSquares[level - 1] += grad * grad
                    lexiconWeights[level - 1] -= rate * grad / lexiconSquares[level - 1].squareRoot()
                }
                // Lexicon-only model.
                let h = Float(lexiconProbability(hits: features.hits)) - y
                onlySquares[Self.lexiconLevels] += h * h
                lexiconOnlyBias -= rate * h / onlySquares[Self.lexiconLevels].squareRoot()
                if level > 0 {
                    onlySquares[level - 1] += h * h
                    lexiconOnlyWeights[level - 1] -= rate * h / onlySquares[level - 1].squareRoot()
                }
            }
        }
    }

    // MARK: File

    /// The model as bytes: `RTOX`, version, bits, then little-endian Float32s: bias, lexicon weights, lexicon-only
    /// bias and weights, the n-gram weights.
    public func serialized() -> [UInt8] {
        var out = Self.magic
        func append(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        append(Self.version)
        append(UInt32(bits))
        for value in [bias] + lexiconWeights + [lexiconOnlyBias] + lexiconOnlyWeights + weights { append(value.bitPattern) }
        return out
    }

    /// Reads a model file's bytes.
    /// - Throws: ``RefineryError`` (`input`) when they are not a version-1 model.
    public init(bytes: [UInt8], origin: String) throws {
        func fail(_ why: String) -> RefineryError {
            RefineryError(.input, "\(origin) is not a usable toxicity model: \(why); rebuild it with tools/toxicity/train.sh")
        }
        guard bytes.count >= 12, Array(bytes[0..<4]) == Self.magic else { throw fail("it does not start with RTOX") }
        func word(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        guard word(4) == Self.version else { throw fail("version \(word(4)), expected \(Self.version)") }
        let bits = Int(word(8))
        guard (8...24).contains(bits) else { throw fail("\(bits) hash bits") }
        let floats = 2 + 2 * Self.lexiconLevels + (1 << bits)
        guard bytes.count == 12 + 4 * floats else { throw fail("\(bytes.count) bytes, expected \(12 + 4 * floats)") }
        var values = [Float](repeating: 0, count: floats)
        for i in 0..<floats { values[i] = Float(bitPattern: word(12 + 4 * i)) }
        guard values.allSatisfy(\.isFinite) else { throw fail("a weight is not finite") }
        self.bits = bits
        var k = 0
        func take(_ n: Int) -> [Float] { defer { k += n }; return Array(values[k..<(k + n)]) }
        bias = take(1)[0]
        lexiconWeights = take(Self.lexiconLevels)
        lexiconOnlyBias = take(1)[0]
        lexiconOnlyWeights = take(Self.lexiconLevels)
        weights = take(1 << bits)
    }
}
