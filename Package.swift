// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Refinery",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "refinery", targets: ["refinery"]),
        .library(name: "RefineryPipeline", targets: ["RefineryPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries from Debian (tools/install-deps.sh installs the -dev packages).
        .systemLibrary(
            name: "CRefineryZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
        .systemLibrary(
            name: "CRefineryXXHash", pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"]), .brew(["xxhash"])]),
        .systemLibrary(
            name: "CRefinerySQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        // The `refinery` binary's allocator (Sources/refinery/Allocator.swift says why).
        .systemLibrary(
            name: "CRefineryJemalloc", pkgConfig: "jemalloc",
            providers: [.apt(["libjemalloc-dev"]), .brew(["jemalloc"])]),

        // The MinHash signature loop in C: AVX-512, AVX2 and portable kernels in one object, chosen at run time
        // (`__attribute__((target))`, no compiler flags), so that a baseline build runs at the CPU's speed.
        .target(name: "CRefineryMinHash"),
        // A prefetch hint, header only: the language model asks for its table's rows while it decodes.
        .target(name: "CRefineryPrefetch"),
        // OpenBLAS for the trainer, opened with dlopen when it first multiplies matrices (Debian's libopenblas0), so
        // that other commands do not start its thread pool.
        .target(name: "CRefineryBLAS", linkerSettings: [.linkedLibrary("dl")]),

        // Compression and hashing over the C libraries.
        .target(name: "RefineryCodecs", dependencies: ["CRefineryZstd", "CRefineryXXHash"]),
        // The record model, its JSON form, errors with locations, and the source readers.
        .target(name: "RefineryRecords", dependencies: ["RefineryCodecs"]),
        // Source readers: globbing, chunked (zstd) reading, line splitting, one file per format.
        .target(name: "RefineryReaders", dependencies: ["RefineryCodecs", "RefineryRecords", "RefinerySpec"]),
        // The YAML pipeline spec: typed, located, strict about unknown keys.
        .target(name: "RefinerySpec", dependencies: ["RefineryRecords", "Yams"]),
        // The Stage protocol and the stages, one folder each.
        // The language stage's model (tools/langid/train.py writes it) ships as a resource next to the binary.
        .target(
            name: "RefineryStages",
            dependencies: ["CRefineryMinHash", "CRefineryPrefetch", "RefineryCodecs", "RefineryRecords", "RefinerySpec"],
            resources: [.copy("Language/Resources/langid.bin"), .copy("Toxicity/Resources/toxicity")]),
        // zstd shards, rejects, manifest, verification.
        .target(name: "RefineryShards", dependencies: ["RefineryCodecs", "RefineryRecords"]),
        // The SQLite catalog: runs, stage statistics, inputs, committed work units, dataset versions and their
        // status, training runs; ordered, recorded schema migrations.
        .target(name: "RefineryCatalog", dependencies: ["CRefinerySQLite", "RefineryCodecs", "RefineryRecords", "RefineryShards", "RefinerySpec"]),
        // The engine: sources -> stages -> shards, in parallel, in order, with counters, resumable by unit, observable
        // (progress lines, Prometheus textfile metrics through swift-prometheus).
        .target(
            name: "RefineryPipeline",
            dependencies: [
                "RefineryCodecs", "RefineryRecords", "RefinerySpec", "RefineryReaders", "RefineryStages",
                "RefineryShards", "RefineryCatalog", "RefineryReport", .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // The dataset report: funnel, reject examples, mixes, histograms, duplicate clusters and shards, as one
        // self-contained HTML page and as numbers for stats.json.
        .target(name: "RefineryReport", dependencies: ["RefineryCodecs", "RefineryRecords", "RefineryShards", "RefineryStages"]),
        // The trainer: tokenizer, data, model, objectives.
        .target(name: "RefineryTraining", dependencies: ["CRefineryBLAS", "RefineryCodecs", "RefineryRecords", "RefineryShards", "RefinerySpec"]),
        .executableTarget(
            name: "refinery",
            dependencies: [
                "CRefineryJemalloc", "RefineryCatalog", "RefineryPipeline", "RefineryReport", "RefineryShards", "RefinerySpec", "RefineryTraining",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Times the reader's phases on a folder of subtitle files (tools/bench/readers.sh runs it).
        .executableTarget(
            name: "reader-bench",
            dependencies: ["RefineryReaders", "RefineryRecords", "RefinerySpec"],
            path: "tools/bench/ReaderBench"),
        // Fits the toxicity classifier (tools/toxicity/train.sh runs it).
        .executableTarget(
            name: "toxicity-train",
            dependencies: ["RefineryStages"],
            path: "tools/toxicity/Train"),
        // Times the deduplication kernels (signatures, index) on one core (tools/bench/DedupBench).
        .executableTarget(
            name: "dedup-bench",
            dependencies: ["RefineryRecords", "RefineryStages"],
            path: "tools/bench/DedupBench"),
        // Measures the machine's sgemm peak, the denominator of the trainer's model FLOPs utilisation.
        .executableTarget(
            name: "sgemm-bench",
            dependencies: ["RefineryTraining"],
            path: "tools/bench/SgemmBench"),
        // Times the trainer's steps on random tokens (tools/bench/trainer.sh compares it with PyTorch).
        .executableTarget(
            name: "train-bench",
            dependencies: ["RefineryCodecs", "RefineryTraining"],
            path: "tools/bench/TrainBench"),
        .testTarget(
            name: "RefineryTests",
            dependencies: ["RefineryCodecs", "RefineryRecords", "RefinerySpec", "RefineryReaders", "RefineryStages",
                           "RefineryShards", "RefineryCatalog", "RefineryPipeline", "RefineryReport", "RefineryTraining",
                           // To read the dataset card's YAML header as Hugging Face does.
                           "Yams"],
            // Read from #filePath by the tests, not bundled.
            exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
