/// Learning a tokenizer from a dataset folder's shards.
extension BPETokenizer {
    /// Learns BPE merges from the texts of a split of `directory`, up to `vocabularySize` tokens with the default
    /// special tokens.
    /// - Returns: the tokenizer, the trainer (for its statistics) and the bytes of text it learned from.
    /// - Throws: ``RefineryError`` (code `integrity`) when a shard differs from the manifest.
    public static func learn(fromDataset directory: String, split: String = "train", vocabularySize: Int) throws -> (tokenizer: BPETokenizer, trainer: BPETrainer, bytes: Int) {
        let texts = try DatasetTexts(directory: directory)
        var trainer = BPETrainer()
        var bytes = 0
        try texts.forEachText(split: split) { text in
            trainer.add(text)
            bytes += text.utf8.count
        }
        let merges = trainer.train(vocabularySize: vocabularySize - defaultSpecialTokens.count)
        return (try BPETokenizer(merges: merges), trainer, bytes)
    }
}
