import Foundation

extension String {
    /// Whether the two strings hold the same UTF-8 bytes (Swift's `==` compares canonical equivalence, so NFD and
    /// NFC spellings are equal there). Compares lengths, then the bytes with `memcmp` when both strings are native
    /// (contiguous UTF-8); `utf8.elementsEqual`, which walks the views a byte at a time through the generic
    /// `Sequence` path, was the validate stage's largest cost on chat text.
    func hasSameUTF8(as other: String) -> Bool {
        let (a, b) = (utf8, other.utf8)
        guard a.count == b.count else { return false }
        let equal = a.withContiguousStorageIfAvailable { x in
            b.withContiguousStorageIfAvailable { y in x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }
        return (equal ?? nil) ?? a.elementsEqual(b)
    }
}
