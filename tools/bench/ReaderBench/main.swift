// reader-bench FOLDER [ROUNDS]: times the subtitle reader's phases over every .srt/.vtt/.ass file in FOLDER, on
// the calling thread (pin it with taskset), after reading all files into memory. Phases, each timed alone:
//   text    bytes → UTF-8 (BOM, UTF-16/32, legacy re-decoding)
//   parse   text + cue parsing (SRT/WebVTT/ASS block parsers): bytes → cues with their times and text ranges
//   reader  the whole reader (SubtitleFormat.decodeUnit): parse + markup/hearing-impaired cleaning + dialogue
//           windows + records
// Prints MB/s of input per phase (fastest of ROUNDS) as one JSON object on stdout.
import Foundation
import RefineryReaders
import RefineryRecords

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: reader-bench FOLDER [ROUNDS]\n".utf8))
    exit(64)
}
let folder = arguments[1]
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3
let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().filter { SubtitleKind(fileName: $0) != nil }
let files: [(name: String, kind: SubtitleKind, bytes: [UInt8])] = try names.map { name in
    (name, SubtitleKind(fileName: name)!, Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))))
}
let totalBytes = files.reduce(0) { $0 + $1.bytes.count }
let format = try SubtitleFormat(options: nil)

func time(_ body: () throws -> Int) rethrows -> (seconds: Double, check: Int) {
    var best = Double.infinity
    var check = 0
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        check = try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return (best, check)
}

let text = try time {
    var n = 0
    for file in files {
        n += try file.bytes.withUnsafeBufferPointer { buffer in
            switch try SubtitleText.decode(buffer, legacy: .windows1252) {
            case .inPlace(let offset): buffer.count - offset
            case .transcoded(let text, _): text.count
            }
        }
    }
    return n
}
let parse = try time {
    var cues = 0
    for file in files {
        cues += try file.bytes.withUnsafeBufferPointer { input in
            func count(_ buffer: UnsafeBufferPointer<UInt8>) -> Int {
                switch file.kind {
                case .srt: CueBlockParser(webVTT: false).parse(buffer).cues.count
                case .vtt: CueBlockParser(webVTT: true).parse(buffer).cues.count
                case .ass: ASSParser().parse(buffer).cues.count
                }
            }
            switch try SubtitleText.decode(input, legacy: .windows1252) {
            case .inPlace(let offset): return count(UnsafeBufferPointer(rebasing: input[offset...]))
            case .transcoded(let text, _): return text.withUnsafeBufferPointer { count($0) }
            }
        }
    }
    return cues
}
let reader = time {
    var records = 0
    for file in files {
        var decoded = DecodedUnit()
        let context = UnitContext(source: "bench", category: nil, lang: nil, relativePath: file.name, path: file.name, line: 1)
        file.bytes.withUnsafeBufferPointer { format.decodeUnit($0, context: context, into: &decoded) }
        records += decoded.records.count
    }
    return records
}
let mb = Double(totalBytes) / 1e6
func rate(_ seconds: Double) -> String { String(format: "%.1f", mb / seconds) }
print("{\"files\":\(files.count),\"mb\":\(String(format: "%.1f", mb)),\"cues\":\(parse.check),\"records\":\(reader.check),"
    + "\"text_mb_s\":\(rate(text.seconds)),\"parse_mb_s\":\(rate(parse.seconds)),\"reader_mb_s\":\(rate(reader.seconds))}")
