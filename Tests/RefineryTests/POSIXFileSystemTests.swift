import Foundation
import RefineryShards
import Testing

@Suite struct POSIXFileSystemTests {
    @Test("contents(atPath:) reads a whole file into an array, empty or of several MiB; a missing file or a folder is nil",
          arguments: [0, 1, 4097, 3 << 20])
    func contents(size: Int) throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.path + "/file"
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(POSIXFileSystem.contents(atPath: path) == bytes)
        #expect(POSIXFileSystem.contents(atPath: folder.path + "/missing") == nil)
        #expect(POSIXFileSystem.contents(atPath: folder.path) == nil)

        // Part of it from an offset: all that is asked, or what is left before the end.
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let offset = size / 3
        #expect(POSIXFileSystem.read(descriptor, count: size / 3, at: offset) == Array(bytes[offset..<(offset + size / 3)]))
        #expect(POSIXFileSystem.read(descriptor, count: size + 10, at: offset) == Array(bytes[offset...]))
        #expect(POSIXFileSystem.read(-1, count: 10, at: 0) == nil && errno == EBADF)
    }
}
