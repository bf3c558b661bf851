import Foundation
import JobQueue
import Logging
import Metrics
import ObjectStorage
import ServiceLifecycle
import Webhooks

// One job: claim to final state (fetch inputs, render on a thread of its own, upload, complete or fail), with its
// lease kept alive and cancellation honoured throughout.
extension JobWorker {
    enum StopReason: Sendable, Equatable { case cancelled, lostLease, shutdown }

    enum Outcome: Sendable {
        case rendered(RenderedFiles)
        case failed(String, retryable: Bool)
        case stopped(StopReason)
    }

    struct RenderControl: Sendable {
        var progress = 0.0
        var stop: StopReason?
        var finished = false
    }

    func process(_ claimed: ClaimedJob) async {
        let job = claimed.job
        let lease = claimed.lease
        let started = ContinuousClock.now
        let tenant = job.tenantId.uuidString.lowercased()
        var logger = self.logger
        logger[metadataKey: "jobId"] = "\(job.id.uuidString.lowercased())"
        logger[metadataKey: "tenantId"] = "\(tenant)"
        logger[metadataKey: "attempt"] = "\(lease.attempt)"
        logger.info("job processing", metadata: ["template": "\(job.template)"])
        if lease.attempt == 1 {
            Metrics.Timer(label: "rendc_job_queue_wait_seconds", dimensions: [("tenant", tenant)])
                .record(duration: .milliseconds(max(0, Int(Date().timeIntervalSince(job.createdAt) * 1000))))
        }

        let directory = processFolder + "/job-\(job.id.uuidString.lowercased())-\(lease.epoch)"
        defer { try? FileManager.default.removeItem(atPath: directory) }

        var outcome: Outcome
        var inputNames: [(String, String)] = []
        do {
            try FileManager.default.createDirectory(atPath: directory + "/inputs", withIntermediateDirectories: true)
            let input = try await fetchInputs(job, epoch: lease.epoch, directory: directory)
            inputNames = Self.inputNames(job, input)
            outcome = await renderSupervised(input, lease: lease)
        } catch {
            let failure = JobFailure.classify(error)
            outcome = .failed(failure.message, retryable: !failure.permanent)
        }
        if case .failed(let message, let retryable) = outcome {
            // The client sees the job's last_error and webhook: no temp paths, pids or host names there.
            let scrubbed = JobFailure.clientMessage(
                message, inputs: inputNames, workDirectory: directory, temporaryDirectory: configuration.temporaryDirectory,
                identity: configuration.identity)
            if scrubbed != message { logger.info("job failure details", metadata: ["error": "\(message)"]) }
            outcome = .failed(scrubbed, retryable: retryable)
        }
        let elapsed = ContinuousClock.now - started
        await finish(job, lease: lease, outcome: outcome, elapsed: elapsed, logger: logger)
    }

    func fetchInputs(_ job: Job, epoch: Int64, directory: String) async throws -> RenderInput {
        let assets = try await store.assets(ids: job.imageIds, tenantId: job.tenantId)
        if assets.count != job.imageIds.count {
            let found = Set(assets.map(\.id))
            let missing = job.imageIds.first { !found.contains($0) }.map { $0.uuidString.lowercased() } ?? "?"
            throw PermanentJobError("image asset \(missing) does not exist for this tenant")
        }
        var images: [String] = []
        for (index, asset) in assets.enumerated() {
            guard asset.type == .image || asset.type == .video else {
                throw PermanentJobError("asset \(asset.id.uuidString.lowercased()) is a \(asset.type.rawValue), not an image or a video")
            }
            let local = directory + "/inputs/image-\(index)" + Self.fileExtension(of: asset.filePath)
            try await fetch(asset, to: local)
            images.append(local)
        }
        // The music and the voice-over: audio assets of the job's own tenant.
        func audioInput(_ assetId: String?, column: String, noun: String, name: String) async throws -> String? {
            guard let assetId, !assetId.isEmpty else { return nil }
            guard let id = UUID(uuidString: assetId) else {
                throw PermanentJobError("\(column) '\(assetId.prefix(80))' is not an asset id")
            }
            guard let asset = try await store.asset(id: id, tenantId: job.tenantId), asset.type == .audio else {
                throw PermanentJobError("\(noun) asset \(assetId) does not exist for this tenant")
            }
            let local = directory + "/inputs/" + name + Self.fileExtension(of: asset.filePath)
            try await fetch(asset, to: local)
            return local
        }
        let audio = try await audioInput(job.audioAssetId, column: "audio_file", noun: "audio", name: "audio")
        let voice = try await audioInput(job.voiceAssetId, column: "voice_file", noun: "voice", name: "voice")
        // Merge fields: text as given, pictures fetched like the product images.
        var fields: [String: String] = [:]
        for (name, value) in job.fields.sorted(by: { $0.key < $1.key }) {
            switch value {
            case .text(let text):
                fields[name] = text
            case .asset(let id):
                guard let asset = try await store.asset(id: id, tenantId: job.tenantId), asset.type == .image else {
                    throw PermanentJobError("image asset \(id.uuidString.lowercased()) (fields.\(name)) does not exist for this tenant")
                }
                let local = directory + "/inputs/field-\(fields.count)" + Self.fileExtension(of: asset.filePath)
                try await fetch(asset, to: local)
                fields[name] = local
            }
        }
        var input = RenderInput(
            job: job, attemptEpoch: epoch, images: images, audio: audio, fields: fields, videoPath: directory + "/output.mp4",
            thumbnailPath: directory + "/thumbnail.jpg", workDirectory: directory)
        input.voice = voice
        return input
    }

    /// Copies an input from storage; a missing object or a bad key will not appear by retrying.
    func fetch(_ asset: Asset, to local: String) async throws {
        do {
            try await objectStore.get(key: asset.filePath, to: local)
        } catch let error as ObjectStoreError where error.code == .notFound || error.code == .invalidKey {
            throw PermanentJobError("\(asset.type.rawValue) asset \(asset.id.uuidString.lowercased()) is missing from storage: \(error)")
        }
    }

    static func fileExtension(of key: String) -> String {
        let ext = (key as NSString).pathExtension.lowercased()
        return ext.isEmpty || ext.count > 5 || !ext.allSatisfy({ $0.isLetter || $0.isNumber }) ? "" : "." + ext
    }

    /// Runs the render on its own thread; meanwhile writes throttled progress and heartbeats, and stops the render
    /// when the lease is lost, a cancel is requested, or the shutdown grace period ran out.
    func renderSupervised(_ input: RenderInput, lease: Lease) async -> Outcome {
        let control = Locked(RenderControl())
        let finishedBell = Doorbell()
        let renderer = self.renderer
        async let result: Result<RenderedFiles, any Error> = runOnDedicatedThread(name: "render-\(lease.jobId)") {
            defer {
                control.withLock { $0.finished = true }
                finishedBell.ring()
            }
            return Result {
                try renderer.render(
                    input,
                    progress: { value in control.withLock { $0.progress = value.isFinite ? min(max(value, 0), 1) : 0 } },
                    shouldCancel: { control.current.stop != nil })
            }
        }
        var throttle = ProgressThrottle(minimumInterval: configuration.progressInterval)
        let clock = ContinuousClock()
        let origin = clock.now
        var lastBeat = origin
        let tick = min(0.1, configuration.progressInterval / 2)
        while !control.current.finished {
            await finishedBell.wait(timeout: tick)
            if control.current.finished { break }
            if state.current.graceExpired || Task.isCancelled {
                control.withLock { $0.stop = $0.stop ?? .shutdown }
            }
            if control.current.stop != nil { continue }
            let now = clock.now
            var check: HeartbeatResult?
            let percent = min(99, Int(control.current.progress * 100))
            if throttle.shouldSend(percent, now: (now - origin) / .seconds(1)) {
                check = try? await store.updateProgress(lease, percent: percent)
            }
            if (now - lastBeat) / .seconds(1) >= configuration.heartbeatInterval {
                lastBeat = now
                check = try? await store.heartbeat(lease)
            }
            if let check {
                if !check.stillOwner {
                    control.withLock { $0.stop = .lostLease }
                } else if check.cancelRequested {
                    control.withLock { $0.stop = .cancelled }
                }
            }
        }
        let finalResult = await result
        let stop = control.current.stop
        switch (finalResult, stop) {
        case (.success(let files), nil), (.success(let files), .shutdown?):
            return .rendered(files)
        case (_, let reason?):
            return .stopped(reason)
        case (.failure(let error), nil):
            let failure = JobFailure.classify(error)
            return .failed(failure.permanent ? failure.message : "render failed: \(failure.message)", retryable: !failure.permanent)
        }
    }

    func finish(_ job: Job, lease: Lease, outcome: Outcome, elapsed: Duration, logger: Logger) async {
        let tenant = job.tenantId.uuidString.lowercased()
        let milliseconds = Int(elapsed / .milliseconds(1))
        do {
            switch outcome {
            case .rendered(let files):
                // Do not upload for a job we no longer own.
                guard try await store.heartbeat(lease).stillOwner else {
                    logger.warning("job lease lost before upload: result discarded")
                    return
                }
                let videoKey = OutputKeys.video(tenantId: job.tenantId, jobId: job.id)
                try await objectStore.put(localPath: files.video, key: videoKey, contentType: "video/mp4")
                var thumbnailKey: String?
                if let thumbnail = files.thumbnail {
                    let key = OutputKeys.thumbnail(tenantId: job.tenantId, jobId: job.id)
                    try await objectStore.put(localPath: thumbnail, key: key, contentType: "image/jpeg")
                    thumbnailKey = key
                }
                if let plan = files.plan { try await store.recordPlan(lease, plan: plan) }
                if try await store.complete(
                    lease, videoURL: videoKey, thumbnailURL: thumbnailKey, processingTimeMs: milliseconds, audioLoudness: files.audioLoudness)
                {
                    logger.info("job completed", metadata: ["processingTimeMs": "\(milliseconds)"])
                    webhooks?.wake()
                    Counter(label: "rendc_jobs_completed_total", dimensions: [("tenant", tenant)]).increment()
                    Metrics.Timer(label: "rendc_job_processing_seconds", dimensions: [("tenant", tenant)]).record(duration: elapsed)
                } else {
                    logger.warning("job lease lost at completion: another attempt owns the job, result discarded")
                }
            case .failed(let message, let retryable):
                switch try await store.fail(lease, error: message, retryable: retryable) {
                case .retrying(let at):
                    logger.warning("job attempt failed, will retry", metadata: ["error": "\(message)", "runAfter": "\(at)"])
                    Counter(label: "rendc_jobs_retried_total", dimensions: [("tenant", tenant)]).increment()
                case .failed:
                    logger.error("job failed", metadata: ["error": "\(message)"])
                    webhooks?.wake()
                    Counter(label: "rendc_jobs_failed_total", dimensions: [("tenant", tenant)]).increment()
                case .notOwner:
                    logger.warning("job attempt failed after its lease was lost", metadata: ["error": "\(message)"])
                }
            case .stopped(.cancelled):
                if try await store.markCancelled(lease) {
                    logger.info("job cancelled")
                    webhooks?.wake()
                    Counter(label: "rendc_jobs_cancelled_total", dimensions: [("tenant", tenant)]).increment()
                }
            case .stopped(.lostLease):
                logger.warning("job lease lost: render stopped, nothing written")
            case .stopped(.shutdown):
                if try await store.release(lease) {
                    logger.info("job released for another worker (shutdown)")
                    Counter(label: "rendc_jobs_released_total", dimensions: [("tenant", tenant)]).increment()
                }
            }
        } catch {
            // The lease runs out and the reaper hands the job on: nothing is lost.
            logger.error("could not record the job's outcome; its lease will expire", metadata: ["error": "\(error)"])
        }
    }
}
