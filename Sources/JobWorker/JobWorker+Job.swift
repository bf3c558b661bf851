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
    enum StopReason: Sendable, Equatable { case cancelled, lostLease, shutdown, timedOut }

    enum Outcome: Sendable {
        /// Rendered and uploaded: the outputs are at their keys, the job may complete.
        case uploaded(UploadedOutputs)
        case failed(String, retryable: Bool)
        case stopped(StopReason)
    }

    struct UploadedOutputs: Sendable {
        var videoKey: String
        var thumbnailKey: String?
        var plan: String?
        var audioLoudness: JobAudioLoudness?
        var notes: [String] = []
    }

    /// A job's work ended early (failed or stopped) with this outcome.
    struct Ended: Error {
        var outcome: Outcome
    }

    struct RenderControl: Sendable {
        var progress = 0.0
        var finished = false
    }

    /// Why a job's work must stop, set once by whoever notices first (the lease keeper, a progress write, the
    /// shutdown grace period); the render thread and the work task read it.
    final class StopSignal: Sendable {
        private let reason = Locked<StopReason?>(nil)
        var current: StopReason? { reason.current }
        /// Records `value` unless a reason is already set; returns the reason in force.
        @discardableResult
        func stop(_ value: StopReason) -> StopReason {
            reason.withLock { current in
                let result = current ?? value
                current = result
                return result
            }
        }
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

        // One lease keeper for the whole job, from the claim to the final write: fetching inputs, rendering and
        // uploading can each outlast a lease (slow storage, long renders). When the lease is lost, a cancel is
        // requested or the shutdown grace period ends, the keeper stops the work, whichever step it is in.
        let stop = StopSignal()
        let done = Locked(false)
        let doneBell = Doorbell()
        let work = Task { await self.perform(job, lease: lease, directory: directory, stop: stop, logger: logger) }
        async let keeper: Void = keepLease(lease, stop: stop, done: done, bell: doneBell, onStop: { work.cancel() })
        let outcome = await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            stop.stop(.shutdown)
            work.cancel()
        }
        let elapsed = ContinuousClock.now - started
        await finish(job, lease: lease, outcome: outcome, elapsed: elapsed, logger: logger)
        done.withLock { $0 = true }
        doneBell.ring()
        await keeper
    }

    /// Renews the lease every `heartbeatInterval` until `done`; sets `stop` and calls `onStop` when the lease is
    /// lost, a cancel was requested, or the shutdown grace period ran out. A heartbeat that fails (database
    /// trouble) is tried again at the next beat; if the lease ran out meanwhile, that heartbeat says so.
    func keepLease(_ lease: Lease, stop: StopSignal, done: Locked<Bool>, bell: Doorbell, onStop: @Sendable () -> Void) async {
        let clock = ContinuousClock()
        let started = clock.now
        var lastBeat = clock.now
        let tick = min(0.25, configuration.heartbeatInterval)
        while !done.current {
            await bell.wait(timeout: tick)
            if done.current { return }
            if state.current.graceExpired || Task.isCancelled {
                stop.stop(.shutdown)
                onStop()
                return
            }
            if (clock.now - started) / .seconds(1) >= configuration.attemptTimeout {
                stop.stop(.timedOut)
                onStop()
                return
            }
            if stop.current != nil {
                // A progress write already saw the lease lost or the cancel: stop the work too.
                onStop()
                return
            }
            guard (clock.now - lastBeat) / .seconds(1) >= configuration.heartbeatInterval else { continue }
            lastBeat = clock.now
            guard let beat = try? await store.heartbeat(lease) else { continue }
            if !beat.stillOwner || beat.cancelRequested {
                stop.stop(beat.stillOwner ? .cancelled : .lostLease)
                onStop()
                return
            }
        }
    }

    /// The interruptible part of a job: fetch its inputs, render, upload the outputs. A stop (lost lease, cancel,
    /// shutdown) wins over whatever error the interrupted step threw. Failure messages are scrubbed for the client.
    func perform(_ job: Job, lease: Lease, directory: String, stop: StopSignal, logger: Logger) async -> Outcome {
        var inputNames: [(String, String)] = []
        do {
            try FileManager.default.createDirectory(atPath: directory + "/inputs", withIntermediateDirectories: true)
            let input = try await fetchInputs(job, epoch: lease.epoch, directory: directory)
            inputNames = Self.inputNames(job, input)
            try checkStop(stop)
            let files = try await renderSupervised(input, lease: lease, stop: stop)
            try checkStop(stop)
            return .uploaded(try await upload(files, job: job, lease: lease, stop: stop, logger: logger))
        } catch let ended as Ended {
            guard case .failed(let message, let retryable) = ended.outcome else { return ended.outcome }
            return .failed(scrub(message, inputNames: inputNames, directory: directory, logger: logger), retryable: retryable)
        } catch {
            if let reason = stop.current { return .stopped(reason) }
            if Task.isCancelled { return .stopped(stop.stop(.shutdown)) }
            let failure = JobFailure.classify(error)
            return .failed(scrub(failure.message, inputNames: inputNames, directory: directory, logger: logger), retryable: !failure.permanent)
        }
    }

    /// Throws ``Ended`` when the work must stop.
    func checkStop(_ stop: StopSignal) throws {
        if Task.isCancelled { stop.stop(.shutdown) }
        if let reason = stop.current { throw Ended(outcome: .stopped(reason)) }
    }

    /// The client sees the job's last_error and webhook: no temp paths, pids or host names there.
    func scrub(_ message: String, inputNames: [(String, String)], directory: String, logger: Logger) -> String {
        let scrubbed = JobFailure.clientMessage(
            message, inputs: inputNames, workDirectory: directory, temporaryDirectory: configuration.temporaryDirectory,
            identity: configuration.identity)
        if scrubbed != message { logger.info("job failure details", metadata: ["error": "\(message)"]) }
        return scrubbed
    }

    /// Uploads the outputs to their deterministic keys, only while the job is still ours (the lease keeper stops
    /// an upload that outlives the lease).
    func upload(_ files: RenderedFiles, job: Job, lease: Lease, stop: StopSignal, logger: Logger) async throws -> UploadedOutputs {
        // Do not upload for a job we no longer own.
        guard try await store.heartbeat(lease).stillOwner else {
            stop.stop(.lostLease)
            logger.warning("job lease lost before upload: result discarded")
            throw Ended(outcome: .stopped(.lostLease))
        }
        let videoKey = OutputKeys.video(tenantId: job.tenantId, jobId: job.id)
        try await objectStore.put(localPath: files.video, key: videoKey, contentType: "video/mp4")
        try checkStop(stop)
        var thumbnailKey: String?
        if let thumbnail = files.thumbnail {
            let key = OutputKeys.thumbnail(tenantId: job.tenantId, jobId: job.id)
            try await objectStore.put(localPath: thumbnail, key: key, contentType: "image/jpeg")
            try checkStop(stop)
            thumbnailKey = key
        }
        return UploadedOutputs(
            videoKey: videoKey, thumbnailKey: thumbnailKey, plan: files.plan, audioLoudness: files.audioLoudness, notes: files.notes)
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

    /// Runs the render on its own thread; meanwhile writes throttled progress, and stops the render when `stop` is
    /// set (by the lease keeper, or here when a progress write finds the lease lost or a cancel requested) or the
    /// shutdown grace period ran out. Throws ``Ended`` when the render failed or was stopped.
    func renderSupervised(_ input: RenderInput, lease: Lease, stop: StopSignal) async throws -> RenderedFiles {
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
                    shouldCancel: { stop.current != nil })
            }
        }
        var throttle = ProgressThrottle(minimumInterval: configuration.progressInterval)
        let clock = ContinuousClock()
        let origin = clock.now
        let tick = min(0.1, configuration.progressInterval / 2)
        while !control.current.finished {
            await finishedBell.wait(timeout: tick)
            if control.current.finished { break }
            if state.current.graceExpired || Task.isCancelled { stop.stop(.shutdown) }
            if stop.current != nil { continue }
            let percent = min(99, Int(control.current.progress * 100))
            guard throttle.shouldSend(percent, now: (clock.now - origin) / .seconds(1)),
                let check = try? await store.updateProgress(lease, percent: percent)
            else { continue }
            if !check.stillOwner {
                stop.stop(.lostLease)
            } else if check.cancelRequested {
                stop.stop(.cancelled)
            }
        }
        switch await result {
        case .success(let files):
            // Stopped as it finished: the outputs are not ours to upload (lost lease), unwanted (cancel), or another
            // worker will make them again after the release (shutdown).
            if let reason = stop.current { throw Ended(outcome: .stopped(reason)) }
            return files
        case .failure(let error):
            if let reason = stop.current { throw Ended(outcome: .stopped(reason)) }
            let failure = JobFailure.classify(error)
            throw Ended(
                outcome: .failed(failure.permanent ? failure.message : "render failed: \(failure.message)", retryable: !failure.permanent))
        }
    }

    func finish(_ job: Job, lease: Lease, outcome: Outcome, elapsed: Duration, logger: Logger) async {
        let tenant = job.tenantId.uuidString.lowercased()
        let milliseconds = Int(elapsed / .milliseconds(1))
        do {
            switch outcome {
            case .uploaded(let outputs):
                if let plan = outputs.plan { try await store.recordPlan(lease, plan: plan) }
                if try await store.complete(
                    lease, videoURL: outputs.videoKey, thumbnailURL: outputs.thumbnailKey, processingTimeMs: milliseconds,
                    audioLoudness: outputs.audioLoudness, notes: outputs.notes)
                {
                    logger.info("job completed", metadata: ["processingTimeMs": "\(milliseconds)"])
                    webhooks?.wake()
                    Counter(label: "rendc_jobs_completed_total", dimensions: [("tenant", tenant)]).increment()
                    Metrics.Timer(label: "rendc_job_processing_seconds", dimensions: [("tenant", tenant)]).record(duration: elapsed)
                } else {
                    logger.warning("job lease lost at completion: another attempt owns the job, result discarded")
                }
            case .failed(let message, let retryable):
                try await recordFailure(message, retryable: retryable, lease: lease, tenant: tenant, logger: logger)
            case .stopped(.cancelled):
                if try await store.markCancelled(lease) {
                    logger.info("job cancelled")
                    webhooks?.wake()
                    Counter(label: "rendc_jobs_cancelled_total", dimensions: [("tenant", tenant)]).increment()
                }
            case .stopped(.timedOut):
                let message = "the attempt ran longer than \(Int(configuration.attemptTimeout)) s and was stopped"
                try await recordFailure(message, retryable: true, lease: lease, tenant: tenant, logger: logger)
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

    /// Records a failed attempt (a render error, or the attempt's time limit) and says what became of the job.
    func recordFailure(_ message: String, retryable: Bool, lease: Lease, tenant: String, logger: Logger) async throws {
        switch try await store.fail(lease, error: message, retryable: retryable) {
        case .retrying(let at):
            logger.warning("job attempt failed, will retry", metadata: ["error": "\(message)", "runAfter": "\(at)"])
            Counter(label: "rendc_jobs_retried_total", dimensions: [("tenant", tenant)]).increment()
        case .failed:
            logger.error("job failed", metadata: ["error": "\(message)"])
            webhooks?.wake()
            Counter(label: "rendc_jobs_failed_total", dimensions: [("tenant", tenant)]).increment()
        case .cancelled:
            logger.info("job cancelled (its attempt failed after the cancel was asked for)", metadata: ["error": "\(message)"])
            webhooks?.wake()
            Counter(label: "rendc_jobs_cancelled_total", dimensions: [("tenant", tenant)]).increment()
        case .notOwner:
            logger.warning("job attempt failed after its lease was lost", metadata: ["error": "\(message)"])
        }
    }
}
