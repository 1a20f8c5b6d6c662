/// Turns cleaned cues into dialogue windows: consecutive cues merged until a silence longer than `maxGap`, or a
/// window reaching `maxCharacters` bytes of text or `maxCues` cues.
///
/// Timing errors are repaired and counted, never fatal: a cue ending before it starts is given zero length
/// (`cue_end_before_start`); cues out of order are put in start order, stably (`cue_out_of_order`); a cue
/// starting before the previous one ends is kept (`cue_overlap`). With `collapseRepeats`, rolling captions
/// (YouTube-style cues, back to back with the previous one, that repeat its last lines before adding a new one)
/// keep only the new lines, and a cue that only repeats is merged into the previous one (`rolling_repeat_collapsed`).
struct DialogueWindower: Sendable {
    var maxGap = 4000
    var maxCharacters = 2000
    var maxCues = 100
    var collapseRepeats = true

    /// One window: its span, text (cue texts joined by line breaks), cue count and first cue's line.
    struct Window {
        var start: Int
        var end: Int
        var text: String
        var cues: Int
        var line: Int
    }

    /// Windows over cleaned cues whose text ranges point into `arena`.
    func windows(_ input: [Cue], arena: [UInt8], events: inout [String: Int]) -> [Window] {
        var cues = input
        var outOfOrder = false
        for i in cues.indices {
            if cues[i].end < cues[i].start {
                events["cue_end_before_start", default: 0] += 1
                cues[i].end = cues[i].start
            }
            if i > 0 && cues[i].start < cues[i - 1].start {
                events["cue_out_of_order", default: 0] += 1
                outOfOrder = true
            }
        }
        if outOfOrder {
            cues = cues.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }.map(\.element)
        }
        if collapseRepeats { cues = collapse(cues, arena: arena, events: &events) }

        var windows: [Window] = []
        var open: (first: Int, end: Int, bytes: Int)?
        var previousEnd = Int.min
        func close(_ first: Int, _ last: Int, end: Int, bytes: Int) {
            let text = String(unsafeUninitializedCapacity: bytes) { buffer in
                var k = 0
                for index in first..<last {
                    if index > first {
                        buffer[k] = 0x0A
                        k += 1
                    }
                    for byte in arena[cues[index].text] {
                        buffer[k] = byte
                        k += 1
                    }
                }
                return k
            }
            windows.append(Window(start: cues[first].start, end: end, text: text, cues: last - first, line: cues[first].line))
        }
        for (index, cue) in cues.enumerated() {
            if cue.start < previousEnd { events["cue_overlap", default: 0] += 1 }
            previousEnd = max(previousEnd, cue.end)
            if let current = open {
                let fits = cue.start - current.end <= maxGap && index - current.first < maxCues
                    && current.bytes + 1 + cue.text.count <= maxCharacters
                if fits {
                    open = (current.first, max(current.end, cue.end), current.bytes + 1 + cue.text.count)
                    continue
                }
                close(current.first, index, end: current.end, bytes: current.bytes)
            }
            open = (index, cue.end, cue.text.count)
        }
        if let current = open { close(current.first, cues.count, end: current.end, bytes: current.bytes) }
        return windows
    }

    /// How far (ms) a cue may start after the previous one ends and still be read as a rolling repeat.
    static let rollingTolerance = 20

    /// Drops each cue's leading lines that repeat the previous cue's trailing lines.
    private func collapse(_ cues: [Cue], arena: [UInt8], events: inout [String: Int]) -> [Cue] {
        var out: [Cue] = []
        out.reserveCapacity(cues.count)
        var previousLines: [Range<Int>] = []
        var lines: [Range<Int>] = []
        func split(_ range: Range<Int>, into lines: inout [Range<Int>]) {
            lines.removeAll(keepingCapacity: true)
            var start = range.lowerBound
            for k in range where arena[k] == 0x0A {
                lines.append(start..<k)
                start = k + 1
            }
            lines.append(start..<range.upperBound)
        }
        for var cue in cues {
            split(cue.text, into: &lines)
            var repeated = 0
            // Rolling captions follow each other back to back; a repeat after a pause is dialogue ("No!" "No!").
            if let previous = out.last, cue.start <= previous.end + Self.rollingTolerance {
                for k in stride(from: min(lines.count, previousLines.count), to: 0, by: -1) {
                    var same = true
                    for m in 0..<k where !arena[lines[m]].elementsEqual(arena[previousLines[previousLines.count - k + m]]) {
                        same = false
                        break
                    }
                    if same {
                        repeated = k
                        break
                    }
                }
            }
            swap(&previousLines, &lines)
            if repeated == previousLines.count {
                events["rolling_repeat_collapsed", default: 0] += 1
                out[out.count - 1].end = max(out[out.count - 1].end, cue.end)
                continue
            }
            if repeated > 0 {
                events["rolling_repeat_collapsed", default: 0] += 1
                cue.text = previousLines[repeated].lowerBound..<cue.text.upperBound
            }
            out.append(cue)
        }
        return out
    }
}
