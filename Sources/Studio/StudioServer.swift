import Foundation
import HTTPTypes
import Hummingbird
import Logging
import RenderPipeline

/// `rendc studio`: one page (served from the binary) and a small JSON API over ``StudioWorkspace``.
public struct StudioServer: Sendable {
    let workspace: StudioWorkspace
    let logger: Logger

    public init(configuration: StudioConfiguration, pipeline: RenderPipeline, logger: Logger) throws {
        self.workspace = try StudioWorkspace(configuration: configuration, pipeline: pipeline, logger: logger)
        self.logger = logger
    }

    public var configuration: StudioConfiguration { workspace.configuration }

    struct LintRequest: Decodable { var yaml: String; var file: String? }
    struct PreviewRequest: Decodable { var yaml: String; var file: String?; var at: Double?; var text: String?; var fields: [String: String]? }
    struct SaveRequest: Decodable { var id: String; var yaml: String; var force: Bool? }
    struct NewRequest: Decodable { var from: String; var name: String }

    struct TemplateListResponse: Encodable { var templates: [TemplateEntry]; var writable: Bool }
    struct TemplateResponse: Encodable { var id: String; var file: String; var yaml: String; var editable: Bool }
    struct PreviewResponse: Encodable {
        var ok: Bool; var diagnostics: [Diagnostic]; var fields: [MergeField]; var still: String?; var plan: PlanView?; var error: String?
    }
    struct SaveResponse: Encodable { var saved: Bool; var file: String?; var diagnostics: [Diagnostic] }
    struct NewResponse: Encodable { var id: String }
    struct VideoStart: Encodable { var id: String }
    struct ErrorBody: Encodable { var error: String; var code: String }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: StudioErrorMiddleware())
        router.add(middleware: StudioRequestGuard(boundHost: configuration.host))
        let w = workspace

        router.get("/") { _, _ in Self.text(StudioPage.html, type: "text/html; charset=utf-8") }
        router.get("/studio.css") { _, _ in Self.text(StudioPage.css, type: "text/css; charset=utf-8") }
        router.get("/studio.js") { _, _ in Self.text(StudioPage.js, type: "text/javascript; charset=utf-8") }
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }

        router.get("/api/templates") { _, _ in
            try Self.json(TemplateListResponse(templates: w.templates(), writable: w.configuration.editableDirectory != nil))
        }
        router.get("/api/template") { request, _ in
            let id = request.uri.queryParameters.get("id") ?? ""
            let (_, file, editable) = try w.resolve(id)
            return try Self.json(TemplateResponse(id: id, file: file, yaml: try w.read(id), editable: editable))
        }
        router.post("/api/lint") { request, _ in
            let body = try await Self.decode(LintRequest.self, request)
            return try Self.json(w.lint(body.yaml, file: Self.fileName(body.file)).0)
        }
        router.post("/api/preview") { request, _ in
            let body = try await Self.decode(PreviewRequest.self, request)
            let (lint, _) = w.lint(body.yaml, file: Self.fileName(body.file))
            let fields = Self.formFields(body.fields, lint)
            guard lint.ok else {
                return try Self.json(
                    PreviewResponse(ok: false, diagnostics: lint.diagnostics, fields: lint.fields, still: nil, plan: nil, error: nil))
            }
            do {
                let still = try await w.still(yaml: body.yaml, at: body.at ?? 1, text: Self.caption(body.text), fields: fields)
                return try Self.json(
                    PreviewResponse(ok: true, diagnostics: [], fields: lint.fields, still: "/stills/\(still.file)", plan: still.plan, error: nil))
            } catch {
                // Lints clean but cannot be planned or drawn (e.g. a missing asset): shown as a problem without a position.
                return try Self.json(
                    PreviewResponse(ok: true, diagnostics: [], fields: lint.fields, still: nil, plan: nil, error: Self.clean("\(error)", w)))
            }
        }
        router.post("/api/save") { request, _ in
            let body = try await Self.decode(SaveRequest.self, request)
            switch try w.save(id: body.id, yaml: body.yaml, force: body.force ?? false) {
            case .saved(let file): return try Self.json(SaveResponse(saved: true, file: file, diagnostics: []))
            case .needsConfirmation(let d): return try Self.json(SaveResponse(saved: false, file: nil, diagnostics: d), status: .conflict)
            }
        }
        router.post("/api/new") { request, _ in
            let body = try await Self.decode(NewRequest.self, request)
            return try Self.json(NewResponse(id: try w.newTemplate(from: body.from, name: body.name)), status: .created)
        }
        router.get("/api/inputs") { _, _ in try Self.json(w.inputs()) }
        router.post("/api/inputs/image") { request, _ in
            let bytes = try await Self.body(request, limit: w.configuration.maxUploadBytes)
            return try Self.json(try await w.addImage(name: request.uri.queryParameters.get("name") ?? "picture", bytes: bytes))
        }
        router.post("/api/inputs/audio") { request, _ in
            let bytes = try await Self.body(request, limit: w.configuration.maxUploadBytes)
            return try Self.json(try await w.setAudio(name: request.uri.queryParameters.get("name") ?? "track", bytes: bytes))
        }
        router.delete("/api/inputs") { _, _ in try Self.json(w.resetInputs()) }
        router.post("/api/video") { request, _ in
            let body = try await Self.decode(PreviewRequest.self, request)
            let (lint, _) = w.lint(body.yaml, file: Self.fileName(body.file))
            guard lint.ok else { throw StudioError(.invalid, "the template has problems; fix them before rendering a video") }
            let fields = Self.formFields(body.fields, lint)
            return try Self.json(VideoStart(id: try w.startVideo(yaml: body.yaml, text: Self.caption(body.text), fields: fields)), status: .accepted)
        }
        router.get("/api/video/{id}") { _, context in
            guard let status = w.video(context.parameters.get("id") ?? "") else { throw StudioError(.notFound, "no such preview video") }
            var s = status
            s.error = s.error.map { Self.clean($0, w) }
            return try Self.json(s)
        }
        router.get("/stills/{name}") { _, context in
            guard let path = w.stillPath(context.parameters.get("name") ?? "") else { throw StudioError(.notFound, "no such still") }
            return try Self.file(path, type: "image/jpeg")
        }
        router.get("/media/{name}") { _, context in
            guard let path = w.videoPath(context.parameters.get("name") ?? "") else { throw StudioError(.notFound, "no such video") }
            return try Self.file(path, type: "video/mp4")
        }
        return router
    }

    /// The application, a `Service`. `onRunning` gets the bound port (useful with port 0).
    public func makeApplication(onRunning: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "rendc-studio"),
            onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    // MARK: Helpers

    static func fileName(_ given: String?) -> String {
        guard let given, given.range(of: StudioWorkspace.fileNamePattern, options: .regularExpression) != nil else { return "template.yaml" }
        return given
    }

    /// The field values the page may set: the template's text and colour fields (the form's inputs). A picture field's
    /// value is a file path to the renderer, so one sent by the page is dropped (pictures come from dropped inputs).
    static func formFields(_ given: [String: String]?, _ lint: LintResult) -> [String: String] {
        let names = Set(lint.fields.map(\.name))
        return (given ?? [:]).filter { names.contains($0.key) }
    }

    static func caption(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return String(text.prefix(500))
    }

    /// Error text for the page, with the studio's scratch folder and the template folder left out.
    static func clean(_ message: String, _ w: StudioWorkspace) -> String {
        message.replacingOccurrences(of: w.configuration.workDirectory + "/", with: "").replacingOccurrences(of: w.templateDirectory + "/", with: "")
    }

    static func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let bytes = try await body(request, limit: 2 * 1024 * 1024)
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch {
            throw StudioError(.invalid, "the request body is not the JSON this endpoint expects")
        }
    }

    static func body(_ request: Request, limit: Int) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch {
            throw StudioError(.tooLarge, "the upload is larger than \(limit / (1024 * 1024)) MB")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func text(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func file(_ path: String, type: String) throws -> Response {
        guard let data = FileManager.default.contents(atPath: path) else { throw StudioError(.notFound, "gone") }
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Every error becomes `{error, code}` JSON with its status; unexpected ones say only that something failed.
struct StudioErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as StudioError {
            return try StudioServer.json(StudioServer.ErrorBody(error: e.message, code: e.code.description), status: .init(code: e.code.status))
        } catch let e as HTTPResponseError {
            throw e
        } catch {
            context.logger.error("studio request failed", metadata: ["error": "\(error)"])
            return try StudioServer.json(
                StudioServer.ErrorBody(error: "internal error (see the studio's log)", code: "internal"), status: .internalServerError)
        }
    }
}
