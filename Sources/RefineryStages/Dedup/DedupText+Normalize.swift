import RefineryCodecs

extension DedupText {
    /// Writes the view's text normalised by ``normalization`` into `normalized`, and when `hashingWords` the XXH3 of
    /// each normalised word into `wordHashes`.
    ///
    /// Words come from the view; only the gaps between them are looked at byte by byte, and only when punctuation or
    /// whitespace is kept. The output is at most the input plus one separator per word, except where lower-casing
    /// lengthens a character (`İ` → `i̇`): then the buffer is doubled and the record done again.
    mutating func normalize(_ view: TextView, hashingWords: Bool) {
        var capacity = view.bytes.count + view.words.count + 16
        if hashingWords && wordHashes.count < view.words.count {
            wordHashes = ContiguousArray(repeating: 0, count: max(view.words.count, 2 * wordHashes.count))
        }
        let options = normalization
        while true {
            if normalized.count < capacity {
                normalized = ContiguousArray(repeating: 0, count: max(capacity, 2 * normalized.count))
            }
            let written: Int? = view.bytes.withUnsafeBufferPointer { text in
                view.words.withUnsafeBufferPointer { words in
                    normalized.withUnsafeMutableBufferPointer { out in
                        wordHashes.withUnsafeMutableBufferPointer { hashes in
                            // An empty text normalises to nothing.
                            guard let textBase = text.baseAddress, let outBase = out.baseAddress else { return 0 }
                            var writer = NormalizingWriter(
                                text: textBase, out: outBase, capacity: out.count, options: options)
                            return writer.write(
                                words, hashes: hashingWords ? hashes.baseAddress : nil, textCount: text.count)
                        }
                    }
                }
            }
            if let written {
                normalizedCount = written
                wordCount = hashingWords ? view.words.count : 0
                return
            }
            capacity *= 2
        }
    }
}

extension DedupText {
    /// Writes normalised text through raw pointers; valid only inside ``DedupText/normalize(_:hashingWords:)``.
    struct NormalizingWriter {
        let text: UnsafePointer<UInt8>
        let out: UnsafeMutablePointer<UInt8>
        let capacity: Int
        let lowercase: Bool
        let strip: Bool
        let digits: Bool
        let collapse: Bool
        /// Bytes written so far.
        var position = 0
        /// Whitespace was seen since the last character written (collapsing mode).
        var pendingSpace = false

        init(text: UnsafePointer<UInt8>, out: UnsafeMutablePointer<UInt8>, capacity: Int, options: DedupNormalization) {
            self.text = text
            self.out = out
            self.capacity = capacity
            lowercase = options.lowercase
            strip = options.stripPunctuation
            digits = options.digitsToZero
            collapse = options.collapseWhitespace
        }

        /// Writes the whole text; returns the bytes written, or nil when the output did not fit.
        mutating func write(_ words: UnsafeBufferPointer<Range<Int>>, hashes: UnsafeMutablePointer<UInt64>?,
                            textCount: Int) -> Int? {
            if strip && collapse {
                // The normalised words joined by one space: no need to look between them.
                for k in 0..<words.count {
                    if k > 0 {
                        guard position < capacity else { return nil }
                        out[position] = 0x20
                        position += 1
                    }
                    let start = position
                    let range = words[k]
                    if !asciiWord(range, textCount: textCount) {
                        position = start
                        guard word(range) else { return nil }
                    }
                    if let hashes { hashes[k] = hash(from: start) }
                }
                return position
            }
            var previousEnd = 0
            for k in 0..<words.count {
                let range = words[k]
                guard gap(previousEnd, range.lowerBound), flushSpace() else { return nil }
                let start = position
                guard word(range) else { return nil }
                if let hashes { hashes[k] = hash(from: start) }
                previousEnd = range.upperBound
            }
            guard gap(previousEnd, textCount) else { return nil }
            return position
        }

        /// XXH3 of the bytes written since `start` (one word).
        @inline(__always)
        private func hash(from start: Int) -> UInt64 {
            XXH3.hash(UnsafeRawBufferPointer(start: out + start, count: position - start))
        }

        /// Writes an ASCII word without apostrophes or hyphens eight bytes at a time, and returns true; returns false
        /// (having written garbage from ``position`` on) for any other word, or one too near the end of the input or
        /// the output for whole eight-byte loads and stores.
        @inline(__always)
        private mutating func asciiWord(_ range: Range<Int>, textCount: Int) -> Bool {
            let count = range.count
            let chunks = (count + 7) >> 3
            guard range.lowerBound + chunks * 8 <= textCount, position + chunks * 8 <= capacity else { return false }
            let source = UnsafeRawPointer(text + range.lowerBound)
            let target = UnsafeMutableRawPointer(out + position)
            for chunk in 0..<chunks {
                var v = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: chunk * 8, as: UInt64.self))
                let valid = count - chunk * 8
                if valid < 8 { v &= (1 << (UInt64(valid) * 8)) - 1 }
                guard v & Self.highBits == 0, !Self.hasByte(v, 0x27), !Self.hasByte(v, 0x2D) else { return false }
                if lowercase { v |= Self.inRange(v, 0x41, 0x5A) >> 2 }
                if digits {
                    let isDigit = Self.inRange(v, 0x30, 0x39) >> 7 &* 0xFF
                    v = v & ~isDigit | 0x3030_3030_3030_3030 & isDigit
                }
                target.storeBytes(of: v.littleEndian, toByteOffset: chunk * 8, as: UInt64.self)
            }
            position += count
            return true
        }

        private static let highBits: UInt64 = 0x8080_8080_8080_8080
        private static let ones: UInt64 = 0x0101_0101_0101_0101

        /// Whether any byte of `v` equals `byte`.
        @inline(__always)
        private static func hasByte(_ v: UInt64, _ byte: UInt8) -> Bool {
            let x = v ^ (ones &* UInt64(byte))
            return (x &- ones) & ~x & highBits != 0
        }

        /// 0x80 in each byte of `v` (all ASCII) that lies in `low...high`, 0 in the others.
        @inline(__always)
        private static func inRange(_ v: UInt64, _ low: UInt8, _ high: UInt8) -> UInt64 {
            let atLeastLow = (v &+ ones &* UInt64(0x80 - low)) & highBits
            let aboveHigh = (v &+ ones &* UInt64(0x7F - high)) & highBits
            return atLeastLow & ~aboveHigh
        }

        /// Writes one word, normalised.
        @inline(__always)
        private mutating func word(_ range: Range<Int>) -> Bool {
            var high: UInt8 = 0
            for i in range { high |= text[i] }
            guard high < 0x80 else { return nonASCIIWord(range) }
            guard position + range.count <= capacity else { return false }
            let lowercase = lowercase, strip = strip, digits = digits
            var p = position
            for i in range {
                var c = text[i]
                if strip && (c == 0x27 || c == 0x2D) { continue }
                if lowercase && c &- 0x41 < 26 { c |= 0x20 }
                if digits && c &- 0x30 < 10 { c = 0x30 }
                out[p] = c
                p += 1
            }
            position = p
            return true
        }

        /// Writes one word that holds non-ASCII characters, a character at a time: two-byte characters (Latin, Greek,
        /// Cyrillic, Armenian, Hebrew, Arabic…) by ``CaseTable``, longer ones copied unless their script has case.
        private mutating func nonASCIIWord(_ range: Range<Int>) -> Bool {
            var i = range.lowerBound
            while i < range.upperBound {
                let lead = text[i]
                if lead < 0x80 {
                    var c = lead
                    i += 1
                    if strip && (c == 0x27 || c == 0x2D) { continue }
                    if lowercase && c &- 0x41 < 26 { c |= 0x20 }
                    if digits && c &- 0x30 < 10 { c = 0x30 }
                    guard emit(c) else { return false }
                    continue
                }
                let (value, length) = Self.decode(text, at: i, end: range.upperBound)
                defer { i += length }
                if strip && (value == 0x2019 || value == 0x2010) { continue }
                if length == 2 {
                    let entry = CaseTable.twoByte[Int(value) - 0x80]
                    if digits && entry & CaseTable.digit != 0 {
                        guard emit(0x30) else { return false }
                    } else if !lowercase {
                        guard copy(i, length) else { return false }
                    } else if entry & CaseTable.multiple != 0 {
                        guard emit(mapping: value) else { return false }
                    } else {
                        guard emit(scalar: entry & CaseTable.scalarMask) else { return false }
                    }
                    continue
                }
                let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
                if digits && scalar.properties.generalCategory == .decimalNumber {
                    guard emit(0x30) else { return false }
                } else if lowercase && CaseTable.mayHaveCase(value) && scalar.properties.changesWhenLowercased {
                    guard emit(mapping: value) else { return false }
                } else {
                    guard copy(i, length) else { return false }
                }
            }
            return true
        }

        /// Handles the text between two words: whitespace collapsed or copied, punctuation dropped or copied.
        private mutating func gap(_ start: Int, _ end: Int) -> Bool {
            var i = start
            while i < end {
                let lead = text[i]
                var length = 1
                let isSpace: Bool
                if lead < 0x80 {
                    isSpace = lead == 0x20 || lead &- 0x09 < 5
                } else {
                    let decoded = Self.decode(text, at: i, end: end)
                    length = decoded.length
                    isSpace = Unicode.Scalar(decoded.scalar)?.properties.isWhitespace ?? false
                }
                if isSpace {
                    if !collapse {
                        guard copy(i, length) else { return false }
                    } else if position > 0 {
                        pendingSpace = true
                    }
                } else if !strip {
                    guard flushSpace(), copy(i, length) else { return false }
                }
                i += length
            }
            return true
        }

        /// Writes the space that stands for a run of whitespace, if one is pending.
        @inline(__always)
        private mutating func flushSpace() -> Bool {
            guard pendingSpace else { return true }
            pendingSpace = false
            return emit(0x20)
        }

        @inline(__always)
        private mutating func emit(_ byte: UInt8) -> Bool {
            guard position < capacity else { return false }
            out[position] = byte
            position += 1
            return true
        }

        /// Copies `length` input bytes at `i`.
        @inline(__always)
        private mutating func copy(_ i: Int, _ length: Int) -> Bool {
            guard position + length <= capacity else { return false }
            (out + position).update(from: text + i, count: length)
            position += length
            return true
        }

        /// Writes a scalar as UTF-8.
        private mutating func emit(scalar value: UInt32) -> Bool {
            if value < 0x80 { return emit(UInt8(value)) }
            if value < 0x800 {
                guard position + 2 <= capacity else { return false }
                out[position] = UInt8(0xC0 | value >> 6)
                out[position + 1] = UInt8(0x80 | value & 0x3F)
                position += 2
                return true
            }
            if value < 0x1_0000 {
                guard position + 3 <= capacity else { return false }
                out[position] = UInt8(0xE0 | value >> 12)
                out[position + 1] = UInt8(0x80 | value >> 6 & 0x3F)
                out[position + 2] = UInt8(0x80 | value & 0x3F)
                position += 3
                return true
            }
            guard position + 4 <= capacity else { return false }
            out[position] = UInt8(0xF0 | value >> 18)
            out[position + 1] = UInt8(0x80 | value >> 12 & 0x3F)
            out[position + 2] = UInt8(0x80 | value >> 6 & 0x3F)
            out[position + 3] = UInt8(0x80 | value & 0x3F)
            position += 4
            return true
        }

        /// Writes a scalar's full lower-case mapping (one or more scalars), as `String.lowercased()` would.
        private mutating func emit(mapping value: UInt32) -> Bool {
            guard let scalar = Unicode.Scalar(value) else { return true }
            for byte in scalar.properties.lowercaseMapping.utf8 {
                guard emit(byte) else { return false }
            }
            return true
        }

        /// The scalar starting at byte `i` of valid UTF-8, and its length; a sequence cut short by `end` reads as
        /// U+FFFD up to `end`.
        @inline(__always)
        static func decode(_ p: UnsafePointer<UInt8>, at i: Int, end: Int) -> (scalar: UInt32, length: Int) {
            let lead = UInt32(p[i])
            let length = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
            guard i + length <= end else { return (0xFFFD, end - i) }
            switch length {
            case 2: return ((lead & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2)
            case 3: return ((lead & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
            default:
                return ((lead & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
                            | UInt32(p[i + 3] & 0x3F), 4)
            }
        }
    }

    /// Lower-case mappings of the two-byte UTF-8 characters (U+0080–U+07FF: Latin, Greek, Cyrillic, Armenian, Hebrew,
    /// Arabic…), looked up per character instead of through `String.lowercased()`, which allocates.
    enum CaseTable {
        /// Per scalar U+0080 + i: its lower-case scalar, or ``multiple`` when the mapping is several scalars
        /// (`İ` → `i̇`), plus ``digit`` for decimal digits.
        static let twoByte: [UInt32] = (UInt32(0x80)..<0x800).map { value in
            guard let scalar = Unicode.Scalar(value) else { return value }
            let lower = scalar.properties.lowercaseMapping.unicodeScalars
            var entry = lower.count == 1 ? (lower.first?.value ?? value) : value | multiple
            if scalar.properties.generalCategory == .decimalNumber { entry |= digit }
            return entry
        }
        static let scalarMask: UInt32 = 0x1F_FFFF
        static let multiple: UInt32 = 1 << 31
        static let digit: UInt32 = 1 << 30

        /// Whether a scalar of three or four UTF-8 bytes may change when lower-cased; false for the large caseless
        /// blocks (Indic scripts, Thai, CJK, kana, Hangul), so that their characters skip the property lookup.
        @inline(__always)
        static func mayHaveCase(_ value: UInt32) -> Bool {
            !(value < 0x10A0 || (0x2E80..<0xA640).contains(value) || (0xAC00..<0xD800).contains(value))
        }
    }
}
