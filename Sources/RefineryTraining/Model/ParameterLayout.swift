/// Where each of the model's tensors sits in one flat buffer, in Hugging Face GPT-2's names, shapes and order.
///
/// Linear weights are stored as GPT-2's `Conv1D` stores them, `[in, out]` row-major, so a layer is
/// `y = x · W + b` with no transpose and export copies bytes as they are.
public struct ParameterLayout: Sendable {
    /// One named tensor.
    public struct Tensor: Sendable {
        /// Hugging Face's name, e.g. `transformer.h.0.attn.c_attn.weight`.
        public let name: String
        /// Its shape, outermost first.
        public let shape: [Int]
        /// Its first element's index in the flat buffer.
        public let offset: Int
        /// Whether AdamW decays it (matrices and embeddings; not biases or LayerNorm parameters).
        public let decays: Bool
        /// Elements.
        public var count: Int { shape.reduce(1, *) }
    }

    /// The offsets of one block's tensors.
    public struct Block: Sendable {
        public let ln1Weight, ln1Bias, qkvWeight, qkvBias, projWeight, projBias: Int
        public let ln2Weight, ln2Bias, fcWeight, fcBias, fcProjWeight, fcProjBias: Int
    }

    /// Every tensor, in storage order.
    public let tensors: [Tensor]
    /// Total elements.
    public let count: Int
    /// Offsets of the token and position embeddings and the final LayerNorm.
    public let tokenEmbedding, positionEmbedding, lnFinalWeight, lnFinalBias: Int
    /// Per-block offsets.
    public let blocks: [Block]

    /// Lays out `config`'s tensors.
    public init(config: GPTConfig) {
        var tensors: [Tensor] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], decays: Bool) -> Int {
            let tensor = Tensor(name: name, shape: shape, offset: offset, decays: decays)
            tensors.append(tensor)
            offset += tensor.count
            return tensor.offset
        }
        let (v, t, c) = (config.vocabularySize, config.context, config.width)
        tokenEmbedding = add("transformer.wte.weight", [v, c], decays: true)
        positionEmbedding = add("transformer.wpe.weight", [t, c], decays: true)
        var blocks: [Block] = []
        for l in 0..<config.layers {
            let p = "transformer.h.\(l)."
            blocks.append(Block(
                ln1Weight: add(p + "ln_1.weight", [c], decays: false), ln1Bias: add(p + "ln_1.bias", [c], decays: false),
                qkvWeight: add(p + "attn.c_attn.weight", [c, 3 * c], decays: true),
                qkvBias: add(p + "attn.c_attn.bias", [3 * c], decays: false),
                projWeight: add(p + "attn.c_proj.weight", [c, c], decays: true),
                projBias: add(p + "attn.c_proj.bias", [c], decays: false),
                ln2Weight: add(p + "ln_2.weight", [c], decays: false), ln2Bias: add(p + "ln_2.bias", [c], decays: false),
                fcWeight: add(p + "mlp.c_fc.weight", [c, 4 * c], decays: true),
                fcBias: add(p + "mlp.c_fc.bias", [4 * c], decays: false),
                fcProjWeight: add(p + "mlp.c_proj.weight", [4 * c, c], decays: true),
                fcProjBias: add(p + "mlp.c_proj.bias", [c], decays: false)))
        }
        self.blocks = blocks
        lnFinalWeight = add("transformer.ln_f.weight", [c], decays: false)
        lnFinalBias = add("transformer.ln_f.bias", [c], decays: false)
        self.tensors = tensors
        count = offset
    }
}
