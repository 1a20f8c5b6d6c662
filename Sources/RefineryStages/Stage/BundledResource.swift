import Foundation
import RefineryRecords

/// Finds a data file that ships with Refinery's stages (the language model, the toxicity model and word lists).
///
/// The files are SwiftPM resources of this module. `Bundle.module` is not used: its generated accessor traps when
/// the bundle is missing (a binary copied without its resources), and a missing model must be an error a person
/// can act on, not a crash. So the places are searched by hand, in order: an environment variable naming the file;
/// the resource bundle next to the executable (or test bundle), as `Bundle.module` would find it; the source tree
/// the module was built from.
enum BundledResource {
    /// The paths where `name` may be.
    /// - Parameters:
    ///   - name: the resource's path inside the bundle (`langid.bin`, `toxicity/model.bin`).
    ///   - environment: a variable that, when set, names the file (tried first).
    ///   - sourceFolder: the folder of the source tree that holds the resource (`…/Language/Resources`).
    static func candidatePaths(_ name: String, environment: String, sourceFolder: URL) -> [String] {
        var paths: [String] = []
        if let override = ProcessInfo.processInfo.environment[environment], !override.isEmpty {
            paths.append(override)
        }
        var folders = [Bundle.main.bundleURL]
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            folders.append(executable)
        }
        if let resources = Bundle.main.resourceURL { folders.append(resources) }
        for folder in folders {
            for bundle in ["Refinery_RefineryStages.resources", "Refinery_RefineryStages.bundle",
                           "Refinery_RefineryStages.bundle/Contents/Resources"] {
                paths.append(folder.appendingPathComponent(bundle).appendingPathComponent(name).path)
            }
        }
        paths.append(sourceFolder.appendingPathComponent(name).path)
        var seen: Set<String> = []
        return paths.filter { seen.insert($0).inserted }
    }

    /// The first of `candidatePaths` that exists.
    /// - Throws: ``RefineryError`` (`input`) listing where it looked and how to fix it.
    static func locate(_ name: String, environment: String, sourceFolder: URL, what: String) throws -> String {
        let places = candidatePaths(name, environment: environment, sourceFolder: sourceFolder)
        if let found = places.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw RefineryError(.input, "\(what) (\(name)) was not found; looked at \(places.joined(separator: ", ")). "
            + "Keep the Refinery_RefineryStages.resources folder next to the refinery binary, or set \(environment) to the file")
    }
}
