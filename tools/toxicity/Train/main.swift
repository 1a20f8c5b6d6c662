// Trains the toxicity classifier (tools/toxicity/train.sh runs it): reads labelled JSON Lines, picks the
// regularisation and number of epochs by k-fold cross-validation on those lines only, fits the chosen setting on
// all of them, and writes the model file the `toxicity` stage loads.
//
//   toxicity-train --train train.jsonl --lexicon DIR --out model.bin [--bits 18] [--folds 5]
//
// Features come from the stage's own code (ToxicityScorer.features), so training and scoring cannot disagree.
import Foundation
import RefineryStages

struct Options {
    var train = ""
    var lexicon = ""
    var out = ""
    var bits = 18
    var folds = 5
    var seed: UInt64 = 20_121_002
}

func parse() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let flag = arguments.next() {
        guard let value = arguments.next() else { fail("\(flag) needs a value") }
        switch flag {
        case "--train": options.train = value
        case "--lexicon": options.lexicon = value
        case "--out": options.out = value
        case "--bits": options.bits = Int(value) ?? 0
        case "--folds": options.folds = Int(value) ?? 0
        case "--seed": options.seed = UInt64(value) ?? 0
        default: fail("unknown option \(flag)")
        }
    }
    guard !options.train.isEmpty, !options.lexicon.isEmpty, !options.out.isEmpty else {
        fail("usage: toxicity-train --train FILE.jsonl --lexicon DIR --out model.bin [--bits 18] [--folds 5]")
    }
    guard (12...22).contains(options.bits), options.folds >= 2 else { fail("--bits must be 12...22 and --folds at least 2") }
    return options
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("toxicity-train: \(message)\n".utf8))
    exit(64)
}

func load(_ path: String) -> [(text: String, label: Bool)] {
    guard let content = try? String(contentsOfFile: path, encoding: .utf8) else { fail("cannot read \(path)") }
    return content.split(separator: "\n").map { line in
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let text = object["text"] as? String, let label = object["label"] as? Int else {
            fail("\(path): a line is not {\"text\": …, \"label\": 0|1}")
        }
        return (text, label == 1)
    }
}

/// Precision, recall and F1 of `score >= threshold` against labels.
func f1(_ scored: [(Double, Bool)], threshold: Double) -> (p: Double, r: Double, f1: Double) {
    var tp = 0.0, fp = 0.0, fn = 0.0
    for (score, label) in scored {
        if score >= threshold { if label { tp += 1 } else { fp += 1 } } else if label { fn += 1 }
    }
    let p = tp + fp > 0 ? tp / (tp + fp) : 0
    let r = tp + fn > 0 ? tp / (tp + fn) : 0
    return (p, r, p + r > 0 ? 2 * p * r / (p + r) : 0)
}

let options = parse()
let lexicon: ToxicityLexicon
do { lexicon = try ToxicityLexicon(folder: options.lexicon) } catch { fail("\(error)") }
let examples = load(options.train)
let featurizer = ToxicityScorer(lexicon: lexicon, classifier: ToxicityClassifier(bits: options.bits))
let featured = examples.map { (featurizer.features([$0.text], language: "en"), $0.label) }
let positives = examples.filter(\.label).count
print("examples: \(examples.count) (\(positives) insults), lexicon: \(lexicon.languages.count) languages, en \(lexicon.termCount("en")) terms")

// Folds by position modulo k: the file's order is the competition's, not sorted by label.
let settings: [(l2: Float, epochs: Int, rate: Float)] = [1e-6, 1e-5, 1e-4].flatMap { l2 in
    [5, 10, 20].map { (l2, $0, Float(0.2)) }
}
var best: (setting: (l2: Float, epochs: Int, rate: Float), f1: Double) = (settings[0], -1)
print("cross-validation, \(options.folds) folds: F1 at 0.5")
for setting in settings {
    var scored: [(Double, Bool)] = []
    for fold in 0..<options.folds {
        var model = ToxicityClassifier(bits: options.bits)
        let train = featured.indices.filter { $0 % options.folds != fold }.map { featured[$0] }
        model.train(train, epochs: setting.epochs, rate: setting.rate, l2: setting.l2, seed: options.seed)
        for i in featured.indices where i % options.folds == fold {
            scored.append((model.probability(featured[i].0), featured[i].1))
        }
    }
    let result = f1(scored, threshold: 0.5)
    let thresholds = stride(from: 0.2, through: 0.9, by: 0.05).map { ($0, f1(scored, threshold: $0).f1) }
    let top = thresholds.max { $0.1 < $1.1 }!
    print(String(format: "  l2 %.0e  epochs %2d: P %.3f R %.3f F1 %.3f   (best threshold %.2f: F1 %.3f)",
                 Double(setting.l2), setting.epochs, result.p, result.r, result.f1, top.0, top.1))
    if result.f1 > best.f1 { best = (setting, result.f1) }
}
var model = ToxicityClassifier(bits: options.bits)
model.train(featured, epochs: best.setting.epochs, rate: best.setting.rate, l2: best.setting.l2, seed: options.seed)
print(String(format: "chosen: l2 %.0e, epochs %d (cross-validated F1 %.3f); lexicon-only model: bias %.3f, weights %@",
             Double(best.setting.l2), best.setting.epochs, best.f1, Double(model.lexiconOnlyBias),
             model.lexiconOnlyWeights.map { String(format: "%.3f", Double($0)) }.joined(separator: " ")))
do {
    try Data(model.serialized()).write(to: URL(fileURLWithPath: options.out))
} catch { fail("cannot write \(options.out): \(error)") }
print("wrote \(options.out) (\(model.serialized().count) bytes)")
