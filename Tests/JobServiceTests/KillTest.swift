import Foundation
import JobQueue
import JobWorker
import ObjectStorage
import RendcTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// THE KILL TEST: several real `rendc worker` processes (with the `--fake-render-ms` test hook instead of real
/// renders) work through 150 jobs while the test SIGKILLs them at random moments and starts new ones. Every job
/// must end `completed` exactly once (a database trigger audits every transition to `completed` and every write
/// to a completed row), none may be left pending or processing, and each job's output must be in storage.
/// Renders may be repeated after a kill: the per-job marker files count them.
@Suite(.ownThreads) struct KillTest {
    static let jobCount = 200
    static let workerCount = 4
    static let slots = 2
    static let renderMilliseconds = 400

    @Test(.timeLimit(.minutes(10)))
    func killedWorkersLoseNoJobAndNeverCompleteOneTwice() async throws {
        let binary = try rendcBinary()
        let policy = QueuePolicy(leaseDuration: 2)
        try await withTestStore(policy: policy) { store, configuration in
            let server = try PostgresServer.shared()
            let root = try Fixtures.temporaryDirectory("rendc-kill")
            defer { try? FileManager.default.removeItem(at: root) }
            let markers = root.path + "/markers"
            let temp = root.path + "/tmp"
            let storage = root.path + "/storage"
            try FileManager.default.createDirectory(atPath: markers, withIntermediateDirectories: true)
            let objects = LocalDirectoryStore(root: storage)
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects, count: 1, cap: 1000)
            let databaseURL = "postgres://\(configuration.username)@\(Self.hostPort(configuration))/\(configuration.database)?sslmode=disable"
            try server.runPSQL(url: try #require(URL(string: databaseURL)), sql: Self.auditSQL)

            var ids: [UUID] = []
            for index in 0..<Self.jobCount {
                ids.append(
                    try await store.enqueue(
                        NewJob(
                            tenantId: tenant.id, imageIds: images, textOverlay: "job \(index)", priority: index % 3, maxAttempts: 50)))
            }

            var spawned = 0
            var logs: [Int32: String] = [:]
            func startWorker() throws -> Process {
                spawned += 1
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = [
                    "worker", "--concurrency", "\(Self.slots)", "--fake-render-ms", "\(Self.renderMilliseconds)",
                    "--fake-marker-dir", markers, "--storage-dir", storage, "--temp-dir", temp,
                    "--lease-seconds", "2", "--heartbeat-seconds", "0.5", "--poll-seconds", "0.5",
                    "--reaper-seconds", "0.5", "--retry-base-seconds", "0", "--grace-seconds", "5",
                ]
                var environment = ProcessInfo.processInfo.environment
                environment["DATABASE_URL"] = databaseURL
                environment["DB_QUERY_TIMEOUT"] = "60"  // a busy test machine is not a down database
                environment.removeValue(forKey: "DB_NAME")
                process.environment = environment
                let log = root.path + "/worker-\(spawned).log"
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
                process.standardOutput = handle
                process.standardError = handle
                process.standardInput = FileHandle.nullDevice
                try process.run()
                logs[process.processIdentifier] = log
                return process
            }

            var workers = try (0..<Self.workerCount).map { _ in try startWorker() }
            defer { for worker in workers where worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }
            let start = Date()
            var kills = 0
            var lastCompleted = 0
            // Kill a random worker every 0.3-0.8 s and start a new one, until only the last few jobs are left;
            // then let the survivors finish.
            while Date().timeIntervalSince(start) < 150 {
                try await Task.sleep(for: .milliseconds(Int.random(in: 300...800)))
                let completed = try await store.statusCounts(tenantId: tenant.id)[.completed] ?? 0
                lastCompleted = completed
                if completed == Self.jobCount { break }
                if completed < Self.jobCount - 15 {
                    let victim = Int.random(in: 0..<workers.count)
                    kill(workers[victim].processIdentifier, SIGKILL)
                    kills += 1
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
                    workers[victim] = try startWorker()
                }
            }
            let elapsed = Date().timeIntervalSince(start)
            let counts = try await store.statusCounts(tenantId: tenant.id)
            #expect(counts == [.completed: Self.jobCount], "every job completed, none pending, processing or failed (last count \(lastCompleted))")

            // Graceful stop: SIGTERM, exit status 0 — once each worker has started (its signal handlers are in
            // place when it logs "worker started"; a SIGTERM before that is the default action, not a drain).
            for worker in workers where worker.isRunning {
                let log = logs[worker.processIdentifier] ?? ""
                #expect(try await eventually(timeout: 60) { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("worker started") == true })
            }
            for worker in workers where worker.isRunning { kill(worker.processIdentifier, SIGTERM) }
            for worker in workers {
                let deadline = Date().addingTimeInterval(15)
                while worker.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
                #expect(!worker.isRunning, "a worker did not stop on SIGTERM")
                if !worker.isRunning {
                    let tail = ((try? String(contentsOfFile: logs[worker.processIdentifier] ?? "", encoding: .utf8)) ?? "").suffix(1500)
                    #expect(worker.terminationReason == .exit && worker.terminationStatus == 0, "SIGTERM exits 0; the worker's log ends:\n\(tail)")
                }
            }

            // Exactly one transition to 'completed' per job, by the lease that owns the final row; no write after.
            let auditURL = try #require(URL(string: databaseURL))
            let completions: [(jobId: UUID, epoch: Int64)] = try server.runPSQL(
                url: auditURL, sql: "SELECT job_id, lease_epoch FROM completion_audit"
            ).compactMap { line in
                let parts = line.split(separator: "|")
                guard parts.count == 2, let id = UUID(uuidString: String(parts[0])), let epoch = Int64(parts[1]) else { return nil }
                return (id, epoch)
            }
            let writesAfterCompletion = try server.runPSQL(url: auditURL, sql: "SELECT count(*) FROM completed_row_writes").first
            #expect(completions.count == Self.jobCount)
            #expect(Set(completions.map(\.jobId)) == Set(ids), "each job completed exactly once")
            #expect(writesAfterCompletion == "0", "nobody wrote to a completed job")
            var started = 0
            var finished = 0
            var retried = 0
            for id in ids {
                let job = try #require(try await store.job(id: id))
                #expect(job.status == .completed)
                #expect(completions.first { $0.jobId == id }?.epoch == job.leaseEpoch)
                let key = OutputKeys.video(tenantId: tenant.id, jobId: id)
                #expect(job.outputVideoKey == key)
                let video = (try? String(contentsOfFile: storage + "/" + key, encoding: .utf8)) ?? ""
                #expect(video.hasPrefix("job \(id.uuidString.lowercased())"), "output of \(id) is in storage")
                let marker = (try? String(contentsOfFile: markers + "/" + id.uuidString.lowercased(), encoding: .utf8)) ?? ""
                let lines = marker.split(separator: "\n")
                let finishedLines = lines.filter { $0.hasPrefix("finished") }
                #expect(finishedLines.count >= 1, "job \(id) was rendered to the end")
                #expect(finishedLines.contains { $0 == "finished epoch \(job.leaseEpoch)" }, "the completing attempt rendered")
                started += lines.count - finishedLines.count
                finished += finishedLines.count
                if job.attempts > 1 { retried += 1 }
            }
            #expect(retried > 0, "the kills hit running jobs")
            // Killed workers could not remove their job folders; the next worker to start removes those of dead
            // processes. After the last stop, one sweep leaves nothing.
            let before = ((try? FileManager.default.contentsOfDirectory(atPath: temp)) ?? []).count
            JobWorker.removeStaleTemporaryFolders(in: temp, minimumAge: 0)
            #expect(folderIsEmpty(temp), "temporary folders of dead workers are removed")
            print(
                """
                kill test: \(Self.jobCount) jobs, \(Self.workerCount) workers x \(Self.slots) slots, \(Self.renderMilliseconds) ms fake \
                renders, \(kills) SIGKILLs, \(spawned) worker processes: all completed in \(String(format: "%.1f", elapsed)) s \
                (\(String(format: "%.1f", Double(Self.jobCount) / elapsed)) jobs/s); \(started) renders started, \(finished) finished, \
                \(retried) jobs needed more than one attempt; \(before) worker folders left at the end before the final sweep
                """)
        }
    }

    /// A trigger recording each transition to 'completed' and each write to an already completed row.
    static let auditSQL = """
        CREATE TABLE completion_audit (job_id uuid NOT NULL, lease_owner text, lease_epoch bigint, at timestamptz DEFAULT clock_timestamp());
        CREATE TABLE completed_row_writes (job_id uuid NOT NULL, at timestamptz DEFAULT clock_timestamp());
        CREATE FUNCTION audit_completion() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.status = 'completed' THEN
                INSERT INTO completed_row_writes (job_id) VALUES (NEW.id);
            ELSIF NEW.status = 'completed' THEN
                INSERT INTO completion_audit (job_id, lease_owner, lease_epoch) VALUES (NEW.id, NEW.lease_owner, NEW.lease_epoch);
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER audit_completion AFTER UPDATE ON video_processing_jobs FOR EACH ROW EXECUTE FUNCTION audit_completion();
        """

    static func hostPort(_ configuration: DatabaseConfiguration) -> String {
        switch configuration.endpoint {
        case .tcp(let host, let port): return "\(host):\(port)"
        case .unixSocket: return "localhost"
        }
    }

    /// The `rendc` executable built beside the test bundle.
    func rendcBinary() throws -> String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            testBinary.deletingLastPathComponent().appendingPathComponent("rendc").path,
            Fixtures.packageRoot.appendingPathComponent(".build/debug/rendc").path,
        ]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw KillTestError("the rendc executable is not built (looked in \(candidates)); run swift build first")
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: binary)
        probe.arguments = ["worker", "--help"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            throw KillTestError("\(binary) has no 'worker' subcommand: WorkerCommand must be registered in Rendc.swift")
        }
        return binary
    }
}

struct KillTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
