import Foundation
import JobQueue
import QueueTestSupport
import RendcTestSupport
import Testing

/// The queue against a real PostgreSQL (see RendcTestSupport.PostgresServer), a fresh database per test.
@Suite struct QueueTests {
    @Test func migrationsRunFromEmptyAndAreIdempotent() async throws {
        try await withTestStore(migrate: false) { store, configuration in
            #expect(try await store.appliedMigrations() == [])
            // Two migrators at once: each version is applied exactly once.
            async let first = store.migrate()
            async let second = store.migrate()
            let applied = try await (first + second).sorted()
            #expect(applied == Migrations.all.map(\.version))
            #expect(try await store.migrate() == [])
            #expect(try await store.appliedMigrations() == Migrations.all.map(\.version))
        }
    }

    @Test func apiKeysResolveToTheirTenantAndAreStoredHashed() async throws {
        try await withTestStore { store, _ in
            let (tenant, key) = try await store.createTenantWithKey(name: "Shop A")
            let (other, otherKey) = try await store.createTenantWithKey(name: "Shop B")
            #expect(key.plaintext.hasPrefix(key.prefix))
            #expect(key.prefix.count < key.plaintext.count / 2)
            #expect(try await store.tenant(forAPIKey: key.plaintext)?.id == tenant.id)
            #expect(try await store.tenant(forAPIKey: otherKey.plaintext)?.id == other.id)
            #expect(try await store.tenant(forAPIKey: key.plaintext + "0") == nil)
            #expect(try await store.tenant(forAPIKey: "rk_" + String(repeating: "0", count: 48)) == nil)
            #expect(try await store.tenant(forAPIKey: "") == nil)
            #expect(try await store.revokeAPIKey(id: key.id, tenantId: other.id) == false)
            #expect(try await store.revokeAPIKey(id: key.id, tenantId: tenant.id) == true)
            #expect(try await store.tenant(forAPIKey: key.plaintext) == nil)
            await #expect(throws: JobQueueError.self) { _ = try await store.createTenant(name: "  ") }
        }
    }

    @Test func jobsAreScopedToTheirTenant() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A")
            let b = try await store.createTenant(name: "B")
            let images = [UUID(), UUID()]
            let id = try await store.enqueue(
                NewJob(
                    tenantId: a.id, imageIds: images, audioAssetId: "track-1", textOverlay: "Sale ✨", template: "silver-frame",
                    durationTarget: 12.5, qualityMode: .eco, priority: 3, callbackURL: "https://example.test/hook"))
            let job = try #require(try await store.job(id: id, tenantId: a.id))
            #expect(job.status == .pending && job.progress == 0 && job.attempts == 0 && job.maxAttempts == 3)
            #expect(job.imageIds == images && job.audioAssetId == "track-1" && job.textOverlay == "Sale ✨")
            #expect(job.template == "silver-frame" && job.durationTarget == 12.5 && job.qualityMode == .eco)
            #expect(job.priority == 3 && job.callbackURL == "https://example.test/hook")
            #expect(try await store.job(id: id, tenantId: b.id) == nil)
            #expect(try await store.job(id: UUID(), tenantId: a.id) == nil)
            #expect(try await store.requestCancel(jobId: id, tenantId: b.id) == nil)
            await #expect(throws: JobQueueError.self) { _ = try await store.enqueue(NewJob(tenantId: a.id, imageIds: [])) }
        }
    }

    @Test func listingPagesNewestFirstWithStatusFilter() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A")
            let b = try await store.createTenant(name: "B")
            var ids: [UUID] = []
            for _ in 0..<7 { ids.append(try await store.enqueue(sampleJob(a.id))) }
            _ = try await store.enqueue(sampleJob(b.id))
            _ = try await store.requestCancel(jobId: ids[1], tenantId: a.id)
            var seen: [UUID] = []
            var cursor: String?
            repeat {
                let page = try await store.jobs(tenantId: a.id, limit: 3, after: cursor)
                #expect(page.jobs.count <= 3)
                seen += page.jobs.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == ids.reversed())
            let cancelled = try await store.jobs(tenantId: a.id, status: .cancelled)
            #expect(cancelled.jobs.map(\.id) == [ids[1]] && cancelled.nextCursor == nil)
            await #expect(throws: JobQueueError.self) { _ = try await store.jobs(tenantId: a.id, after: "garbage") }
            await #expect(throws: JobQueueError.self) { _ = try await store.jobs(tenantId: a.id, limit: 0) }
        }
    }

    @Test func assetsAreScopedToTheirTenant() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A")
            let b = try await store.createTenant(name: "B")
            let asset = try await store.insertAsset(
                NewAsset(
                    tenantId: a.id, type: .image, name: "shoe.jpg", filePath: "assets/\(a.id)/x.jpg", metadataJSON: #"{"width": 900}"#))
            #expect(asset.type == .image && asset.name == "shoe.jpg" && asset.metadataJSON.contains("900"))
            #expect(try await store.asset(id: asset.id, tenantId: a.id) == asset)
            #expect(try await store.asset(id: asset.id, tenantId: b.id) == nil)
            let other = try await store.insertAsset(NewAsset(tenantId: a.id, type: .audio, name: "a.mp3", filePath: "k"))
            #expect(try await store.assets(ids: [other.id, UUID(), asset.id], tenantId: a.id).map(\.id) == [other.id, asset.id])
            #expect(try await store.assets(ids: [asset.id], tenantId: b.id).isEmpty)
            #expect(try await store.assets(tenantId: a.id, type: .audio).map(\.id) == [other.id])
        }
    }

    @Test func claimOrdersByPriorityThenAgeAndLeases() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A", maxRunningJobs: 10)
            let low = try await store.enqueue(sampleJob(a.id, priority: 0))
            let high = try await store.enqueue(sampleJob(a.id, priority: 5))
            let low2 = try await store.enqueue(sampleJob(a.id, priority: 0))
            let claimed = try await store.claim(owner: "w1", limit: 2)
            #expect(claimed.map(\.job.id) == [high, low])
            for c in claimed {
                #expect(c.job.status == .processing && c.job.attempts == 1 && c.lease.attempt == 1)
                #expect(c.job.leaseOwner == "w1" && c.job.startedAt != nil)
                #expect(c.lease.expiresAt > Date().addingTimeInterval(10))
            }
            #expect(try await store.claim(owner: "w2", limit: 5).map(\.job.id) == [low2])
            #expect(try await store.claim(owner: "w2", limit: 5).isEmpty)
        }
    }

    @Test func concurrentClaimersNeverGetTheSameJob() async throws {
        try await withTestStore { store, _ in
            let tenants = [
                try await store.createTenant(name: "A", maxRunningJobs: 1000),
                try await store.createTenant(name: "B", maxRunningJobs: 1000),
            ]
            var all: Set<UUID> = []
            for i in 0..<240 { all.insert(try await store.enqueue(sampleJob(tenants[i % 2].id, priority: i % 3))) }
            let claims = try await withThrowingTaskGroup(of: [UUID].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [UUID] = []
                        while true {
                            let batch = try await store.claim(owner: "w\(worker)", limit: 1 + worker % 3)
                            if batch.isEmpty { return mine }
                            mine += batch.map(\.job.id)
                        }
                    }
                }
                var lists: [[UUID]] = []
                for try await list in group { lists.append(list) }
                return lists
            }
            let flat = claims.flatMap { $0 }
            #expect(flat.count == all.count, "every job claimed exactly once")
            #expect(Set(flat) == all)
            #expect(claims.filter { !$0.isEmpty }.count > 1, "the claimers shared the work")
            #expect(try await store.statusCounts()[.processing] == all.count)
        }
    }

    @Test func perTenantRunningCapIsHonouredEvenUnderConcurrentClaims() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A", maxRunningJobs: 2)
            let b = try await store.createTenant(name: "B", maxRunningJobs: 3)
            for _ in 0..<10 { _ = try await store.enqueue(sampleJob(a.id, priority: 9)) }
            for _ in 0..<10 { _ = try await store.enqueue(sampleJob(b.id)) }
            let claimed = try await withThrowingTaskGroup(of: [ClaimedJob].self) { group in
                for worker in 0..<6 { group.addTask { try await store.claim(owner: "w\(worker)", limit: 4) } }
                var all: [ClaimedJob] = []
                for try await batch in group { all += batch }
                return all
            }
            #expect(claimed.filter { $0.job.tenantId == a.id }.count == 2)
            #expect(claimed.filter { $0.job.tenantId == b.id }.count == 3, "A's higher priority must not starve B")
            #expect(try await store.claim(owner: "late", limit: 10).isEmpty)
            // One of A's jobs finishes: exactly one more of A's may start.
            let doneLease = try #require(claimed.first { $0.job.tenantId == a.id }).lease
            #expect(try await store.complete(doneLease, videoURL: "v", thumbnailURL: "t", processingTimeMs: 5))
            let next = try await store.claim(owner: "late", limit: 10)
            #expect(next.count == 1 && next.first?.job.tenantId == a.id)
        }
    }

    @Test func aFencedOutWorkerCannotCompleteOrOverwrite() async throws {
        let policy = QueuePolicy(leaseDuration: 0.3, backoff: BackoffPolicy(base: 0, jitter: 0))
        try await withTestStore(policy: policy) { store, _ in
            let a = try await store.createTenant(name: "A")
            let id = try await store.enqueue(sampleJob(a.id))
            let old = try #require(try await store.claim(owner: "slow", limit: 1).first).lease
            try await Task.sleep(for: .milliseconds(500))
            let reaped = try await store.reapExpiredLeases()
            #expect(reaped == [ReapedJob(jobId: id, tenantId: a.id, newStatus: .pending, attempts: 1)])
            let stale = try #require(try await store.job(id: id))
            #expect(stale.status == .pending && stale.leaseOwner == nil)
            // The client-visible reason names no worker (its host and pid go to the log only).
            #expect(stale.lastError?.contains("lease expired") == true && stale.lastError?.contains("slow") == false)
            let new = try #require(try await store.claim(owner: "fast", limit: 1).first).lease
            #expect(new.epoch > old.epoch && new.attempt == 2)
            // The old owner wakes up: every write it tries is refused.
            #expect(try await store.heartbeat(old).stillOwner == false)
            #expect(try await store.updateProgress(old, percent: 90).stillOwner == false)
            #expect(try await store.complete(old, videoURL: "old.mp4", thumbnailURL: nil, processingTimeMs: 1) == false)
            #expect(try await store.fail(old, error: "boom") == .notOwner)
            #expect(try await store.release(old) == false)
            #expect(try await store.markCancelled(old) == false)
            #expect(try await store.heartbeat(new).stillOwner)
            #expect(try await store.complete(new, videoURL: "new.mp4", thumbnailURL: "new.jpg", processingTimeMs: 42))
            // ...and after the new owner finished, the old one still cannot overwrite the result.
            #expect(try await store.complete(old, videoURL: "old.mp4", thumbnailURL: nil, processingTimeMs: 1) == false)
            let done = try #require(try await store.job(id: id))
            #expect(done.status == .completed && done.outputVideoKey == "new.mp4" && done.outputThumbnailKey == "new.jpg")
            #expect(done.progress == 100 && done.processingTimeMs == 42 && done.completedAt != nil && done.lastError == nil)
            // A completed job is final for its own owner too.
            #expect(try await store.complete(new, videoURL: "again.mp4", thumbnailURL: nil, processingTimeMs: 1) == false)
        }
    }

    @Test func reaperFailsAJobOnceItsAttemptsAreUsedUp() async throws {
        // Two workers on one database: a crashing one whose leases last 1 s, and a live one whose leases last 10
        // minutes, so only the crashed holder's lease can lapse however long a loaded machine takes between steps.
        let short = QueuePolicy(leaseDuration: 1, backoff: BackoffPolicy(base: 0, jitter: 0))
        let long = QueuePolicy(leaseDuration: 600, backoff: BackoffPolicy(base: 0, jitter: 0))
        try await withTestStore(policy: short) { store, database in
            let a = try await store.createTenant(name: "A")
            let id = try await store.enqueue(sampleJob(a.id, maxAttempts: 2))
            let live = try await store.enqueue(sampleJob(a.id, maxAttempts: 1))
            try await JobStore.withRunningStore(configuration: database, policy: long, logger: TestDatabase.logger("rendc.test.live")) {
                liveStore in
                for attempt in 1...2 {
                    let claimed = try await store.claim(owner: "crashy-\(attempt)", limit: 1)
                    #expect(claimed.map(\.job.id) == [id])
                    if attempt == 1 {
                        let liveLease = try #require(try await liveStore.claim(owner: "live", limit: 1).first).lease
                        #expect(liveLease.jobId == live)
                    }
                    // Past the crashed holder's 1 s lease: it is reaped, the live holder's is not.
                    try await Task.sleep(for: .milliseconds(1500))
                    let reaped = try await liveStore.reapExpiredLeases()
                    #expect(reaped.map(\.jobId) == [id])
                    #expect(reaped.first?.newStatus == (attempt == 1 ? .pending : .failed))
                }
            }
            let job = try #require(try await store.job(id: id))
            #expect(job.status == .failed && job.attempts == 2 && job.completedAt != nil)
            #expect(job.lastError == "lease expired: the worker stopped heartbeating during attempt 2 of 2")
            let liveJob = try #require(try await store.job(id: live))
            #expect(liveJob.status == .processing && liveJob.leaseOwner == "live")
        }
    }

    @Test func failureBacksOffThenFails() async throws {
        let policy = QueuePolicy(backoff: BackoffPolicy(base: 30, factor: 2, maximum: 600, jitter: 0.1))
        try await withTestStore(policy: policy) { store, _ in
            let a = try await store.createTenant(name: "A")
            let id = try await store.enqueue(sampleJob(a.id, maxAttempts: 2))
            let lease = try #require(try await store.claim(owner: "w", limit: 1).first).lease
            let before = Date()
            guard case .retrying(let at) = try await store.fail(lease, error: "decoder exploded") else {
                Issue.record("expected a retry")
                return
            }
            #expect(at > before.addingTimeInterval(26) && at < before.addingTimeInterval(35))
            let job = try #require(try await store.job(id: id))
            #expect(job.status == .pending && job.lastError == "decoder exploded" && job.runAfter == at)
            #expect(try await store.claim(owner: "w", limit: 1).isEmpty, "not due before run_after")
            // A bad-input error is not retried.
            let id2 = try await store.enqueue(sampleJob(a.id, maxAttempts: 3))
            let lease2 = try #require(try await store.claim(owner: "w", limit: 1).first).lease
            #expect(lease2.jobId == id2)
            #expect(try await store.fail(lease2, error: "unknown template", retryable: false) == .failed)
            let failed = try #require(try await store.job(id: id2))
            #expect(failed.status == .failed && failed.lastError == "unknown template" && failed.completedAt != nil)
            // A cancel asked for while the attempt ran, then a retryable failure: cancelled, not pending again
            // (review9: it went back to pending, to be claimed and rendered after the backoff).
            var hooked = sampleJob(a.id, maxAttempts: 3)
            hooked.callbackURL = "https://hooks.example.com/x"
            let id3 = try await store.enqueue(hooked)
            let lease3 = try #require(try await store.claim(owner: "w", limit: 1).first).lease
            #expect(try await store.requestCancel(jobId: id3, tenantId: a.id) == .requested)
            #expect(try await store.fail(lease3, error: "storage timeout") == .cancelled)
            let cancelled = try #require(try await store.job(id: id3))
            #expect(cancelled.status == .cancelled && cancelled.completedAt != nil)
            #expect(try await store.webhookDeliveries(jobId: id3).map(\.eventType) == ["job.cancelled"], "its webhook was queued")
            // The same on its last attempt, or with an error that is not retried: cancelled, not failed.
            let id4 = try await store.enqueue(hooked)
            let lease4 = try #require(try await store.claim(owner: "w", limit: 1).first).lease
            #expect(try await store.requestCancel(jobId: id4, tenantId: a.id) == .requested)
            #expect(try await store.fail(lease4, error: "unknown template", retryable: false) == .cancelled)
            #expect(try await store.job(id: id4)?.status == .cancelled)
            #expect(try await store.webhookDeliveries(jobId: id4).map(\.eventType) == ["job.cancelled"])
        }
    }

    @Test func cancelStopsPendingAtOnceAndRunningAtHeartbeat() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A")
            let pending = try await store.enqueue(sampleJob(a.id, priority: 0))
            let running = try await store.enqueue(sampleJob(a.id, priority: 1))
            let lease = try #require(try await store.claim(owner: "w", limit: 1).first).lease
            #expect(lease.jobId == running)
            #expect(try await store.requestCancel(jobId: pending, tenantId: a.id) == .cancelled)
            #expect(try await store.job(id: pending)?.status == .cancelled)
            #expect(try await store.claim(owner: "w", limit: 5).isEmpty, "a cancelled job is never claimed")
            #expect(try await store.heartbeat(lease).cancelRequested == false)
            #expect(try await store.requestCancel(jobId: running, tenantId: a.id) == .requested)
            let beat = try await store.heartbeat(lease)
            #expect(beat.stillOwner && beat.cancelRequested)
            #expect(try await store.markCancelled(lease))
            #expect(try await store.job(id: running)?.status == .cancelled)
            #expect(try await store.requestCancel(jobId: running, tenantId: a.id) == .alreadyFinished(.cancelled))
        }
    }

    @Test func releaseGivesTheJobBackWithoutBurningTheAttempt() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A")
            let id = try await store.enqueue(sampleJob(a.id, maxAttempts: 1))
            let lease = try #require(try await store.claim(owner: "stopping", limit: 1).first).lease
            #expect(try await store.release(lease))
            let job = try #require(try await store.job(id: id))
            #expect(job.status == .pending && job.attempts == 0 && job.leaseOwner == nil)
            let again = try #require(try await store.claim(owner: "next", limit: 1).first)
            #expect(again.job.id == id && again.lease.attempt == 1 && again.lease.epoch > lease.epoch)
            #expect(try await store.complete(lease, videoURL: "x", thumbnailURL: nil, processingTimeMs: 1) == false)
        }
    }

    /// Finished rows must not slow the claim: its per-tenant probe is answered from the partial index on
    /// pending jobs, whatever the table holds besides.
    @Test func theClaimProbeUsesThePartialPendingIndex() async throws {
        try await withTestStore { store, configuration in
            let a = try await store.createTenant(name: "A", maxRunningJobs: 100_000)
            try TestDatabase.psql(
                configuration,
                """
                INSERT INTO video_processing_jobs (tenant_id, image_ids, status, completed_at)
                SELECT '\(a.id.uuidString)', ARRAY[gen_random_uuid()], 'completed', now() FROM generate_series(1, 20000);
                INSERT INTO video_processing_jobs (tenant_id, image_ids, priority)
                SELECT '\(a.id.uuidString)', ARRAY[gen_random_uuid()], g % 5 FROM generate_series(1, 50) g;
                ANALYZE video_processing_jobs;
                """)
            let plan = try TestDatabase.psql(
                configuration,
                """
                EXPLAIN SELECT j.id, j.priority, j.created_at FROM video_processing_jobs j
                WHERE j.tenant_id = '\(a.id.uuidString)' AND j.status = 'pending' AND j.run_after <= now()
                ORDER BY j.priority DESC, j.created_at, j.id LIMIT 4 FOR UPDATE SKIP LOCKED
                """
            ).joined(separator: "\n")
            #expect(plan.contains("video_jobs_claim_idx"), "claim probe plan:\n\(plan)")
            #expect(!plan.contains("Sort"), "the index gives the claim's order:\n\(plan)")
            let claimed = try await store.claim(owner: "w", limit: 4)
            #expect(claimed.count == 4 && claimed.allSatisfy { $0.job.priority == 4 })
        }
    }

    @Test func pruningDeletesOnlyOldFinishedJobs() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A")
            let done = try await store.enqueue(sampleJob(a.id, priority: 2))
            let cancelled = try await store.enqueue(sampleJob(a.id, priority: 1))
            let waiting = try await store.enqueue(sampleJob(a.id, priority: 0))
            let lease = try #require(try await store.claim(owner: "w", limit: 1).first).lease
            #expect(lease.jobId == done)
            #expect(try await store.complete(lease, videoURL: "v", thumbnailURL: nil, processingTimeMs: 1))
            #expect(try await store.requestCancel(jobId: cancelled, tenantId: a.id) == .cancelled)
            #expect(try await store.pruneFinishedJobs(olderThan: 3600) == 0, "nothing is old enough yet")
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await store.pruneFinishedJobs(olderThan: 0.01) == 2)
            #expect(try await store.job(id: done) == nil)
            #expect(try await store.job(id: cancelled) == nil)
            #expect(try await store.job(id: waiting)?.status == .pending)
        }
    }

    /// Every enqueue wakes a listener. No time bound (the pickup latency is a figure printed by `bench/api/load.sh`,
    /// not an assertion); nothing polls here, so each wake-up can only be a NOTIFY.
    @Test func notifyWakesAListenerForEachEnqueue() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A")
            let wakes = WakeCounter()
            let listener = Task { try await store.listenForNewJobs { Task { await wakes.add() } } }
            defer { listener.cancel() }
            // LISTEN is registered once a notification sent now arrives.
            #expect(
                try await eventually(timeout: 30) {
                    await store.notifyNewJob(UUID())
                    try await Task.sleep(for: .milliseconds(100))
                    return await wakes.count > 0
                })
            try await Task.sleep(for: .milliseconds(300))
            let before = await wakes.count
            for _ in 0..<10 { _ = try await store.enqueue(sampleJob(a.id)) }
            #expect(try await eventually(timeout: 30) { await wakes.count - before >= 10 })
            #expect(await wakes.count - before == 10, "one wake-up per enqueue")
        }
    }
}

actor WakeCounter {
    var count = 0
    func add() { count += 1 }
}

/// Priority is a tenant's own business (security review: one tenant's priority 100 jobs ran before every other
/// tenant's jobs, so a tenant could starve the others by setting it).
@Suite struct FairClaimTests {
    @Test func priorityOrdersJobsWithinATenantButNotAcrossTenants() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A", maxRunningJobs: 10)
            let b = try await store.createTenant(name: "B", maxRunningJobs: 10)
            var bJobs: [UUID] = []
            for _ in 0..<3 { bJobs.append(try await store.enqueue(sampleJob(b.id, priority: 0))) }
            // A submits later, at the highest priority, with its own order: 100 before 50 before 0.
            var aJobs: [(UUID, Int)] = []
            for priority in [0, 100, 100, 50, 100, 100] { aJobs.append((try await store.enqueue(sampleJob(a.id, priority: priority)), priority)) }
            // A worker with one slot: claim one, finish it, claim the next.
            var order: [UUID] = []
            while let next = try await store.claim(owner: "w", limit: 1).first {
                order.append(next.job.id)
                #expect(try await store.complete(next.lease, videoURL: "v", thumbnailURL: nil, processingTimeMs: 1))
            }
            #expect(order.count == 9)
            let tenants = order.map { id in bJobs.contains(id) ? "B" : "A" }
            #expect(tenants == ["B", "A", "B", "A", "B", "A", "A", "A", "A"], "the claims alternate: \(tenants)")
            // Within each tenant: priority, then age.
            let expectedA = aJobs.enumerated().sorted { x, y in
                x.element.1 != y.element.1 ? x.element.1 > y.element.1 : x.offset < y.offset
            }.map(\.element.0)
            #expect(order.filter { !bJobs.contains($0) } == expectedA)
            #expect(order.filter { bJobs.contains($0) } == bJobs)
        }
    }

    @Test func oneClaimForSeveralSlotsInterleavesTenantsByRunningJobs() async throws {
        try await withTestStore { store, _ in
            let a = try await store.createTenant(name: "A", maxRunningJobs: 10)
            let b = try await store.createTenant(name: "B", maxRunningJobs: 10)
            let c = try await store.createTenant(name: "C", maxRunningJobs: 10)
            for _ in 0..<6 { _ = try await store.enqueue(sampleJob(a.id, priority: 100)) }
            for _ in 0..<6 { _ = try await store.enqueue(sampleJob(b.id, priority: -100)) }
            let first = try #require(try await store.claim(owner: "w0", limit: 1).first)
            #expect(first.job.tenantId == a.id, "neither was served yet: the older job first")
            for _ in 0..<2 { _ = try await store.enqueue(sampleJob(c.id, priority: 0)) }
            // A runs one job, B and C none. Five slots: B and C one each (never served: B's job is older), then B
            // and C a second each (still never served), then A's second.
            let batch = try await store.claim(owner: "w1", limit: 5).map(\.job.tenantId)
            let names = batch.map { $0 == a.id ? "A" : $0 == b.id ? "B" : "C" }
            #expect(names == ["B", "C", "B", "C", "A"], "\(names)")
        }
    }
}
