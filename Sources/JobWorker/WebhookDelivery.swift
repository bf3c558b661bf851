import Foundation
import JobQueue
import Logging
import Metrics
import ObjectStorage
import ServiceLifecycle
import Webhooks

/// How the durable webhook queue is worked.
public struct WebhookDeliveryConfiguration: Sendable, Equatable {
    /// Attempts in flight at once in this process.
    public var concurrency: Int
    /// Attempts in flight at once for one tenant, across all processes (fairness: one tenant's slow receiver
    /// holds at most this many slots).
    public var perTenant: Int
    /// Seconds between looks for due deliveries when nothing wakes the loop.
    public var pollInterval: Double
    /// Attempts per event and the waits between them.
    public var retry: WebhookRetryPolicy

    public init(
        concurrency: Int = 4, perTenant: Int = 1, pollInterval: Double = 1,
        retry: WebhookRetryPolicy = WebhookRetryPolicy(attempts: 8, baseDelay: 5, maxDelay: 1800)
    ) {
        self.concurrency = max(1, concurrency)
        self.perTenant = max(1, perTenant)
        self.pollInterval = pollInterval
        self.retry = retry
    }
}

/// Delivers the webhooks queued in Postgres (`webhook_deliveries`, written in the same statement as the job's final
/// state). Each attempt is claimed with a lease, so a worker killed mid-attempt loses nothing: the lease runs out
/// and another process (or this one, restarted) tries again with the same event id. A failed attempt is
/// scheduled for later in the database and frees its slot at once; claims are fair across tenants. Each attempt is
/// signed with the job's tenant's own secret (``WebhookSecrets``, at the tenant's generation when it is claimed).
public final class WebhookDeliveryService: Sendable {
    let store: JobStore
    let sender: WebhookSender
    let secrets: WebhookSecrets
    let links: DownloadLinks?
    public let configuration: WebhookDeliveryConfiguration
    let owner: String
    let logger: Logger
    private let doorbell = Doorbell()
    private let state = Locked(State())

    struct State: Sendable {
        var running = 0
        var stopping = false
    }

    public init(
        store: JobStore, sender: WebhookSender, secrets: WebhookSecrets, links: DownloadLinks?,
        configuration: WebhookDeliveryConfiguration = .init(), owner: String, logger: Logger
    ) {
        self.store = store
        self.sender = sender
        self.secrets = secrets
        self.links = links
        self.configuration = configuration
        self.owner = owner
        self.logger = logger
    }

    /// A claimed attempt's lease: the whole attempt's timeout plus a margin.
    var leaseSeconds: Double { sender.timeouts.total + sender.timeouts.connect + 15 }

    /// Looks for due deliveries now (a job just finished).
    public func wake() { doorbell.ring() }

    /// Stops claiming; `run` returns once the attempts in flight are done (each bounded by the sender's timeouts).
    public func stop() {
        state.withLock { $0.stopping = true }
        doorbell.ring()
    }

    /// Claims and delivers until ``stop()`` or cancellation.
    public func run() async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !state.current.stopping {
                let free = configuration.concurrency - state.current.running
                var claimed: [ClaimedDelivery] = []
                if free > 0 {
                    do {
                        claimed = try await store.claimDeliveries(
                            owner: owner, limit: free, perTenant: configuration.perTenant, leaseSeconds: leaseSeconds)
                    } catch {
                        logger.warning("could not claim webhook deliveries", metadata: ["error": "\(error)"])
                    }
                }
                for claim in claimed {
                    state.withLock { $0.running += 1 }
                    group.addTask {
                        await self.deliver(claim)
                        self.state.withLock { $0.running -= 1 }
                        self.doorbell.ring()
                    }
                }
                // A full batch may mean more are due: look again at once while slots are free.
                if claimed.count == free && free > 0 { continue }
                await doorbell.wait(timeout: configuration.pollInterval)
            }
        }
    }

    /// One attempt of one event, its outcome recorded (fenced by the claim).
    func deliver(_ claim: ClaimedDelivery) async {
        var logger = self.logger
        logger[metadataKey: "webhookId"] = "\(claim.id.uuidString.lowercased())"
        logger[metadataKey: "jobId"] = "\(claim.job.id.uuidString.lowercased())"
        logger[metadataKey: "tenantId"] = "\(claim.job.tenantId.uuidString.lowercased())"
        let body: Data
        do {
            body = try await WebhookPayload.body(for: claim, links: links)
        } catch {
            logger.warning("could not build the webhook body; will retry", metadata: ["error": "\(error)"])
            _ = try? await store.recordDelivery(
                claim, outcome: .retry(after: 5, reason: "could not build the body"), maxAttempts: configuration.retry.attempts)
            return
        }
        let event = WebhookEvent(
            type: claim.eventType, url: claim.url, body: body, id: claim.id.uuidString.lowercased(), requestId: claim.requestId)
        let result = await sender.attempt(
            event, signer: secrets.signer(tenantId: claim.job.tenantId, generation: claim.secretGeneration))
        let outcome: DeliveryOutcome
        let tenant = claim.job.tenantId.uuidString.lowercased()
        switch result {
        case .delivered(let status):
            outcome = .delivered(status: status)
            logger.info("webhook delivered", metadata: ["event": "\(claim.eventType)", "attempt": "\(claim.attempt)", "status": "\(status)"])
            Counter(label: "rendc_webhooks_delivered_total", dimensions: [("tenant", tenant)]).increment()
        case .retry(let reason):
            let wait = configuration.retry.delay(afterAttempt: claim.attempt, unit: Double.random(in: 0..<1))
            outcome = .retry(after: wait, reason: reason)
            if claim.attempt >= configuration.retry.attempts {
                logger.error(
                    "webhook not delivered: attempts used up",
                    metadata: ["event": "\(claim.eventType)", "attempts": "\(claim.attempt)", "reason": "\(reason)"])
                Counter(label: "rendc_webhooks_failed_total", dimensions: [("tenant", tenant)]).increment()
            } else {
                logger.warning(
                    "webhook attempt failed; retry scheduled",
                    metadata: [
                        "event": "\(claim.eventType)", "attempt": "\(claim.attempt)", "reason": "\(reason)", "retryInSeconds": "\(Int(wait))",
                    ])
            }
        case .refused(let reason):
            outcome = .failed(reason: reason)
            logger.error("webhook refused; not retried", metadata: ["event": "\(claim.eventType)", "reason": "\(reason)"])
            Counter(label: "rendc_webhooks_failed_total", dimensions: [("tenant", tenant)]).increment()
        }
        do {
            if try await !store.recordDelivery(claim, outcome: outcome, maxAttempts: configuration.retry.attempts) {
                logger.warning("webhook delivery lease lost before its outcome was recorded; it may be sent again")
            }
        } catch {
            logger.error("could not record the webhook outcome; its lease will expire and it is sent again", metadata: ["error": "\(error)"])
        }
    }
}

/// The JSON body of a webhook (documented in docs/api.md, "Webhooks"):
/// `{"id", "type", "createdAt", "event", "job": {...}}`, with signed download URLs and their expiry for a completed
/// job's outputs as well as their storage keys.
public enum WebhookPayload {
    public static func body(for claim: ClaimedDelivery, links: DownloadLinks?, now: Date = Date()) async throws -> Data {
        let job = claim.job
        var view: [String: Any] = [
            "id": job.id.uuidString.lowercased(), "tenantId": job.tenantId.uuidString.lowercased(),
            "status": job.status.rawValue, "overlayType": job.template, "qualityMode": job.qualityMode.rawValue,
            "attempts": job.attempts, "createdAt": iso(job.createdAt),
        ]
        if let completed = job.completedAt { view["finishedAt"] = iso(completed) }
        if let ms = job.processingTimeMs { view["processingTimeMs"] = ms }
        if let loudness = job.audioLoudness {
            view["audioLoudness"] = [
                "inputLufs": loudness.inputLufs, "outputLufs": loudness.outputLufs, "outputTruePeakDbtp": loudness.outputTruePeakDbtp,
            ]
        }
        if let notes = job.renderNotes { view["notes"] = notes }
        if job.status != .completed, let error = job.lastError { view["lastError"] = error }
        if job.status == .completed {
            var expiry: Date?
            for (keyField, urlField, key) in [
                ("outputVideoKey", "outputVideoUrl", job.outputVideoKey), ("outputThumbnailKey", "outputThumbnailUrl", job.outputThumbnailKey),
            ] {
                guard let key, !key.isEmpty else { continue }
                view[keyField] = key
                if let link = try await links?.link(for: key, now: now) {
                    view[urlField] = link.url
                    expiry = link.expiresAt
                }
            }
            if let expiry { view["urlsExpireAt"] = iso(expiry) }
        }
        let envelope: [String: Any] = [
            "id": claim.id.uuidString.lowercased(), "type": claim.eventType, "event": claim.eventType,
            "createdAt": iso(claim.occurredAt), "job": view,
        ]
        return try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
