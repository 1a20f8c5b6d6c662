/// Turns cleaned cues into dialogue windows: consecutive cues merged until a silence longer than `maxGap`, or a
/// window reaching `maxCharacters` bytes of text or `maxCues` cues.
///
/// Timing errors are repaired and counted, never fatal: a cue ending before it starts is given zero length
/// (`cue_end_before_start`); cues out of order are put in start order, stably (`cue_out_of_order`); a cue
/// starting before the previous one ends is kept (`cue_overlap`). With `collapseRepeats`, rolling captions
/// (YouTube-style cues that repeat the previous cue's last lines before adding a new one) keep only the new
/// lines, and a cue that only repeats is merged into the previous one (`rolling_repeat_collapsed`).
struct DialogueWindower: Sendable {
    var maxGap = 4000
    var maxCharacters = 2000
    var maxCues = 100
    var collapseRepeats = true

    /// One window: its span, text (cue texts joined by line breaks), cue count and first cue's line.
    struct Window {
        var start: Int
        var end: Int
        var text: [UInt8]
        var cues: Int
        var line: Int
    }

    func windows(_ input: [Cue], events: inout [String: Int]) -> [Window] {
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
        if collapseRepeats { cues = collapse(cues, events: &events) }

        var windows: [Window] = []
        var current: Window?
        var previousEnd = Int.min
        for cue in cues {
            if cue.start < previousEnd { events["cue_overlap", default: 0] += 1 }
            previousEnd = max(previousEnd, cue.end)
            if var open = current {
                let fits = cue.start - open.end <= maxGap && open.cues < maxCues && open.text.count + 1 + cue.text.count <= maxCharacters
                if fits {
                    open.text.append(0x0A)
                    open.text.append(contentsOf: cue.text)
                    open.end = max(open.end, cue.end)
                    open.cues += 1
                    current = open
                    continue
                }
                windows.append(open)
            }
            current = Window(start: cue.start, end: cue.end, text: cue.text, cues: 1, line: cue.line)
        }
        if let current { windows.append(current) }
        return windows
    }

    private func collapse(_ cues: [Cue], events: inout [String: Int]) -> [Cue] {
        var out: [Cue] = []
        out.reserveCapacity(cues.count)
        var previousLines: [ArraySlice<UInt8>] = []
        for var cue in cues {
            let lines = cue.text.split(separator: 0x0A, omittingEmptySubsequences: false)
            var repeated = 0
            if !out.isEmpty {
                for k in stride(from: min(lines.count, previousLines.count), to: 0, by: -1)
                where lines[0..<k].elementsEqual(previousLines[(previousLines.count - k)...]) {
                    repeated = k
                    break
                }
            }
            previousLines = lines
            if repeated == lines.count {
                events["rolling_repeat_collapsed", default: 0] += 1
                out[out.count - 1].end = max(out[out.count - 1].end, cue.end)
                continue
            }
            if repeated > 0 {
                events["rolling_repeat_collapsed", default: 0] += 1
                cue.text = Array(lines[repeated...].joined(separator: [0x0A]))
            }
            out.append(cue)
        }
        return out
    }
}
