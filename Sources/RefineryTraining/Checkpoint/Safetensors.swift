import Foundation
import RefineryRecords

/// The safetensors file format (an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
/// shape and byte range, then the raw little-endian data), for fp32 tensors: what PyTorch and Hugging Face load.
public enum Safetensors {
    /// One tensor to write: its name, shape and values.
    public struct Tensor {
        public let name: String
        public let shape: [Int]
        public let values: UnsafeBufferPointer<Float>
        /// A tensor over `values`, which must outlive the write.
        public init(name: String, shape: [Int], values: UnsafeBufferPointer<Float>) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// Writes `tensors` in the given order, with `metadata` in the header's `__metadata__`.
    /// - Throws: ``RefineryError`` (code `output`) when the file cannot be written.
    public static func write(_ tensors: [Tensor], metadata: [String: String], to path: String) throws {
        var header = "{\"__metadata__\":{"
        header += metadata.sorted { $0.key < $1.key }.map { "\(quoted($0.key)):\(quoted($0.value))" }.joined(separator: ",")
        header += "}"
        var offset = 0
        for tensor in tensors {
            precondition(tensor.shape.reduce(1, *) == tensor.values.count, "shape and values of \(tensor.name) differ")
            let end = offset + tensor.values.count * 4
            header += ",\(quoted(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        header += "}"
        // The data starts on an 8-byte boundary; the format pads the header with spaces.
        while (header.utf8.count + 8) % 8 != 0 { header += " " }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + header.utf8.count + offset)
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header.utf8)
        for tensor in tensors {
            // fp32 little-endian is the machine's layout on every platform Refinery builds for.
            bytes.append(contentsOf: UnsafeRawBufferPointer(tensor.values))
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw RefineryError(.output, "cannot write the tensors file; check the folder exists and is writable",
                                at: SourceLocation(file: path))
        }
    }

    /// Reads every fp32 tensor of a file, by name.
    /// - Throws: ``RefineryError`` (code `integrity`) for a truncated file, a bad header or a dtype other than F32.
    public static func read(path: String) throws -> [String: (shape: [Int], values: [Float])] {
        let location = SourceLocation(file: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RefineryError(.integrity, "missing or unreadable tensors file", at: location)
        }
        guard data.count >= 8 else { throw RefineryError(.integrity, "not a safetensors file (shorter than its header length)", at: location) }
        let headerLength = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard headerLength <= data.count - 8,
              let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any] else {
            throw RefineryError(.integrity, "not a safetensors file (unreadable header)", at: location)
        }
        let base = 8 + headerLength
        var result: [String: (shape: [Int], values: [Float])] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw RefineryError(.integrity, "tensor '\(name)' has a malformed header entry", at: location)
            }
            guard dtype == "F32" else { throw RefineryError(.integrity, "tensor '\(name)' is \(dtype); only F32 is read", at: location) }
            let count = shape.reduce(1, *)
            guard offsets[0] >= 0, offsets[1] - offsets[0] == count * 4, base + offsets[1] <= data.count else {
                throw RefineryError(.integrity, "tensor '\(name)' lies outside the file or disagrees with its shape", at: location)
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { target in
                data.withUnsafeBytes { source in
                    target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[(base + offsets[0])..<(base + offsets[1])]))
                }
            }
            result[name] = (shape, values)
        }
        return result
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
