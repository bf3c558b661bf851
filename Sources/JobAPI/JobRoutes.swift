import Foundation
import HTTPTypes
import Hummingbird
import Webhooks

/// The quality modes the renderer knows (`RenderPipeline`'s `QualityMode`).
let qualityModes = ["normal", "eco", "freeze"]
/// Job states a client may filter by.
let jobStatuses = ["pending", "processing", "completed", "failed", "cancelled"]

extension APIHandlers {
    func submit(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.maxJSONBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, .fileTooLarge, "the request body is larger than \(configuration.maxJSONBodyBytes) bytes")
        }
        let bytes = Data(body.readableBytesView)
        guard String(data: bytes, encoding: .utf8) != nil else {
            throw APIError(.badRequest, .invalidJSON, "the request body is not valid UTF-8")
        }
        let parsed: ProcessRequest
        do {
            parsed = try JSONDecoder().decode(ProcessRequest.self, from: bytes)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, .invalidJSON, "the request body is not valid JSON (UTF-8)")
        }
        let templates = try await loadTemplates(context: context)
        let (job, template) = try validate(parsed, tenant: tenant, templates: templates)
        if let url = job.callbackURL {
            // SSRF: the host must resolve to public addresses only (again at each delivery, against the address used).
            do {
                _ = try await configuration.webhookTargets.check(url)
            } catch let error as WebhookTargetError {
                throw APIError(.unprocessableContent, .validationFailed, error.message, field: "callbackUrl")
            }
        }

        // Every referenced asset must be this tenant's and of the right type; another tenant's id looks unknown.
        let wanted = job.imageIds + (job.audioAssetId.map { [$0] } ?? [])
        let found = Dictionary(try await store.assets(ids: wanted, tenant: tenant).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (index, id) in job.imageIds.enumerated() {
            guard let asset = found[id] else {
                throw APIError(.unprocessableContent, .unknownAsset, "imageIds[\(index)]: no image asset \(id.uuidString.lowercased()) for this tenant", field: "imageIds[\(index)]")
            }
            guard asset.type == .image else {
                throw APIError(.unprocessableContent, .unknownAsset, "imageIds[\(index)]: asset \(id.uuidString.lowercased()) is \(asset.type.rawValue), not image", field: "imageIds[\(index)]")
            }
        }
        if let audio = job.audioAssetId {
            guard let asset = found[audio] else {
                throw APIError(.unprocessableContent, .unknownAsset, "audioFile: no audio asset \(audio.uuidString.lowercased()) for this tenant", field: "audioFile")
            }
            guard asset.type == .audio else {
                throw APIError(.unprocessableContent, .unknownAsset, "audioFile: asset \(audio.uuidString.lowercased()) is \(asset.type.rawValue), not audio", field: "audioFile")
            }
        }

        let jobId = try await store.submit(job)
        let estimated = min(job.durationTarget ?? template.defaultDuration ?? configuration.defaultDurationSeconds, configuration.maxDurationSeconds)
        context.logger.info("job submitted", metadata: ["job": "\(jobId.uuidString.lowercased())", "overlayType": "\(job.overlayType)"])
        var headers = HTTPFields()
        headers[.location] = "/api/v1/video/jobs/\(jobId.uuidString.lowercased())"
        return try json(
            SubmitResponse(jobId: jobId.uuidString.lowercased(), status: "pending", estimatedDuration: estimated),
            status: .accepted, headers: headers)
    }

    /// Checks a submission's fields (everything but asset ownership, which needs the database).
    func validate(_ body: ProcessRequest, tenant: UUID, templates: [TemplateSummary]) throws -> (JobSubmission, TemplateSummary) {
        guard (1...10).contains(body.imageIds.count) else {
            throw APIError.validation("imageIds", "imageIds must hold 1 to 10 image asset ids (got \(body.imageIds.count))")
        }
        var imageIds: [UUID] = []
        for (index, text) in body.imageIds.enumerated() {
            guard let id = UUID(uuidString: text) else {
                throw APIError.validation("imageIds[\(index)]", "imageIds[\(index)] is not a UUID")
            }
            imageIds.append(id)
        }
        var audio: UUID?
        if let text = body.audioFile, !text.isEmpty {
            guard let id = UUID(uuidString: text) else {
                throw APIError.validation("audioFile", "audioFile must be the id (UUID) of an uploaded audio asset")
            }
            audio = id
        }
        var text = body.textOverlay
        if let value = text {
            if value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" || $0.value == 0x7F }) {
                throw APIError.validation("textOverlay", "textOverlay must not contain NUL or other control characters (newlines and tabs are fine)")
            }
            let count = value.count  // grapheme clusters: an emoji with modifiers is one character
            guard count <= 500 else {
                throw APIError.validation("textOverlay", "textOverlay has \(count) characters; at most 500 are allowed")
            }
            if value.isEmpty { text = nil }
        }
        let overlayType = body.overlayType ?? "golden-frame"
        guard let template = templates.first(where: { $0.name == overlayType }) else {
            let known = templates.map(\.name).joined(separator: ", ")
            throw APIError.validation("overlayType", "unknown overlayType \(overlayType.debugDescription.prefix(80)); known templates: \(known)")
        }
        let quality = body.qualityMode ?? "normal"
        guard qualityModes.contains(quality) else {
            throw APIError.validation("qualityMode", "qualityMode must be one of normal, eco, freeze")
        }
        if let duration = body.durationTarget {
            guard duration.isFinite, duration > 0, duration <= configuration.maxDurationSeconds else {
                throw APIError.validation("durationTarget", "durationTarget must be more than 0 and at most \(formatSeconds(configuration.maxDurationSeconds)) seconds")
            }
        }
        let priority = body.priority ?? 0
        guard configuration.priorityRange.contains(priority) else {
            throw APIError.validation("priority", "priority must be between \(configuration.priorityRange.lowerBound) and \(configuration.priorityRange.upperBound)")
        }
        var callback: String?
        if let url = body.callbackUrl, !url.isEmpty {
            guard url.utf8.count <= 2048, let components = URLComponents(string: url),
                  let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  let host = components.host, !host.isEmpty else {
                throw APIError.validation("callbackUrl", "callbackUrl must be an absolute http(s) URL of at most 2048 bytes")
            }
            callback = url
        }
        let job = JobSubmission(
            tenantId: tenant, imageIds: imageIds, audioAssetId: audio, textOverlay: text, overlayType: overlayType,
            qualityMode: quality, durationTarget: body.durationTarget, priority: priority, callbackURL: callback)
        return (job, template)
    }

    func getJob(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let id = try jobID(context)
        guard let job = try await store.job(id: id, tenant: tenant) else { throw APIError.notFound("job") }
        return try json(JobEnvelope(job: try await view(job)))
    }

    func listJobs(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let query = request.uri.queryParameters
        var limit = 20
        if let text = query.get("limit") {
            guard let value = Int(text), (1...100).contains(value) else {
                throw APIError.validation("limit", "limit must be an integer from 1 to 100")
            }
            limit = value
        }
        var status: String?
        if let text = query.get("status"), !text.isEmpty {
            guard jobStatuses.contains(text) else {
                throw APIError.validation("status", "status must be one of \(jobStatuses.joined(separator: ", "))")
            }
            status = text
        }
        let cursor = query.get("cursor").flatMap { $0.isEmpty ? nil : $0 }
        let page: (jobs: [JobRecord], nextCursor: String?)
        do {
            page = try await store.jobs(tenant: tenant, status: status, limit: limit, after: cursor)
        } catch is InvalidCursor {
            throw APIError.validation("cursor", "cursor is not a value returned as nextCursor")
        }
        var views: [JobView] = []
        for job in page.jobs { views.append(try await view(job)) }
        return try json(JobListResponse(jobs: views, nextCursor: page.nextCursor))
    }

    func cancelJob(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let id = try jobID(context)
        switch try await store.cancel(id: id, tenant: tenant) {
        case .notFound:
            throw APIError.notFound("job")
        case .alreadyFinished(let job):
            throw APIError(.conflict, .conflict, "job \(id.uuidString.lowercased()) is already \(job.status) and cannot be cancelled")
        case .cancelled(let job):
            context.logger.info("job cancel requested", metadata: ["job": "\(id.uuidString.lowercased())"])
            return try json(JobEnvelope(job: try await view(job)))
        }
    }

    /// The `{id}` path parameter; anything that is not a UUID cannot name a job, so it is 404 like an unknown id.
    func jobID(_ context: APIRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else { throw APIError.notFound("job") }
        return id
    }
}

func formatSeconds(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
}
