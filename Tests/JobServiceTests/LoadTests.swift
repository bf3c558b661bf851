import Foundation
import JobQueue
import JobWorker
import ObjectStorage
import RendcTestSupport
import Testing

/// The queue under load, in one process: correctness is asserted; the numbers are printed for docs/queue.md.
@Suite struct LoadTests {
    /// One tenant with a big, older backlog must not starve two small tenants: the per-tenant running cap
    /// inside the claim gives them slots at once.
    @Test func aBigBacklogDoesNotStarveOtherTenants() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-load")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (big, images) = try await makeTenantWithImages(store, objects: objects, count: 1, cap: 2)
            let small1 = try await store.createTenant(name: "small-1", maxRunningJobs: 2)
            let small2 = try await store.createTenant(name: "small-2", maxRunningJobs: 2)
            for tenant in [small1, small2] {
                // Same image keys, registered for the small tenants too.
                for asset in try await store.assets(tenantId: big.id) {
                    _ = try await store.insertAsset(NewAsset(id: nil, tenantId: tenant.id, type: .image, name: asset.name, filePath: asset.filePath))
                }
            }
            let smallImages1 = try await store.assets(tenantId: small1.id).map(\.id)
            let smallImages2 = try await store.assets(tenantId: small2.id).map(\.id)
            for _ in 0..<120 { _ = try await store.enqueue(NewJob(tenantId: big.id, imageIds: images)) }
            for _ in 0..<12 {
                _ = try await store.enqueue(NewJob(tenantId: small1.id, imageIds: smallImages1))
                _ = try await store.enqueue(NewJob(tenantId: small2.id, imageIds: smallImages2))
            }
            let config = WorkerConfiguration(concurrency: 6, temporaryDirectory: root.path + "/tmp", identity: "w-load", pollInterval: 1)
            let start = Date()
            try await withWorker(store: store, objects: objects, renderer: SimulatedRenderer(duration: 0.05), configuration: config) {
                (_: JobWorker) async throws -> Void in
                #expect(try await eventually(timeout: 300) { try await store.statusCounts()[.completed] == 144 })
            }
            let elapsed = Date().timeIntervalSince(start)
            func finishTimes(_ tenant: Tenant) async throws -> [Double] {
                var all: [Job] = []
                var cursor: String?
                repeat {
                    let page = try await store.jobs(tenantId: tenant.id, limit: 100, after: cursor)
                    all += page.jobs
                    cursor = page.nextCursor
                } while cursor != nil
                return all.compactMap { $0.completedAt?.timeIntervalSince(start) }.sorted()
            }
            let bigDone = try await finishTimes(big)
            let smallDone = try await finishTimes(small1) + finishTimes(small2)
            let bigLast = bigDone.last ?? 0
            let smallLast = smallDone.max() ?? 0
            print(
                """
                fairness: 120 jobs of one tenant enqueued before 2 x 12 of two others, cap 2 each, 6 slots, 50 ms renders: \
                all done in \(String(format: "%.2f", elapsed)) s (\(String(format: "%.0f", 144 / elapsed)) jobs/s); \
                the small tenants' last job finished at \(String(format: "%.2f", smallLast)) s, the big tenant's at \
                \(String(format: "%.2f", bigLast)) s
                """)
            #expect(smallDone.count == 24 && bigDone.count == 120)
            #expect(smallLast < bigLast / 2, "the small tenants did not wait behind the big backlog")
        }
    }

    /// Raw queue cost: claim + progress + complete for many jobs through several in-process workers with
    /// instant renders. Asserts every job completed exactly once; prints jobs per second.
    @Test func manyInstantJobsCompleteExactlyOnce() async throws {
        try await withTestStore { store, _ in
            let root = try Fixtures.temporaryDirectory("rendc-load")
            defer { try? FileManager.default.removeItem(at: root) }
            let objects = LocalDirectoryStore(root: root.path + "/storage")
            let (tenant, images) = try await makeTenantWithImages(store, objects: objects, count: 1, cap: 1000)
            let count = 600
            for _ in 0..<count { _ = try await store.enqueue(NewJob(tenantId: tenant.id, imageIds: images)) }
            let start = Date()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<3 {
                    group.addTask {
                        let config = WorkerConfiguration(
                            concurrency: 4, temporaryDirectory: root.path + "/tmp\(index)", identity: "w\(index)", pollInterval: 0.2)
                        try await withWorker(store: store, objects: objects, renderer: SimulatedRenderer(duration: 0), configuration: config) {
                            (_: JobWorker) async throws -> Void in
                            _ = try await eventually(timeout: 90) { try await store.statusCounts()[.completed] == count }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = Date().timeIntervalSince(start)
            let counts = try await store.statusCounts()
            #expect(counts == [.completed: count])
            let owners = try await store.jobs(tenantId: tenant.id, limit: 100).jobs.compactMap(\.leaseOwner)
            #expect(Set(owners).count > 1, "the workers shared the work")
            print(
                "queue throughput: \(count) instant jobs through 3 in-process workers x 4 slots in \(String(format: "%.2f", elapsed)) s = \(String(format: "%.0f", Double(count) / elapsed)) jobs/s (claim, progress, input fetch, upload, fenced complete)"
            )
        }
    }
}
