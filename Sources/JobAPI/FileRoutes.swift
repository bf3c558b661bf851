import Foundation
import HTTPTypes
import Hummingbird
import ObjectStorage

/// A store whose objects are plain files on this machine, so `/files/...` can stream them (with ranges) directly.
package protocol LocalFileBackedStore: ObjectStore {
    func filePath(forKey key: String) throws -> String
}

extension APIHandlers {
    /// `GET /files/{key}?expires=&signature=`: serves a stored output when the URL's HMAC signature matches and it has
    /// not expired. Signatures are only minted by the job endpoint for the caller's own jobs.
    func serveFile(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let key: String
        if context.parameters.getCatchAll().isEmpty {
            key = query.get("key") ?? ""
        } else {
            key = context.parameters.getCatchAll().map { $0.removingPercentEncoding ?? String($0) }.joined(separator: "/")
        }
        guard !key.isEmpty, let expiresText = query.get("expires"), let expires = Int(expiresText),
            let signature = query.get("signature")
        else {
            throw APIError(.forbidden, .invalidSignature, "this URL is not signed; ask the job endpoint for a download URL")
        }
        switch signer.verify(key: key, expires: expires, signature: signature) {
        case .badSignature:
            throw APIError(.forbidden, .invalidSignature, "the URL signature does not match")
        case .expired:
            throw APIError(.forbidden, .urlExpired, "the URL has expired; fetch the job again for a fresh one")
        case .valid:
            break
        }
        let contentType = Self.contentType(forKey: key)
        if let local = objectStore as? any LocalFileBackedStore {
            let path: String
            do { path = try local.filePath(forKey: key) } catch { throw APIError.notFound("file") }
            return try await fileResponse(path: path, contentType: contentType, request: request, context: context, cleanup: nil)
        }
        // Other stores: fetch to a temporary file and stream it. The file goes when the last holder of `temporary`
        // lets go: the body once written, or the response when it is dropped unwritten (HEAD, 416, empty file, a
        // client gone before the body, a cancelled task).
        let temporary = TemporaryDownload(
            path: (configuration.temporaryDirectory as NSString).appendingPathComponent("\(TemporaryDownload.prefix)\(UUID().uuidString)"))
        do {
            try await objectStore.get(key: key, to: temporary.path)
        } catch {
            throw APIError.notFound("file")
        }
        return try await fileResponse(path: temporary.path, contentType: contentType, request: request, context: context, cleanup: temporary)
    }

    private func fileResponse(
        path: String, contentType: String, request: Request, context: APIRequestContext, cleanup: TemporaryDownload?
    ) async throws -> Response {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            (attributes[.type] as? FileAttributeType) == .typeRegular,
            let size = (attributes[.size] as? NSNumber)?.intValue
        else {
            throw APIError.notFound("file")
        }
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.acceptRanges] = "bytes"
        headers[.cacheControl] = "private, max-age=300"
        var status = HTTPResponse.Status.ok
        var range: ClosedRange<Int>? = size > 0 ? 0...(size - 1) : nil
        if let rangeHeader = request.headers[.range] {
            switch Self.parseRange(rangeHeader, size: size) {
            case .none:
                break  // not a single byte range we understand: send the whole file, as RFC 9110 allows
            case .some(.unsatisfiable):
                headers[.contentRange] = "bytes */\(size)"
                return Response(status: .rangeNotSatisfiable, headers: headers, body: .init())
            case .some(.range(let r)):
                status = .partialContent
                range = r
                headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"
            }
        }
        headers[.contentLength] = String(range?.count ?? 0)
        guard let range else {
            return Response(status: status, headers: headers, body: .init())
        }
        let inner = try await FileIO().loadFile(path: path, range: range, context: context)
        let body: ResponseBody
        if let cleanup {
            body = ResponseBody(contentLength: range.count) { writer in
                defer { cleanup.remove() }
                try await inner.write(writer)
            }
        } else {
            body = inner
        }
        return Response(status: status, headers: headers, body: body)
    }

    enum RangeRequest: Equatable {
        case range(ClosedRange<Int>)
        case unsatisfiable
    }

    /// One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; nil for anything else (multiple ranges, other units).
    static func parseRange(_ header: String, size: Int) -> RangeRequest? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes=") else { return nil }
        let spec = trimmed.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int(last), suffix >= 0 else { return nil }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .range(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int(first), start >= 0 else { return nil }
        var end = size - 1
        if !last.isEmpty {
            guard let value = Int(last), value >= start else { return nil }
            end = min(value, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .range(start...end)
    }

    static func contentType(forKey key: String) -> String {
        switch (key as NSString).pathExtension.lowercased() {
        case "mp4": "video/mp4"
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        case "webp": "image/webp"
        case "mp3": "audio/mpeg"
        case "m4a": "audio/mp4"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }
}

extension LocalDirectoryStore: LocalFileBackedStore {}

/// A `/files` download fetched from a remote store to `rendc-download-<uuid>` under the API's temporary folder.
/// Removed by ``remove()`` after the body is written, and in any case when the last reference goes (`deinit`),
/// so a response that is never written (HEAD, a client that disconnected, a cancelled task) leaves nothing behind.
final class TemporaryDownload: Sendable {
    static let prefix = "rendc-download-"
    let path: String

    init(path: String) { self.path = path }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    deinit { remove() }
}
