import RefineryRecords

/// The shape of a GPT-2-style decoder: learned positions, pre-LayerNorm blocks, GELU MLP four times as wide,
/// output layer tied to the token embedding.
public struct GPTConfig: Codable, Equatable, Sendable {
    /// Tokens in the vocabulary (the tokenizer's size).
    public var vocabularySize: Int
    /// The longest sequence, and the number of learned positions.
    public var context: Int
    /// Transformer blocks.
    public var layers: Int
    /// Attention heads per block; `width` must be a multiple.
    public var heads: Int
    /// The residual stream's width (`n_embd`).
    public var width: Int

    /// A configuration; call ``validate()`` before building a model from user input.
    public init(vocabularySize: Int, context: Int, layers: Int, heads: Int, width: Int) {
        self.vocabularySize = vocabularySize
        self.context = context
        self.layers = layers
        self.heads = heads
        self.width = width
    }

    /// Each head's width.
    public var headSize: Int { width / heads }

    /// - Throws: ``RefineryError`` (code `spec`) naming the first value that cannot make a model.
    public func validate() throws {
        for (name, value) in [("vocabulary", vocabularySize), ("context", context), ("layers", layers), ("heads", heads), ("width", width)] where value <= 0 {
            throw RefineryError(.spec, "model \(name) must be positive, got \(value)")
        }
        guard width % heads == 0 else {
            throw RefineryError(.spec, "model width \(width) is not a multiple of heads \(heads)")
        }
    }

    /// Parameters, counting the tied output layer once.
    public var parameterCount: Int { ParameterLayout(config: self).count }

    /// Model FLOPs to train on one token at this context, by the PaLM paper's count: `6·N + 12·L·C·T`, where `N`
    /// is every parameter except the position embeddings (the tied embedding counts: it is the output layer's
    /// matrix product) and the second term is attention's score and value products. The numerator of MFU.
    public var trainingFLOPsPerToken: Double {
        Double(6 * (parameterCount - context * width) + 12 * layers * width * context)
    }
}
