import Foundation
import RefineryRecords

/// What the language model says about a text.
public struct LanguageGuess: Sendable, Equatable {
    /// The most likely language (ISO 639-1, `nb` for Norwegian Bokmål), or `und` when the text has no letters, is
    /// degenerate (one letter repeated), or is in a script none of the model's languages uses.
    public var lang: String
    /// Confidence in [0, 1]: the share of the text's letters in the winning script times the posterior of `lang`
    /// among the languages of that script. 0 for `und`.
    public var score: Double
    /// Posterior of each language of the winning script (empty for `und`).
    public var posteriors: [(lang: String, p: Double)]

    public static func == (lhs: LanguageGuess, rhs: LanguageGuess) -> Bool {
        lhs.lang == rhs.lang && lhs.score == rhs.score && lhs.posteriors.map(\.lang) == rhs.posteriors.map(\.lang)
            && lhs.posteriors.map(\.p) == rhs.posteriors.map(\.p)
    }

    /// The answer for text the model cannot place.
    public static let undetermined = LanguageGuess(lang: "und", score: 0, posteriors: [])
}

/// A naive Bayes language identifier over hashed character 1–4-grams, with script detection first; trained by
/// `tools/langid/train.py` and stored in `Resources/langid.bin`.
///
/// The text is read once: each UTF-8 scalar is folded (``fold(_:)``: lowercased, non-letters to one separator,
/// separator runs collapsed), the four n-grams ending at it are hashed from the right (FNV-1a steps, then a
/// golden-ratio multiply picks the bucket), and each bucket's row of 30 quantised log-probabilities is added to
/// the accumulator of the script group of the n-gram's last letter. The script with the most letters wins; only
/// its languages compete, by `log P = n · offset + scale · Σq`, softmax at the model's temperature.
///
/// File format (little-endian), also documented in `train.py`: magic `RFLANGID`, u32 version 1, u32 language
/// count L, u32 bucket bits, u32 row bytes (32), f64 temperature; L entries of 24 bytes (code: 8 bytes ASCII
/// NUL-padded, group u8, 7 zero bytes, offset f32, scale f32); then 2^bits rows of 32 int8 (one per language).
///
/// Immutable and `Sendable`: one model serves every worker.
public struct LanguageModel: Sendable {
    /// Language codes, in the model's order.
    public let languages: [String]
    let groups: [ScriptGroup]
    let offsets: [Double]
    let scales: [Double]
    let temperature: Double
    let bits: Int
    /// The table: row b holds bucket b's 32 values q + 128 (language l at byte l, unsigned), as 16 UInt16 lanes.
    let rows: ContiguousArray<SIMD16<UInt16>>
    /// Model languages of each script group, by group raw value.
    let candidates: [[Int]]

    static let hashSeed: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x100_0000_01B3
    static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let resourceName = "langid.bin"

    /// Parses a model file.
    /// - Throws: ``RefineryError`` (`input`) when the bytes are not a version-1 model.
    public init(bytes: [UInt8], origin: String = "langid.bin") throws {
        func fail(_ why: String) -> RefineryError {
            RefineryError(.input, "\(origin) is not a usable language model: \(why); rebuild it with tools/langid/train.py")
        }
        guard bytes.count >= 32, Array(bytes[0..<8]) == Array("RFLANGID".utf8) else { throw fail("no RFLANGID header") }
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
        let version = u32(8), count = u32(12), bits = u32(16), rowBytes = u32(20)
        guard version == 1 else { throw fail("version \(version), this build reads version 1") }
        guard (1...32).contains(count), rowBytes == 32, (8...24).contains(bits) else {
            throw fail("\(count) languages, \(bits) bucket bits, \(rowBytes)-byte rows")
        }
        let header = 32 + 24 * count
        guard bytes.count == header + (1 << bits) * rowBytes else {
            throw fail("\(bytes.count) bytes where the header announces \(header + (1 << bits) * rowBytes)")
        }
        let temperature = Double(bitPattern: u64(24))
        guard temperature.isFinite, temperature > 0 else { throw fail("temperature \(temperature)") }
        var languages: [String] = []
        var groups: [ScriptGroup] = []
        var offsets: [Double] = []
        var scales: [Double] = []
        for i in 0..<count {
            let at = 32 + 24 * i
            let code = bytes[at..<(at + 8)].prefix { $0 != 0 }
            guard !code.isEmpty, code.allSatisfy({ (0x61...0x7A).contains($0) }) else { throw fail("language \(i) has a bad code") }
            guard let group = ScriptGroup(rawValue: bytes[at + 8]), group != .none else { throw fail("language \(i) has a bad script group") }
            let offset = Double(Float(bitPattern: UInt32(u32(at + 16))))
            let scale = Double(Float(bitPattern: UInt32(u32(at + 20))))
            guard offset.isFinite, scale.isFinite, scale > 0 else { throw fail("language \(i) has a bad scale") }
            languages.append(String(decoding: code, as: UTF8.self))
            groups.append(group)
            offsets.append(offset)
            scales.append(scale)
        }
        var rows = ContiguousArray<SIMD16<UInt16>>(repeating: .zero, count: 1 << bits)
        rows.withUnsafeMutableBytes { target in
            // Biased to unsigned (q + 128) so the hot loop needs no sign extension.
            for k in 0..<target.count { target[k] = bytes[header + k] ^ 0x80 }
        }
        self.languages = languages
        self.groups = groups
        self.offsets = offsets
        self.scales = scales
        self.temperature = temperature
        self.bits = bits
        self.rows = rows
        candidates = (0..<ScriptGroup.count).map { g in groups.indices.filter { groups[$0].rawValue == g } }
    }

    /// Loads a model file.
    /// - Throws: ``RefineryError`` (`input`) when the file is missing, unreadable or not a model.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RefineryError(.input, "cannot read the language model at \(path)")
        }
        try self.init(bytes: [UInt8](data), origin: path)
    }

    /// The model shipped with Refinery, loaded once per process.
    /// - Throws: ``RefineryError`` (`input`) naming where it looked when `langid.bin` cannot be found.
    public static func bundled() throws -> LanguageModel { try bundledModel.get() }

    private static let bundledModel: Result<LanguageModel, RefineryError> = loadBundled()

    private static func loadBundled() -> Result<LanguageModel, RefineryError> {
        do {
            let path = try BundledResource.locate(resourceName, environment: "REFINERY_LANGID_MODEL",
                                                  sourceFolder: sourceFolder, what: "the language model")
            return .success(try LanguageModel(contentsOf: path))
        } catch let error as RefineryError {
            return .failure(error)
        } catch {
            return .failure(RefineryError(.input, "cannot load the language model: \(error)"))
        }
    }

    /// Where the model may be (see ``BundledResource``); `$REFINERY_LANGID_MODEL` first.
    static func candidatePaths() -> [String] {
        BundledResource.candidatePaths(resourceName, environment: "REFINERY_LANGID_MODEL", sourceFolder: sourceFolder)
    }

    private static let sourceFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources")

    /// Identifies the language of UTF-8 text.
    /// - Parameters:
    ///   - bytes: UTF-8; invalid sequences count as separators.
    ///   - maxBytes: only the first `maxBytes` bytes are read (the scalar that crosses the limit is read whole).
    /// - Complexity: O(min(n, maxBytes)), one pass, no heap allocation.
    public func identify(_ bytes: UnsafeBufferPointer<UInt8>, maxBytes: Int = .max) -> LanguageGuess {
        decide(scan(maxBytes: maxBytes) { $0.consume(bytes) })
    }

    /// Identifies the language of a string, reading its UTF-8 in place.
    /// - Parameter posteriors: whether the guess lists every candidate language's posterior (`false`, as the
    ///   language stage asks: left empty, which saves building the list for every record).
    public func identify(_ text: String, maxBytes: Int = .max, posteriors: Bool = true) -> LanguageGuess {
        identify(parts: CollectionOfOne(text), maxBytes: maxBytes, posteriors: posteriors)
    }

    /// Identifies the language of several texts read as one, each after a separator (a chat's turns): the same
    /// answer as for the texts joined by blank lines, without joining them.
    /// - Parameters:
    ///   - maxBytes: bytes read in all.
    ///   - posteriors: as for ``identify(_:maxBytes:posteriors:)``.
    public func identify<Parts: Sequence<String>>(parts: Parts, maxBytes: Int = .max, posteriors: Bool = true) -> LanguageGuess {
        decide(scan(maxBytes: maxBytes) { scanner in
            for part in parts {
                guard scanner.budget > 0 else { break }
                var part = part
                part.withUTF8 { scanner.consume($0) }
            }
        }, posteriors: posteriors)
    }

    /// The n-gram buckets of a text, in order (position, then n = 1...4): what `train.py` computes for it.
    func buckets(_ text: String) -> [Int] {
        var result: [Int] = []
        var text = text
        _ = scan(maxBytes: .max, record: { result.append($0) }) { scanner in
            text.withUTF8 { scanner.consume($0) }
        }
        return result
    }
}
