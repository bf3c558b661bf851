import Foundation
import JobQueue
import SpecLang
import HTTPTypes
import Hummingbird
import Webhooks
import Planner

/// Job states a client may filter by.
let jobStatuses = ["pending", "processing", "completed", "failed", "cancelled"]

extension APIHandlers {
    func submit(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        try request.requireJSONContentType()
        let idempotencyKey = try request.idempotencyKey()
        let bytes = try await collectJSONBody(request)
        guard String(data: bytes, encoding: .utf8) != nil else {
            throw APIError(.badRequest, .invalidJSON, "the request body is not valid UTF-8")
        }
        if let key = DuplicateKeys.first(in: bytes) {
            throw APIError(.badRequest, .invalidJSON, "the key \(key.prefix(64).debugDescription) appears twice in one object of the request body")
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
        var (job, template) = try validate(parsed, tenant: tenant, templates: templates)
        job.requestId = context.requestId
        if let url = job.callbackURL {
            // SSRF: the host must resolve to public addresses only (again at each delivery, against the address used).
            // Each tenant has a share of the lookup threads, so its slow names cannot starve another tenant's.
            do {
                _ = try await configuration.webhookTargets.check(url, owner: tenant.uuidString)
            } catch let error as WebhookTargetError where error.code == .lookupUnavailable {
                // Nothing is known of the host yet: not the request's fault, so retryable, not 422.
                var headers = HTTPFields()
                headers[.retryAfter] = "5"
                throw APIError(.serviceUnavailable, .callbackLookupUnavailable, error.message, field: "callbackUrl", headers: headers)
            } catch let error as WebhookTargetError {
                throw APIError(.unprocessableContent, .validationFailed, error.message, field: "callbackUrl")
            }
        }

        // Every referenced asset must be this tenant's and of the right type; another tenant's id looks unknown.
        let wanted = job.imageIds + (job.audioAssetId.map { [$0] } ?? []) + (job.voiceAssetId.map { [$0] } ?? []) + job.fieldAssets.values
        let found = Dictionary(try await store.assets(ids: wanted, tenant: tenant).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (index, id) in job.imageIds.enumerated() {
            guard let asset = found[id] else {
                throw APIError(
                    .unprocessableContent, .unknownAsset, "imageIds[\(index)]: no image asset \(id.uuidString.lowercased()) for this tenant",
                    field: "imageIds[\(index)]")
            }
            guard asset.type == .image || asset.type == .video else {
                throw APIError(
                    .unprocessableContent, .unknownAsset,
                    "imageIds[\(index)]: asset \(id.uuidString.lowercased()) is \(asset.type.rawValue), not image", field: "imageIds[\(index)]")
            }
        }
        if let audio = job.audioAssetId {
            guard let asset = found[audio] else {
                throw APIError(
                    .unprocessableContent, .unknownAsset, "audioFile: no audio asset \(audio.uuidString.lowercased()) for this tenant",
                    field: "audioFile")
            }
            guard asset.type == .audio else {
                throw APIError(
                    .unprocessableContent, .unknownAsset, "audioFile: asset \(audio.uuidString.lowercased()) is \(asset.type.rawValue), not audio",
                    field: "audioFile")
            }
        }
        if let voice = job.voiceAssetId {
            guard let asset = found[voice] else {
                throw APIError(
                    .unprocessableContent, .unknownAsset, "voiceFile: no audio asset \(voice.uuidString.lowercased()) for this tenant",
                    field: "voiceFile")
            }
            guard asset.type == .audio else {
                throw APIError(
                    .unprocessableContent, .unknownAsset, "voiceFile: asset \(voice.uuidString.lowercased()) is \(asset.type.rawValue), not audio",
                    field: "voiceFile")
            }
        }

        for (name, id) in job.fieldAssets.sorted(by: { $0.key < $1.key }) {
            guard let asset = found[id], asset.type == .image else {
                throw APIError(
                    .unprocessableContent, .unknownAsset, "fields.\(name): no image asset \(id.uuidString.lowercased()) for this tenant",
                    field: "fields.\(name)")
            }
        }

        // Planned as the worker will (pure, no media): what the planner refuses is refused now, in its words.
        let planned: RenderPlan? = try template.template.flatMap { parsed in
            let clips = Set(job.imageIds.indices.filter { found[job.imageIds[$0]]?.type == .video })
            switch SubmitPlanning.planned(job, template: parsed, clips: clips, maxDuration: configuration.maxDurationSeconds) {
            case .failure(let problem):
                throw APIError(.unprocessableContent, .validationFailed, problem.description, field: SubmitPlanning.requestField(problem))
            case .success(let plan): return plan
            }
        }

        let requestPrint = fingerprint([Array("POST /api/v1/video/process".utf8), Array(bytes)])
        return try await idempotent(
            key: idempotencyKey, tenant: tenant, fingerprint: requestPrint, context: context, recordsWithItsWrite: true
        ) { claim in
            // Texts the render will cut in the plan made above, measured as the render sets them (only here: a replayed
            // request gets the stored answer).
            var warnings: [SubmitWarning] = []
            if let textFit, let parsed = template.template, let planned {
                warnings = SubmitPlanning.warnings(textFit(planned, parsed), template: job.template)
            }
            let jobId = UUID()
            let estimated = min(
                job.durationTarget ?? template.defaultDuration ?? configuration.defaultDurationSeconds, configuration.maxDurationSeconds)
            let response = try StoredResponse(
                status: .accepted,
                value: SubmitResponse(
                    jobId: jobId.uuidString.lowercased(), status: "pending", estimatedDuration: estimated, warnings: warnings.isEmpty ? nil : warnings
                ),
                location: "/api/v1/video/jobs/\(jobId.uuidString.lowercased())")
            try await store.submit(job, id: jobId, recording: claim?.recording(response))
            context.logger.info("job submitted", metadata: ["job": "\(jobId.uuidString.lowercased())", "overlayType": "\(job.template)"])
            return response
        }
    }

    /// The whole JSON body, within the size limit and the body timeout.
    func collectJSONBody(_ request: Request) async throws -> Data {
        let limit = configuration.maxJSONBodyBytes
        let deadline = BodyDeadline(seconds: configuration.bodyTimeoutSeconds)
        var data = Data()
        for try await chunk in request.body {
            try deadline.check()
            data.append(contentsOf: chunk.readableBytesView)
            if data.count > limit {
                throw APIError(.contentTooLarge, .fileTooLarge, "the request body is larger than \(limit) bytes")
            }
        }
        return data
    }

    /// Checks a submission's fields (everything but asset ownership, which needs the database).
    func validate(_ body: ProcessRequest, tenant: UUID, templates: [TemplateSummary]) throws -> (JobSubmission, TemplateSummary) {
        guard (1...InputRules.maximumImages).contains(body.imageIds.count) else {
            throw APIError.validation("imageIds", "imageIds must hold 1 to \(InputRules.maximumImages) image asset ids (got \(body.imageIds.count))")
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
        var voice: UUID?
        if let text = body.voiceFile, !text.isEmpty {
            guard let id = UUID(uuidString: text) else {
                throw APIError.validation("voiceFile", "voiceFile must be the id (UUID) of an uploaded audio asset")
            }
            voice = id
        }
        var text = body.textOverlay
        if let value = text {
            // Controls other than LF refused; at most 500 graphemes and 4000 code points (the planner's limits).
            if let problem = InputRules.captionProblem(value) {
                throw APIError.validation("textOverlay", "textOverlay \(problem)")
            }
            if value.isEmpty { text = nil }
        }
        let overlayType = body.overlayType ?? "golden-frame"
        guard let template = templates.first(where: { $0.name == overlayType }) else {
            let known = templates.map(\.name).joined(separator: ", ")
            throw APIError.validation("overlayType", "unknown overlayType \(overlayType.debugDescription.prefix(80)); known templates: \(known)")
        }
        guard let quality = QualityMode(rawValue: body.qualityMode ?? QualityMode.normal.rawValue) else {
            throw APIError.validation("qualityMode", "qualityMode must be one of " + QualityMode.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if let duration = body.durationTarget {
            if let problem = InputRules.durationProblem(duration, maximum: configuration.maxDurationSeconds) {
                throw APIError.validation("durationTarget", "durationTarget \(problem)")
            }
        }
        let priority = body.priority ?? 0
        guard configuration.priorityRange.contains(priority) else {
            throw APIError.validation(
                "priority", "priority must be between \(configuration.priorityRange.lowerBound) and \(configuration.priorityRange.upperBound)")
        }
        var callback: String?
        if let url = body.callbackUrl, !url.isEmpty {
            // Raw spaces, CR/LF and other controls are refused before parsing (Foundation would accept some).
            guard !url.unicodeScalars.contains(where: { $0.value <= 0x20 || (0x7F...0x9F).contains($0.value) }),
                url.utf8.count <= 2048, let components = URLComponents(string: url),
                let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = components.host, !host.isEmpty
            else {
                throw APIError.validation("callbackUrl", "callbackUrl must be an absolute http(s) URL of at most 2048 bytes")
            }
            callback = url
        }
        var job = JobSubmission(
            tenantId: tenant, imageIds: imageIds, audioAssetId: audio, textOverlay: text, template: overlayType,
            qualityMode: quality, durationTarget: body.durationTarget, priority: priority, callbackURL: callback)
        job.voiceAssetId = voice
        try validateFields(body.fields ?? [:], template: template, caption: text, into: &job)
        return (job, template)
    }

    /// Merge fields against the template's declarations: unknown, missing, malformed or too long values are 422s
    /// that name `fields.NAME`. Pictures are asset ids, checked against the tenant's assets by the caller.
    func validateFields(_ given: [String: String], template: TemplateSummary, caption: String?, into job: inout JobSubmission) throws {
        let declared = Dictionary(template.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (name, value) in given.sorted(by: { $0.key < $1.key }) {
            let path = "fields.\(name)"
            if name == "caption" {
                // The caption field is textOverlay under another name.
                guard caption == nil else { throw APIError.validation(path, "give the caption as textOverlay or as fields.caption, not both") }
                if let problem = InputRules.captionProblem(value) { throw APIError.validation(path, "\(path) \(problem)") }
                job.textOverlay = value.isEmpty ? nil : value
                continue
            }
            guard let spec = declared[name] else {
                let known = template.fields.map(\.name).joined(separator: ", ")
                throw APIError.validation(
                    path, "the template \(template.name) has no field '\(name.prefix(40))' (its fields: \(known.isEmpty ? "none" : known))")
            }
            switch spec.type {
            case "image":
                guard let id = UUID(uuidString: value) else {
                    throw APIError.validation(path, "\(path) must be the id (UUID) of an uploaded image asset")
                }
                job.fieldAssets[name] = id
            case "color":
                guard value.range(of: #"^#?([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$"#, options: .regularExpression) != nil else {
                    throw APIError.validation(path, "\(path) must be a colour as #RRGGBB or #RRGGBBAA")
                }
                job.fieldTexts[name] = value
            default:
                if let problem = InputRules.captionProblem(value) { throw APIError.validation(path, "\(path) \(problem)") }
                guard value.count <= spec.maxLength else {
                    throw APIError.validation(path, "\(path) has \(value.count) characters; the template allows \(spec.maxLength)")
                }
                job.fieldTexts[name] = value
            }
        }
        for spec in template.fields where spec.required && spec.name != "caption" && (given[spec.name] ?? "").isEmpty {
            throw APIError.validation("fields.\(spec.name)", "fields.\(spec.name) is required by the template \(template.name)")
        }
        // The template's own caption limit (editorial: 40), checked here as the planner will: a caption over it
        // would be accepted and then fail in the worker.
        if let spec = declared["caption"], let value = job.textOverlay, value.count > spec.maxLength {
            let path = given["caption"] != nil ? "fields.caption" : "textOverlay"
            throw APIError.validation(path, "\(path) has \(value.count) characters; the template \(template.name) allows \(spec.maxLength)")
        }
        if let spec = declared["caption"], spec.required, (job.textOverlay ?? "").isEmpty {
            throw APIError.validation("textOverlay", "the template \(template.name) requires a caption (textOverlay)")
        }
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
                throw APIError.malformed("limit", "limit must be an integer from 1 to 100")
            }
            limit = value
        }
        var status: String?
        // An empty `status=` is refused like any value outside the documented enum (it listed every job).
        if let text = query.get("status") {
            guard jobStatuses.contains(text) else {
                throw APIError.malformed("status", "status must be one of \(jobStatuses.joined(separator: ", "))")
            }
            status = text
        }
        let cursor = query.get("cursor").flatMap { $0.isEmpty ? nil : $0 }
        let page: (jobs: [JobRecord], nextCursor: String?)
        do {
            page = try await store.jobs(tenant: tenant, status: status, limit: limit, after: cursor)
        } catch is InvalidCursor {
            throw APIError.malformed("cursor", "cursor is not a value returned as nextCursor")
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

/// The body timeout: a body still arriving after this long gets 408. Checked as each chunk arrives, so a client
/// that trickles bytes is cut off; one that sends nothing at all is closed by the server's idle timeout.
struct BodyDeadline {
    let seconds: Double
    let end: ContinuousClock.Instant

    init(seconds: Double) {
        self.seconds = seconds
        self.end = .now + .nanoseconds(Int64(min(seconds, 1e9) * 1e9))
    }

    func check() throws {
        guard ContinuousClock.now <= end else {
            throw APIError(.requestTimeout, .requestTimeout, "the request body did not arrive within \(formatSeconds(seconds)) s")
        }
    }
}

func formatSeconds(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
}
