import Crypto
import Foundation
import JobQueue
import NIOPosix
import HTTPTypes
import Hummingbird
import Planner

extension APIHandlers {
    /// `POST /api/v1/assets`: a `multipart/form-data` body with a `file` part and a `type` field
    /// (image | audio | overlay | frame), optionally `name`. The file streams to a temporary file, is checked by its
    /// bytes (never by its name or declared Content-Type), then stored under `assets/{tenantId}/{assetId}`.
    func upload(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let idempotencyKey = try request.idempotencyKey()
        guard let contentType = request.headers[.contentType], let boundary = MultipartParser.boundary(fromContentType: contentType) else {
            throw APIError(.unsupportedMediaType, .unsupportedMediaType, "send the upload as multipart/form-data with a file part and a type field")
        }
        let limit = configuration.maxFileSizeBytes
        // Multipart framing and the small fields cost a little over the file itself.
        let overhead = 64 * 1024
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit + overhead {
            throw tooLarge(limit)
        }

        let spoolPath = (configuration.temporaryDirectory as NSString).appendingPathComponent("\(APITemporaryFiles.uploadPrefix)\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: spoolPath) }
        guard FileManager.default.createFile(atPath: spoolPath, contents: nil), let spool = FileHandle(forWritingAtPath: spoolPath) else {
            context.logger.error("cannot create upload spool file", metadata: ["path": "\(spoolPath)"])
            throw APIError(.internalServerError, .internalError, "cannot accept uploads right now")
        }
        var spoolOpen = true
        defer { if spoolOpen { try? spool.close() } }

        var parser = MultipartParser(boundary: boundary)
        var fields: [String: String] = [:]
        var currentField: String?
        var currentValue: [UInt8] = []
        var inFile = false
        var sawFile = false
        var fileName: String?
        var fileBytes = 0
        var head: [UInt8] = []  // the first bytes of the file, for sniffing
        var otherBytes = 0
        var parts = 0
        var received = 0
        var fileHash = SHA256()
        let deadline = BodyDeadline(seconds: configuration.bodyTimeoutSeconds)

        do {
            for try await chunk in request.body {
                try deadline.check()
                // The cap holds for chunked bodies too, as the bytes stream in.
                received += chunk.readableBytes
                if received > limit + overhead { throw tooLarge(limit) }
                let events = try parser.feed(chunk.readableBytesView)
                for event in events {
                    switch event {
                    case .partStart(let headers):
                        // The form has three parts (type, name, file): a body of thousands of parts, or of parts
                        // with huge headers, would cost CPU out of proportion to its size.
                        parts += 1
                        guard parts <= Self.maximumParts else {
                            throw APIError.malformed("body", "an upload has at most \(Self.maximumParts) form parts (type, name and file)")
                        }
                        otherBytes += headers.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
                        guard otherBytes <= 16 * 1024 else {
                            throw APIError.validation("body", "form fields other than file are limited to 16 KB")
                        }
                        let disposition = MultipartParser.dispositionParameters(headers["content-disposition"] ?? "")
                        let name = disposition["name"] ?? ""
                        if name == "file" {
                            guard !sawFile else { throw APIError.validation("file", "send exactly one file part") }
                            inFile = true
                            sawFile = true
                            fileName = disposition["filename"]
                        } else {
                            currentField = name
                            currentValue = []
                        }
                    case .data(let bytes):
                        if inFile {
                            fileBytes += bytes.count
                            if fileBytes > limit { throw tooLarge(limit) }
                            if head.count < Self.sniffBytes { head.append(contentsOf: bytes.prefix(Self.sniffBytes - head.count)) }
                            fileHash.update(data: bytes)
                            try spool.write(contentsOf: bytes)
                        } else {
                            otherBytes += bytes.count
                            guard otherBytes <= 16 * 1024 else {
                                throw APIError.validation("body", "form fields other than file are limited to 16 KB")
                            }
                            currentValue.append(contentsOf: bytes)
                        }
                    case .partEnd:
                        if inFile {
                            inFile = false
                        } else if let name = currentField {
                            fields[name] = String(decoding: currentValue, as: UTF8.self)
                            currentField = nil
                        }
                    }
                }
                if parser.isComplete { break }
                // Lets other requests run between chunks that arrived together.
                await Task.yield()
            }
            try parser.finish()
        } catch let error as APIError {
            throw error
        } catch let error as MultipartParser.ParseError {
            throw APIError(.badRequest, .validationFailed, "malformed multipart body: \(error.message)", field: "body")
        }
        try spool.close()
        spoolOpen = false

        guard let typeText = fields["type"]?.trimmingCharacters(in: .whitespacesAndNewlines), !typeText.isEmpty else {
            throw APIError.malformed("type", "the type field is required: one of image, audio, overlay, frame, video")
        }
        guard let type = AssetType(rawValue: typeText) else {
            throw APIError.validation("type", "type must be one of image, audio, overlay, frame, video")
        }
        guard sawFile else { throw APIError.malformed("file", "the file part is required") }
        guard fileBytes > 0 else { throw APIError(.unprocessableContent, .unprocessable, "the uploaded file is empty", field: "file") }

        // The whole file, not just its first bytes: structure, dimensions from every header, NaN-free samples. It
        // reads up to the upload limit, so on NIO's blocking pool, not the threads every other request runs on.
        let (maxImage, maxVideo) = (configuration.maxImageDimension, configuration.maxVideoDimension)
        let upload = try await NIOThreadPool.singleton.runIfActive {
            try MediaSniffer.inspect(path: spoolPath, type: type, maxImageDimension: maxImage, maxVideoDimension: maxVideo)
        }
        let (format, width, height) = (upload.format, upload.width, upload.height)
        if let width, let height, format.isImage {
            if let problem = InputRules.imageSizeProblem(width: width, height: height) {
                throw APIError(.unprocessableContent, .unprocessable, problem, field: "file")
            }
            if type == .image, format == .webp, WebPInspection.isAnimated(head) {
                throw APIError(
                    .unprocessableContent, .unprocessable, "animated WebP images cannot be product images; send a still picture", field: "file")
            }
        }
        if let name = fields["name"] {
            // The column holds 100 code points; a longer name is refused, never cut.
            if name.unicodeScalars.count > 100 {
                throw APIError.validation("name", "name has \(name.unicodeScalars.count) code points; at most 100 are allowed")
            }
            if name.unicodeScalars.contains(where: Self.isHidden) {
                throw APIError.validation("name", "name must not contain control characters or bidirectional overrides")
            }
        }
        let requestPrint = fingerprint([
            Array("POST /api/v1/assets".utf8), Array(type.rawValue.utf8), Array((fields["name"] ?? "").utf8),
            Array((fileName ?? "").utf8), Array(fileHash.finalize()),
        ])
        return try await idempotent(
            key: idempotencyKey, tenant: tenant, fingerprint: requestPrint, context: context, recordsWithItsWrite: true
        ) { claim in
            try await storeAsset(
                tenant: tenant, type: type, format: format, spoolPath: spoolPath, fields: fields, fileName: fileName,
                fileBytes: fileBytes, width: width, height: height, claim: claim, context: context)
        }
    }

    private func storeAsset(
        tenant: UUID, type: AssetType, format: MediaFormat, spoolPath: String, fields: [String: String], fileName: String?,
        fileBytes: Int, width: Int?, height: Int?, claim: IdempotencyClaim?, context: APIRequestContext
    ) async throws -> StoredResponse {

        let assetId = UUID()
        // The extension lets tools (and FFmpeg's demuxer guess) see the format; the id keeps it unguessable.
        let key = "assets/\(tenant.uuidString.lowercased())/\(assetId.uuidString.lowercased()).\(format.fileExtension)"
        let name = Self.displayName(fields["name"] ?? fileName, fallback: "\(type.rawValue).\(format.rawValue)")
        try await objectStore.put(localPath: spoolPath, key: key, contentType: format.contentType)
        let record = AssetRecord(
            id: assetId, tenantId: tenant, type: type, name: name, storageKey: key, contentType: format.contentType,
            sizeBytes: fileBytes, width: width, height: height)
        let response = try StoredResponse(
            status: .created,
            value: AssetCreatedResponse(assetId: assetId.uuidString.lowercased(), type: type, asset: AssetView(record)),
            location: "/api/v1/assets/\(assetId.uuidString.lowercased())")
        do {
            try await store.insertAsset(record, recording: claim?.recording(response))
        } catch let error as JobQueueError where error.code == .unavailable {
            // The row may have been written (the answer was lost, not the commit): keep the object it names. A row
            // that was not written leaves an object no row names, which costs storage, not correctness.
            throw error
        } catch {
            try? await objectStore.delete(key: key)
            throw error
        }
        context.logger.info(
            "asset stored", metadata: ["asset": "\(assetId.uuidString.lowercased())", "type": "\(type.rawValue)", "bytes": "\(fileBytes)"])
        return response
    }

    func getAsset(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text),
            let asset = try await store.assets(ids: [id], tenant: tenant).first
        else { throw APIError.notFound("asset") }
        return try json(AssetEnvelope(asset: AssetView(asset)))
    }

    /// The form parts an upload may have: `type`, `name` and `file`, with room for a client's empty extras.
    static let maximumParts = 8

    /// How much of an upload is kept in memory for sniffing and header reading (JPEG headers can follow large EXIF
    /// blocks).
    static let sniffBytes = 1024 * 1024

    func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, .fileTooLarge, "the upload is larger than the limit of \(limit) bytes", field: "file")
    }

    static func accepted(_ type: AssetType) -> String {
        type.acceptedFormats.map(\.rawValue).sorted().joined(separator: ", ")
    }

    /// A printable name of at most 100 code points (the column's unit), cut at a character boundary, without path
    /// parts, C0/C1 control characters or bidirectional overrides (which would make a listing read backwards).
    static func displayName(_ raw: String?, fallback: String) -> String {
        guard var name = raw?.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) else { return fallback }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: name.unicodeScalars.filter { !Self.isHidden($0) })
        name = String(scalars).trimmingCharacters(in: .whitespaces)
        if name.isEmpty { return fallback }
        var kept = ""
        var length = 0
        for character in name {
            length += character.unicodeScalars.count
            if length > 100 { break }
            kept.append(character)
        }
        return kept.isEmpty ? fallback : kept
    }

    /// Control characters (C0, DEL, C1) and the bidirectional embeddings, overrides and isolates.
    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || (0x202A...0x202E).contains(scalar.value)
            || (0x2066...0x2069).contains(scalar.value)
    }
}
