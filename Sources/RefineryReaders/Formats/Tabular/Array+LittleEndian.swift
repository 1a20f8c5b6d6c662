/// Little-endian integer writing, for the binary forms the tabular readers keep: spill files and per-user units.
extension Array where Element == UInt8 {
    /// Appends `value` as `MemoryLayout<T>.size` little-endian bytes.
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        var little = value.littleEndian
        Swift.withUnsafeBytes(of: &little) { append(contentsOf: $0) }
    }
}

/// Reads little-endian integers and byte strings from a buffer, checking every read against its end.
///
/// Do not keep the buffer pointer beyond the closure that provided it.
struct LittleEndianReader {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Offset of the next unread byte.
    private(set) var offset = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Whether every byte has been read.
    var isAtEnd: Bool { offset == bytes.count }

    /// The next integer of type `T`, or `nil` when fewer bytes are left.
    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { return nil }
        let value = UnsafeRawBufferPointer(bytes).loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    /// The next `count` bytes, or `nil` when fewer are left.
    mutating func read(count: Int) -> UnsafeBufferPointer<UInt8>? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        let slice = UnsafeBufferPointer(rebasing: bytes[offset..<offset + count])
        offset += count
        return slice
    }
}
