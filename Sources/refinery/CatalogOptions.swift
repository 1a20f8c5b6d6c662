import ArgumentParser
import Foundation
import RefineryCatalog
import RefineryRecords
import RefinerySpec

/// How the catalog commands find the catalog, and how they report failures.
struct CatalogOptions: ParsableArguments {
    @Option(name: .long, help: "The catalog file (SQLite).")
    var catalog: String?

    @Option(name: .long, help: "A pipeline spec: use its catalog (its `catalog:` key, or catalog.sqlite beside its output folder).")
    var spec: String?

    /// Where a catalog is looked for when neither option is given.
    static let defaultPath = "out/catalog.sqlite"

    /// The exit codes every catalog command documents.
    static let exitCodes = """
        Exit codes: 0 ok; 1 failure; 64 usage (bad argument, unknown run or version); 65 integrity (damaged, foreign or newer \
        catalog, manifest.json changed, shards not matching the manifest); 5 a promotion gate failed.
        """

    func validate() throws {
        if catalog != nil && spec != nil { throw ValidationError("pass --catalog or --spec, not both") }
    }

    /// The catalog's path: `--catalog`, the spec's catalog, or `./out/catalog.sqlite` when it exists.
    func path() throws -> String {
        if let catalog { return catalog }
        if let spec { return try PipelineSpec.load(path: spec).catalogPath }
        guard FileManager.default.fileExists(atPath: Self.defaultPath) else {
            throw RefineryError(.usage, "no catalog given and ./\(Self.defaultPath) does not exist; pass --catalog PATH or --spec SPEC")
        }
        return Self.defaultPath
    }

    /// Opens the catalog, read-only for the query commands; prints the error and exits when it cannot.
    func open(readOnly: Bool) throws -> Catalog {
        do {
            let path = try path()
            return readOnly ? try Catalog.openReadOnly(path: path) : try Catalog.openExisting(path: path)
        } catch {
            // Opening fails on a catalog that cannot be trusted: an integrity failure.
            throw CatalogFailure.exit(error, catalogCode: 65)
        }
    }
}

/// Prints a catalog command's error to stderr and picks its exit code.
enum CatalogFailure {
    /// - Parameter catalogCode: the exit code for a `catalog` error (65 while opening, 1 afterwards).
    static func exit(_ error: any Error, catalogCode: Int32 = 1) -> ExitCode {
        switch error {
        case let refused as PromotionRefused:
            printError("error: promotion of \(refused.label) refused: \(refused.failed.count) gate(s) failed")
            for result in refused.results { printError("  \(result)") }
            return ExitCode(5)
        case let error as RefineryError:
            printError("error: \(error)")
            switch error.code {
            case .usage, .spec: return ExitCode(64)
            case .integrity: return ExitCode(65)
            case .catalog: return ExitCode(catalogCode)
            case .busy: return ExitCode(75)
            default: return ExitCode(1)
            }
        case let error as ExitCode:
            return error
        default:
            printError("error: \(error)")
            return ExitCode(1)
        }
    }
}

/// `DATASET@VERSION` on the command line.
struct VersionLabel: ExpressibleByArgument {
    var dataset: String
    var version: String

    init?(argument: String) {
        guard let at = argument.lastIndex(of: "@") else { return nil }
        dataset = String(argument[..<at])
        version = String(argument[argument.index(after: at)...])
        if dataset.isEmpty || version.isEmpty { return nil }
    }
}

/// Writes a value as pretty JSON with sorted keys to stdout.
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

extension CatalogOptions {
    /// A dataset folder named on the command line: the argument itself when it is a folder, else the folder of
    /// DATASET@VERSION in the catalog.
    func datasetDirectory(_ target: String) throws -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue { return target }
        guard let label = VersionLabel(argument: target) else {
            throw ValidationError("no such folder, and not DATASET@VERSION (e.g. demo@v-1a2b3c): '\(target)'")
        }
        let catalog = try open(readOnly: true)
        do {
            guard let version = try catalog.version(dataset: label.dataset, version: label.version) else {
                throw RefineryError(.usage, "catalog \(catalog.path) has no version \(label.dataset)@\(label.version); `refinery datasets` lists them")
            }
            if let removed = version.filesRemovedAt {
                throw RefineryError(.usage, "\(version.label)'s files were removed by gc at \(removed)")
            }
            return version.directory
        } catch {
            throw CatalogFailure.exit(error)
        }
    }
}
