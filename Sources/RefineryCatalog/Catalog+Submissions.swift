import RefineryRecords

extension Catalog {
    /// A run handed to a scheduler (`refinery run SPEC --executor slurm`): its map array, dedup array and reduce job, and which
    /// units each map task owns, so that `refinery status` can say how far each task got without planning again.
    public struct Submission: Sendable, Equatable {
        public var id: Int64 = 0
        /// `slurm`.
        public var executor: String
        public var dataset: String
        public var version: String
        public var specPath: String
        public var specHash: String
        /// The dataset folder the reduce writes.
        public var outputDirectory: String
        /// The folder whose `.work/` holds the committed units.
        public var workRoot: String
        public var taskCount: Int
        /// For each map task (0…taskCount-1), the keys of the units it owns.
        public var taskUnits: [[String]]
        /// The map tasks this submission asked for (the others were done already).
        public var mapTasks: [Int]
        /// The scheduler's job ids: the map array (none when every task was done) and the reduce.
        public var mapJob: String?
        /// The dedup phase's array (none when the spec looks for no near duplicates) and its task count.
        public var dedupJob: String?
        public var dedupTasks = 0
        /// The resolve job and the finalize array (none when the spec has no global stage) and its task count.
        public var resolveJob: String?
        public var finalizeJob: String?
        public var finalizeTasks = 0
        /// The dedup and finalize tasks this submission asked for (the others were done already).
        public var dedupSubmitted: [Int] = []
        public var finalizeSubmitted: [Int] = []
        public var reduceJob: String
        /// Where the job scripts and their logs are.
        public var scriptsDirectory: String
        public var submittedAt: String = ""
        public var command: String

        public init(executor: String, dataset: String, version: String, specPath: String, specHash: String, outputDirectory: String,
                    workRoot: String, taskCount: Int, taskUnits: [[String]], mapTasks: [Int], mapJob: String?, reduceJob: String,
                    scriptsDirectory: String, command: String) {
            self.executor = executor
            self.dataset = dataset
            self.version = version
            self.specPath = specPath
            self.specHash = specHash
            self.outputDirectory = outputDirectory
            self.workRoot = workRoot
            self.taskCount = taskCount
            self.taskUnits = taskUnits
            self.mapTasks = mapTasks
            self.mapJob = mapJob
            self.reduceJob = reduceJob
            self.scriptsDirectory = scriptsDirectory
            self.command = command
        }
    }

    /// Records a submission; returns its id.
    public func recordSubmission(_ submission: Submission) throws -> Int64 {
        try database.transaction {
            try database.run("""
                INSERT INTO submissions (executor, dataset, version, spec_path, spec_hash, output_dir, work_root, task_count, task_units,
                                         map_tasks, map_job, reduce_job, scripts_dir, submitted_at, command, dedup_job, dedup_tasks,
                                         resolve_job, finalize_job, finalize_tasks, dedup_submitted, finalize_submitted)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(submission.executor), .text(submission.dataset), .text(submission.version), .text(submission.specPath),
                      .text(submission.specHash), .text(submission.outputDirectory), .text(submission.workRoot), .int(submission.taskCount),
                      .text(try CatalogJSON.encode(submission.taskUnits)), .text(try CatalogJSON.encode(submission.mapTasks)),
                      .optional(submission.mapJob), .text(submission.reduceJob), .text(submission.scriptsDirectory),
                      .text(CatalogTime.now()), .text(submission.command),
                      .optional(submission.dedupJob), .int(submission.dedupTasks),
                      .optional(submission.resolveJob), .optional(submission.finalizeJob), .int(submission.finalizeTasks),
                      .text(try CatalogJSON.encode(submission.dedupSubmitted)), .text(try CatalogJSON.encode(submission.finalizeSubmitted))])
            return database.lastInsertRowID
        }
    }

    /// The id the next submission will get (scripts are named after it before it is recorded).
    public func nextSubmissionID() throws -> Int64 {
        try database.query("SELECT COALESCE(MAX(id), 0) + 1 FROM submissions") { $0.int64(0) }.first ?? 1
    }

    /// Submissions, newest first: all, or those of one dataset (and version).
    public func submissions(dataset: String? = nil, version: String? = nil) throws -> [Submission] {
        try database.query("""
            SELECT id, executor, dataset, version, spec_path, spec_hash, output_dir, work_root, task_count, task_units, map_tasks,
                   map_job, reduce_job, scripts_dir, submitted_at, command, dedup_job, dedup_tasks,
                   resolve_job, finalize_job, finalize_tasks, dedup_submitted, finalize_submitted
            FROM submissions WHERE (?1 IS NULL OR dataset = ?1) AND (?2 IS NULL OR version = ?2) ORDER BY id DESC
            """, [.optional(dataset), .optional(version)]) { row in
            var submission = Submission(
                executor: row.text(1), dataset: row.text(2), version: row.text(3), specPath: row.text(4), specHash: row.text(5),
                outputDirectory: row.text(6), workRoot: row.text(7), taskCount: row.int(8),
                taskUnits: CatalogJSON.decode([[String]].self, row.text(9), fallback: []),
                mapTasks: CatalogJSON.decode([Int].self, row.text(10), fallback: []),
                mapJob: row.optionalText(11), reduceJob: row.text(12), scriptsDirectory: row.text(13), command: row.text(15))
            submission.id = row.int64(0)
            submission.submittedAt = row.text(14)
            submission.dedupJob = row.optionalText(16)
            submission.dedupTasks = row.int(17)
            submission.resolveJob = row.optionalText(18)
            submission.finalizeJob = row.optionalText(19)
            submission.finalizeTasks = row.int(20)
            submission.dedupSubmitted = CatalogJSON.decode([Int].self, row.text(21), fallback: [])
            submission.finalizeSubmitted = CatalogJSON.decode([Int].self, row.text(22), fallback: [])
            return submission
        }
    }

    /// One submission by id.
    public func submission(_ id: Int64) throws -> Submission? {
        try submissions().first { $0.id == id }
    }
}
