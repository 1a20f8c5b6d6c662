/// `README.md` of a dataset folder: a Hugging Face dataset card whose YAML header declares the splits and the
/// record schema, so `datasets.load_dataset(FOLDER)` reads chats and documents from every source as one table
/// (without it, Arrow infers a schema from the first shard and fails on the next one).
public enum DatasetCard {
    /// The card's text, the same for the same manifest.
    /// - Parameters:
    ///   - scoreKeys: every key of `scores` written to a shard (declared as float64 fields).
    ///   - piiKeys: every key of `pii` written to a shard (declared as int64 fields).
    public static func render(_ manifest: Manifest, specPath: String, scoreKeys: [String], piiKeys: [String]) -> String {
        var lines = ["---", "configs:", "- config_name: default", "  data_files:"]
        for split in ["train", "validation"] where (manifest.splits[split]?.shards ?? 0) > 0 {
            lines += ["  - split: \(split)", "    path: \"\(split)-*.jsonl.zst\""]
        }
        lines += ["dataset_info:", "  features:"]
        for name in ["id", "source", "category", "lang", "text"] {
            lines += ["  - name: \(name)", "    dtype: string"]
        }
        lines += ["  - name: messages", "    list:", "    - name: role", "      dtype: string",
                  "    - name: content", "      dtype: string", "  - name: reward", "    dtype: float64",
                  "  - name: items", "    sequence: string", "  - name: rewards", "    sequence: float64",
                  "  - name: timestamps", "    sequence: int64"]
        // Every record carries `scores` and `pii` (null when a record has none); with no key seen at all the
        // column is all null.
        if scoreKeys.isEmpty {
            lines += ["  - name: scores", "    dtype: \"null\""]
        } else {
            lines += ["  - name: scores", "    struct:"]
            for key in scoreKeys { lines += ["    - name: \(quoted(key))", "      dtype: float64"] }
        }
        if piiKeys.isEmpty {
            lines += ["  - name: pii", "    dtype: \"null\""]
        } else {
            lines += ["  - name: pii", "    struct:"]
            for key in piiKeys { lines += ["    - name: \(quoted(key))", "      dtype: int64"] }
        }
        lines += ["  - name: meta", "    dtype: string", "  splits:"]
        for split in ["train", "validation"] {
            if let summary = manifest.splits[split], summary.shards > 0 {
                let bytes = manifest.shards.filter { $0.split == split }.reduce(0) { $0 + $1.uncompressedBytes }
                lines += ["  - name: \(split)", "    num_bytes: \(bytes)", "    num_examples: \(summary.records)"]
            }
        }
        lines += ["---", "", "# \(manifest.dataset) \(manifest.version)", ""]
        lines.append("Made by Refinery from `\(specPath)` (config \(manifest.configHash)) out of \(manifest.inputs.count) input file(s): "
            + "\(manifest.totals.read) units read, \(manifest.totals.written) records written, \(manifest.totals.quarantined) quarantined "
            + "(see `rejects/` and `manifest.json`).")
        lines.append("")
        lines.append("| split | records | shards | categories |")
        lines.append("|---|---:|---:|---|")
        for split in ["train", "validation"] {
            let summary = manifest.splits[split] ?? SplitSummary(records: 0, shards: 0, categories: [:])
            let categories = summary.categories.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("| \(split) | \(summary.records) | \(summary.shards) | \(categories) |")
        }
        lines += ["", "Each line of a shard is one record: `id`, `source`, `category`, `lang`, `text` (documents) or `messages`",
                  "(chats, `role`/`content`), `reward`, `items`/`rewards`/`timestamps` (a user's interaction history), and `meta` (the input's other fields, as a JSON string).", "",
                  "```python", "from datasets import load_dataset", "ds = load_dataset(\"path/to/this/folder\")", "```", ""]
        return lines.joined(separator: "\n")
    }

    private static func quoted(_ key: String) -> String {
        "\"" + key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
