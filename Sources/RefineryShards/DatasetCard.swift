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
        let hasRejects = !manifest.rejects.isEmpty
        if hasRejects {
            lines += ["- config_name: rejects", "  data_files:", "  - split: rejects", "    path: \"rejects/*.jsonl.zst\""]
        }
        let record = recordFeatures(scoreKeys: scoreKeys, piiKeys: piiKeys)
        lines += ["dataset_info:", "- config_name: default", "  features:"] + record.map { "  " + $0 } + ["  splits:"]
        for split in ["train", "validation"] {
            if let summary = manifest.splits[split], summary.shards > 0 {
                let bytes = manifest.shards.filter { $0.split == split }.reduce(0) { $0 + $1.uncompressedBytes }
                lines += ["  - name: \(split)", "    num_bytes: \(bytes)", "    num_examples: \(summary.records)"]
            }
        }
        if hasRejects {
            // A reject line has the keys below, those it lacks read as null: `raw` for a line that never became a
            // record, `record` (the record schema) for one a stage dropped, `kept_id` for a duplicate.
            lines += ["- config_name: rejects", "  features:"]
            for name in ["id", "stage", "reason", "detail", "file"] { lines += ["  - name: \(name)", "    dtype: string"] }
            lines += ["  - name: line", "    dtype: int64", "  - name: kept_id", "    dtype: string", "  - name: raw", "    dtype: string",
                      "  - name: record", "    struct:"] + record.map { "    " + $0 }
            lines += ["  splits:", "  - name: rejects", "    num_bytes: \(manifest.rejects.reduce(0) { $0 + $1.uncompressedBytes })",
                      "    num_examples: \(manifest.totals.quarantined)"]
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
                  "(chats, `role`/`content`), `reward`, `items`/`rewards`/`timestamps` (a user's interaction history), `scores` and `pii`",
                  "(what the stages measured), and `meta` (the input's other fields, as a JSON string). Each line of `rejects/` is one",
                  "record quarantined: `id`, `stage`, `reason`, `detail`, `file`, `line`, and `record` (or `raw` for a line that never",
                  "became one; `kept_id` for a duplicate).", "",
                  "```python", "from datasets import load_dataset", "ds = load_dataset(\"path/to/this/folder\")"]
        if hasRejects { lines.append("rejects = load_dataset(\"path/to/this/folder\", \"rejects\")") }
        lines += ["```", ""]
        return lines.joined(separator: "\n")
    }

    /// The record schema as a YAML list of features, unindented.
    private static func recordFeatures(scoreKeys: [String], piiKeys: [String]) -> [String] {
        var lines: [String] = []
        for name in ["id", "source", "category", "lang", "text"] {
            lines += ["- name: \(name)", "  dtype: string"]
        }
        lines += ["- name: messages", "  list:", "  - name: role", "    dtype: string",
                  "  - name: content", "    dtype: string", "- name: reward", "  dtype: float64",
                  "- name: items", "  sequence: string", "- name: rewards", "  sequence: float64",
                  "- name: timestamps", "  sequence: int64"]
        // Every record carries `scores` and `pii` (null when a record has none); with no key seen at all the
        // column is all null.
        if scoreKeys.isEmpty {
            lines += ["- name: scores", "  dtype: \"null\""]
        } else {
            lines += ["- name: scores", "  struct:"]
            for key in scoreKeys { lines += ["  - name: \(quoted(key))", "    dtype: float64"] }
        }
        if piiKeys.isEmpty {
            lines += ["- name: pii", "  dtype: \"null\""]
        } else {
            lines += ["- name: pii", "  struct:"]
            for key in piiKeys { lines += ["  - name: \(quoted(key))", "    dtype: int64"] }
        }
        lines += ["- name: meta", "  dtype: string"]
        return lines
    }

    private static func quoted(_ key: String) -> String {
        "\"" + key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
