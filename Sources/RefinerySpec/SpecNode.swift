import RefineryRecords
import Yams

/// One node of a YAML spec with its place in the file and its path from the root (`sources[0].glob`), so every
/// error can name the key and line a person has to fix.
public struct SpecNode: @unchecked Sendable {
    // Yams.Node is a value type that is never mutated after loading.
    let node: Node
    /// Dotted path from the root, for messages.
    public let path: String
    /// The spec file the node was read from.
    public let file: String

    init(node: Node, path: String, file: String) {
        self.node = node
        self.path = path
        self.file = file
    }

    /// The root of a YAML document, for configuration files other than pipeline specs (the trainer's).
    /// - Throws: ``RefineryError`` (code `spec`) for empty text or invalid YAML, naming `file`.
    public static func root(yaml: String, file: String) throws -> SpecNode {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw RefineryError(.spec, "not valid YAML: \(error)", at: SourceLocation(file: file))
        }
        guard let root else { throw RefineryError(.spec, "the file is empty", at: SourceLocation(file: file)) }
        return SpecNode(node: root, path: "", file: file)
    }

    /// File, line and column of the node.
    public var location: SourceLocation {
        guard let mark = node.mark else { return SourceLocation(file: file) }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    /// An error at this node.
    public func error(_ message: String) -> RefineryError {
        RefineryError(.spec, "\(path.isEmpty ? "spec" : path): \(message)", at: location)
    }

    var kindName: String {
        switch node {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// Whether the node is YAML's `null` / `~` / empty.
    public var isNull: Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private func scalarText(expected: String) throws -> String {
        guard case .scalar(let scalar) = node else {
            throw error("expected \(expected), found \(kindName)")
        }
        return scalar.string
    }

    /// The node as a string.
    public func string() throws -> String {
        guard case .scalar(let scalar) = node, !isNull else {
            throw error("expected a string, found \(isNull ? "nothing" : kindName)")
        }
        return scalar.string
    }

    /// The node as one of an enumeration's string values.
    /// - Parameter name: the key's name, for the message (`unknown keep 'last'; use first or best_quality`).
    public func choice<Choice: RawRepresentable & CaseIterable>(_: Choice.Type, named name: String) throws -> Choice
        where Choice.RawValue == String
    {
        let value = try string()
        guard let choice = Choice(rawValue: value) else {
            throw error("unknown \(name) '\(value)'; use \(Choice.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        return choice
    }

    /// The node as an integer.
    public func int() throws -> Int {
        let text = try scalarText(expected: "an integer")
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
            throw error("expected an integer, found '\(text)'")
        }
        return value
    }

    /// The node as a number.
    public func double() throws -> Double {
        let text = try scalarText(expected: "a number")
        guard let value = Double(text), value.isFinite else {
            throw error("expected a number, found '\(text)'")
        }
        return value
    }

    /// The node as a boolean (`true`/`false`, `yes`/`no`, `on`/`off`).
    public func bool() throws -> Bool {
        let text = try scalarText(expected: "true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, found '\(text)'")
        }
    }

    /// A byte size: an integer or a number with a unit (`64MiB`, `512KiB`, `1GB`, `100B`).
    public func byteSize() throws -> Int {
        let text = try scalarText(expected: "a size such as 64MiB").replacingOccurrences(of: " ", with: "")
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000),
            ("GB", 1_000_000_000), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count)), number >= 0, number.isFinite {
                // Int(_:) traps on values it cannot hold; a size that large is a mistake in the spec.
                guard let bytes = Int(exactly: (number * Double(factor)).rounded(.down)) else {
                    throw error("size '\(text)' is too large")
                }
                return bytes
            }
        }
        if let plain = Int(text), plain >= 0 { return plain }
        throw error("expected a size such as 64MiB, 512KiB or 1000000, found '\(text)'")
    }

    /// One string, or a list of strings.
    public func stringList() throws -> [String] {
        if case .sequence(let sequence) = node {
            return try sequence.enumerated().map { i, item in
                try SpecNode(node: item, path: "\(path)[\(i)]", file: file).string()
            }
        }
        return [try string()]
    }

    /// The elements of a list.
    public func list() throws -> [SpecNode] {
        guard case .sequence(let sequence) = node else {
            throw error("expected a list, found \(kindName)")
        }
        return sequence.enumerated().map { i, item in SpecNode(node: item, path: "\(path)[\(i)]", file: file) }
    }

    /// The node as a mapping whose keys must all be in `allowed`.
    /// - Throws: ``RefineryError`` naming the first unknown key, its line, and the closest allowed key.
    public func table(allowed: [String]) throws -> SpecTable {
        if isNull { return SpecTable(owner: self, members: []) }
        guard case .mapping(let mapping) = node else {
            throw error("expected a mapping of \(allowed.joined(separator: ", ")), found \(kindName)")
        }
        var members: [(key: String, node: SpecNode)] = []
        for (keyNode, valueNode) in mapping {
            let keyAt = SpecNode(node: keyNode, path: path, file: file)
            guard case .scalar(let scalar) = keyNode else { throw keyAt.error("keys must be strings") }
            let key = scalar.string
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                var message = "unknown key '\(key)'"
                if let guess = SpecNode.closest(to: key, in: allowed) { message += " (did you mean '\(guess)'?)" }
                message += "; allowed here: \(allowed.joined(separator: ", "))"
                throw keyAt.error(message)
            }
            if members.contains(where: { $0.key == key }) {
                throw keyAt.error("key '\(key)' appears twice")
            }
            members.append((key, SpecNode(node: valueNode, path: childPath, file: file)))
        }
        return SpecTable(owner: self, members: members)
    }

    /// The node as a mapping whose keys are names the user chooses (categories, languages), in file order.
    /// - Throws: ``RefineryError`` when the node is not a mapping or a key repeats.
    public func entries() throws -> [(key: String, node: SpecNode)] {
        if isNull { return [] }
        guard case .mapping(let mapping) = node else { throw error("expected a mapping, found \(kindName)") }
        var members: [(key: String, node: SpecNode)] = []
        for (keyNode, valueNode) in mapping {
            let keyAt = SpecNode(node: keyNode, path: path, file: file)
            guard case .scalar(let scalar) = keyNode else { throw keyAt.error("keys must be strings") }
            let key = scalar.string
            if members.contains(where: { $0.key == key }) { throw keyAt.error("key '\(key)' appears twice") }
            members.append((key, SpecNode(node: valueNode, path: path.isEmpty ? key : "\(path).\(key)", file: file)))
        }
        return members
    }

    static func closest(to word: String, in candidates: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var current = [i] + Array(repeating: 0, count: b.count)
                for j in 1...max(b.count, 1) where !b.isEmpty {
                    current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
                previous = current
            }
            return previous[b.count]
        }
        let scored = candidates.map { ($0, distance(Array(word), Array($0))) }.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        guard let (best, score) = scored, score <= max(2, word.count / 3) else { return nil }
        return best
    }
}

/// A mapping from a spec whose keys have been checked; read values with ``require(_:)`` and ``optional(_:)``.
public struct SpecTable: Sendable {
    /// The mapping node itself.
    public let owner: SpecNode
    /// Members in file order.
    public let members: [(key: String, node: SpecNode)]

    /// The value of `key`, or `nil` when absent or null.
    public func optional(_ key: String) -> SpecNode? {
        guard let node = members.first(where: { $0.key == key })?.node, !node.isNull else { return nil }
        return node
    }

    /// The value of `key`.
    /// - Throws: ``RefineryError`` when the key is missing.
    public func require(_ key: String) throws -> SpecNode {
        guard let node = optional(key) else {
            throw owner.error("missing required key '\(key)'")
        }
        return node
    }
}
