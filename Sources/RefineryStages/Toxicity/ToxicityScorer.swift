import Foundation
import RefineryRecords

/// The lexicon and the classifier together: reads texts, finds listed terms, and gives `scores.toxicity`.
///
/// English text, and text whose language is unknown, is scored by the full classifier (n-grams and lexicon
/// matches); text in another language by the lexicon-only model, since the n-gram weights were fitted on English
/// (see ``ToxicityClassifier``). Texts with no words score 0.
public struct ToxicityScorer: Sendable {
    public let lexicon: ToxicityLexicon
    public let classifier: ToxicityClassifier

    /// What the scorer found in one record.
    public struct Analysis: Sendable {
        /// Probability of abuse in [0, 1].
        public var score: Double
        /// Lexicon matches, with the byte range of each in the text they were found in (`text` index).
        public var matches: [(text: Int, bytes: Range<Int>)]
    }

    public init(lexicon: ToxicityLexicon, classifier: ToxicityClassifier) {
        self.lexicon = lexicon
        self.classifier = classifier
    }

    /// The shipped word lists and model, loaded once per process.
    /// - Throws: ``RefineryError`` (`input`) naming where it looked when they cannot be found or read.
    public static func bundled() throws -> ToxicityScorer { try bundledScorer.get() }

    private static let bundledScorer: Result<ToxicityScorer, RefineryError> = {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources")
        do {
            let modelPath = try BundledResource.locate("toxicity/model.bin", environment: "REFINERY_TOXICITY_MODEL",
                                                       sourceFolder: source, what: "the toxicity model")
            let listsPath = try BundledResource.locate("toxicity/lexicon", environment: "REFINERY_TOXICITY_LEXICON",
                                                       sourceFolder: source, what: "the toxicity word lists")
            guard let data = FileManager.default.contents(atPath: modelPath) else {
                return .failure(RefineryError(.input, "cannot read the toxicity model at \(modelPath)"))
            }
            let classifier = try ToxicityClassifier(bytes: [UInt8](data), origin: modelPath)
            return .success(ToxicityScorer(lexicon: try ToxicityLexicon(folder: listsPath), classifier: classifier))
        } catch let error as RefineryError {
            return .failure(error)
        } catch {
            return .failure(RefineryError(.input, "cannot load the toxicity model: \(error)"))
        }
    }()

    /// Whether the full classifier applies to a language (English, or unknown).
    public static func usesNgrams(_ language: String?) -> Bool {
        guard let language else { return true }
        return language == "en" || language == "und"
    }

    /// Reads `texts` (a record's text, or its judged turns) as one document in `language` (a primary subtag or
    /// `nil`) and scores it.
    public func analyse(_ texts: [String], language: String?) -> Analysis {
        var buffers = ToxicityBuffers()
        return analyse(texts, language: language, buffers: &buffers)
    }

    /// ``analyse(_:language:)`` with a worker's `buffers` (see ``StageScratch``).
    func analyse(_ texts: [String], language: String?, buffers: inout ToxicityBuffers) -> Analysis {
        read(texts, language: language, into: &buffers)
        let text = buffers.text
        let matches = buffers.matches
        let score: Double
        if Self.usesNgrams(language) {
            let (probability, words) = classifier.probability(of: text, hits: matches.count, ngrams: true)
            score = words == 0 ? 0 : probability
        } else {
            score = text.tokens.contains { !$0.joined } ? classifier.lexiconProbability(hits: matches.count) : 0
        }
        return Analysis(score: score, matches: matches)
    }

    /// The classifier's features of `texts` (what training reads).
    public func features(_ texts: [String], language: String?) -> ToxicityFeatures {
        var buffers = ToxicityBuffers()
        read(texts, language: language, into: &buffers)
        var features = ToxicityFeatures()
        classifier.features(of: buffers.text, hits: buffers.matches.count, ngrams: Self.usesNgrams(language), into: &features)
        return features
    }

    /// Leaves in `buffers` the normalised tokens of all texts, and the lexicon's matches in each.
    private func read(_ texts: [String], language: String?, into buffers: inout ToxicityBuffers) {
        buffers.text.reset()
        buffers.matches.removeAll(keepingCapacity: true)
        let lists = lexicon.lists(for: language)
        for (index, string) in texts.enumerated() {
            var copy = string
            let before = buffers.text.tokens.count
            copy.withUTF8 { buffers.text.scan($0) }
            buffers.found.removeAll(keepingCapacity: true)
            lexicon.matches(in: buffers.text, tokens: before..<buffers.text.tokens.count, lists: lists, into: &buffers.found)
            for match in buffers.found { buffers.matches.append((index, match.bytes)) }
        }
    }
}

/// The toxicity scorer's working arrays, reused from record to record on a worker (see ``StageScratch``).
struct ToxicityBuffers: StageBuffers {
    /// The tokens of the texts read last.
    var text = ToxText()
    /// The lexicon's matches in them, with the index of the text of each, and one text's matches while it is read.
    var matches: [(text: Int, bytes: Range<Int>)] = []
    var found: [ToxicityLexicon.Match] = []

    init() {}
}
