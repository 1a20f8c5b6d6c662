import RefineryRecords

/// Reads a file whole for formats whose unit is a file (text documents, subtitles), keeping at most a limit.
enum WholeFile {
    /// The file's content, or the reason it cannot be a unit: `documentTooLong` (only the first
    /// ``LineSplitter/previewBytes`` kept), or `truncated` (what was read kept, up to the preview size).
    static func read(_ stream: ByteStream, limit: Int) -> (bytes: [UInt8], problem: RawUnit.Problem?) {
        var content: [UInt8] = []
        var oversize = false
        do {
            while try stream.next(into: &content) {
                // Once over the limit, every later chunk is cut too: the last one alone may be under it (a 370 KB
                // preview was kept of a subtitle file that ended so).
                if oversize || content.count > limit {
                    oversize = true
                    // The limit may be below the preview size: keep at most what was read.
                    content.removeSubrange(min(LineSplitter.previewBytes, content.count)...)
                }
            }
        } catch let error as RefineryError {
            return (Array(content.prefix(LineSplitter.previewBytes)), .truncated(detail: error.message))
        } catch {
            return (Array(content.prefix(LineSplitter.previewBytes)), .truncated(detail: "\(error)"))
        }
        if oversize { return (content, .documentTooLong(bytes: stream.bytesRead, limit: limit)) }
        return (content, nil)
    }
}
