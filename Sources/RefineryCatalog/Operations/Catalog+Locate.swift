import Foundation
import RefineryShards

extension Catalog {
    /// The file name a catalog has when a spec does not name one.
    public static let defaultFileName = "catalog.sqlite"

    /// The catalog that records a dataset folder's version: the first `catalog.sqlite` in the folder's parent,
    /// then its grandparent, whose dataset versions include the manifest's dataset and version.
    /// - Parameters:
    ///   - manifest: the folder's manifest.
    ///   - directory: the dataset folder.
    /// - Returns: the open catalog, or `nil` when neither place has one that lists the version.
    /// - Throws: ``RefineryError`` (code `catalog`) when a catalog found there cannot be opened.
    public static func locate(listing manifest: Manifest, in directory: String) throws -> Catalog? {
        var folder = URL(fileURLWithPath: directory).standardizedFileURL
        for _ in 0..<2 {
            folder = folder.deletingLastPathComponent()
            let path = folder.appendingPathComponent(defaultFileName).path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let catalog = try Catalog.openExisting(path: path)
            if try catalog.version(dataset: manifest.dataset, version: manifest.version) != nil { return catalog }
        }
        return nil
    }
}
