import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto...), signed with SigV4 (`SigV4Signer`).
///
/// Uploads stream the file from disk (its SHA-256 is computed first, so the server checks the bytes it got);
/// files larger than `partSize` go up as a multipart upload, aborted if any step fails. Downloads stream into a
/// temporary file that is renamed into place. Requests answered with 5xx (or that fail to connect) are retried with
/// exponential backoff. Errors carry S3's error code and message, never the credentials.
public struct S3Store: ObjectStore {
    public let configuration: S3Configuration
    let endpoint: S3Configuration.Endpoint
    let signer: SigV4Signer
    let httpClient: HTTPClient
    let logger: Logger
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - httpClient: defaults to `HTTPClient.shared`, which needs no shutdown.
    ///   - now: the clock used for signatures (tests pin it).
    public init(
        configuration: S3Configuration, httpClient: HTTPClient = .shared, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.endpoint = try configuration.parsedEndpoint()
        self.signer = SigV4Signer(
            credentials: configuration.credentials, region: configuration.region, service: "s3",
            pathCanonicalization: .s3)
        self.httpClient = httpClient
        self.logger = logger
        self.now = now
    }

    // MARK: ObjectStore

    public func put(localPath: String, key: String, contentType: String) async throws {
        try ObjectKey.validate(key)
        guard LocalFiles.isRegularFile(localPath) else {
            throw ObjectStoreError(code: .localFile, key: key, message: "file to upload not found: \(localPath)")
        }
        let size: Int64
        do {
            size = try LocalFiles.fileSize(localPath)
        } catch {
            throw ObjectStoreError(code: .localFile, key: key, message: "cannot read \(localPath): \(LocalFiles.reason(error))")
        }
        if size <= Int64(configuration.partSize) {
            try await putSingle(localPath: localPath, size: size, key: key, contentType: contentType)
        } else {
            try await putMultipart(localPath: localPath, size: size, key: key, contentType: contentType)
        }
        logger.debug("stored object", metadata: ["key": "\(key)", "bytes": "\(size)"])
    }

    public func get(key: String, to localPath: String) async throws {
        try ObjectKey.validate(key)
        try await withRetries(operation: "GET", key: key) {
            let response = try await send(method: .GET, key: key)
            guard response.status == .ok else { throw await S3Failure(response: response) }
            try await Self.write(response: response, to: localPath, key: key)
        }
    }

    public func delete(key: String) async throws {
        try ObjectKey.validate(key)
        try await withRetries(operation: "DELETE", key: key) {
            let response = try await send(method: .DELETE, key: key)
            // 404 on delete is "already gone", as S3 itself answers 204 for missing keys.
            guard response.status == .noContent || response.status == .ok || response.status == .notFound else {
                throw await S3Failure(response: response)
            }
            _ = try? await response.body.collect(upTo: 64 * 1024)
        }
    }

    public func exists(key: String) async throws -> Bool {
        try ObjectKey.validate(key)
        return try await withRetries(operation: "HEAD", key: key) {
            let response = try await send(method: .HEAD, key: key)
            switch response.status {
            case .ok: return true
            case .notFound: return false
            default: throw S3Failure(status: response.status.code, document: nil, requestID: Self.requestID(response))
            }
        }
    }

    /// A presigned GET URL valid for `expiresIn` seconds (1 s to 7 days, S3's limits).
    public func presignedGetURL(key: String, expiresIn: Int) async throws -> URL? {
        try ObjectKey.validate(key)
        guard (1...604_800).contains(expiresIn) else {
            throw ObjectStoreError(
                code: .failed, key: key, message: "presigned URL lifetime must be 1...604800 seconds, not \(expiresIn)")
        }
        let target = target(for: key)
        let query = signer.presignedQuery(
            method: "GET", path: target.path, host: target.host, expiresIn: expiresIn, date: now())
        let string = "\(endpoint.scheme)://\(target.host)\(SigV4Signer.uriEncode(target.path, encodeSlash: false))?\(query)"
        guard let url = URL(string: string) else {
            throw ObjectStoreError(code: .failed, key: key, message: "could not form a presigned URL")
        }
        return url
    }

    // MARK: Downloads

    static func write(response: HTTPClientResponse, to localPath: String, key: String) async throws {
        let temporary = LocalFiles.temporaryPath(beside: localPath)
        do {
            try LocalFiles.createParentDirectory(of: localPath)
            guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
                throw ObjectStoreError(code: .localFile, key: key, message: "cannot create \(temporary)")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            var written: Int64 = 0
            do {
                for try await buffer in response.body {
                    try handle.write(contentsOf: Data(buffer.readableBytesView))
                    written += Int64(buffer.readableBytes)
                }
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            if let expected = response.headers.first(name: "Content-Length").flatMap(Int64.init), expected != written {
                throw ConnectionFailure(reason: "download ended after \(written) of \(expected) bytes")
            }
            try LocalFiles.commit(temporary: temporary, to: localPath)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if error is ObjectStoreError || error is ConnectionFailure { throw error }
            if error is CancellationError { throw error }
            // A failure while reading the body is a transport failure (retried); one while writing is local.
            if isTransportError(error) { throw error }
            throw ObjectStoreError(
                code: .localFile, key: key, message: "could not write \(localPath): \(LocalFiles.reason(error))")
        }
    }

    // MARK: Requests

    enum Body: Sendable {
        case none
        case data(Data)
        case file(path: String, offset: Int64, length: Int64)
    }

    struct Target {
        var host: String
        /// Decoded path, `/bucket/key` (path style) or `/key`.
        var path: String
    }

    func target(for key: String?) -> Target {
        let keyPath = key.map { "/" + $0 } ?? "/"
        if configuration.forcePathStyle {
            return Target(host: endpoint.hostHeader, path: "/" + configuration.bucket + (key == nil ? "" : keyPath))
        }
        var virtual = endpoint
        virtual.host = configuration.bucket + "." + endpoint.host
        return Target(host: virtual.hostHeader, path: keyPath)
    }

    func send(
        method: HTTPMethod, key: String?, query: [SigV4Signer.QueryItem] = [], headers: [SigV4Signer.Header] = [],
        body: Body = .none, payloadHash: String = SigV4Signer.emptyPayloadHash
    ) async throws -> HTTPClientResponse {
        let target = target(for: key)
        var signed = headers
        signed.append(.init("Host", target.host))
        signed.append(.init("x-amz-content-sha256", payloadHash))
        let request = SigV4Signer.Request(
            method: method.rawValue, path: target.path, query: query, headers: signed, payloadHash: payloadHash)
        let allHeaders = signer.signedHeaders(for: request, date: now())

        var url = "\(endpoint.scheme)://\(target.host)\(SigV4Signer.uriEncode(target.path, encodeSlash: false))"
        if !query.isEmpty { url += "?" + SigV4Signer.canonicalQueryString(query) }
        var httpRequest = HTTPClientRequest(url: url)
        httpRequest.method = method
        for header in allHeaders { httpRequest.headers.add(name: header.name, value: header.value) }
        switch body {
        case .none:
            break
        case .data(let data):
            httpRequest.body = .bytes(ByteBuffer(bytes: data))
        case .file(let path, let offset, let length):
            httpRequest.body = .stream(FileRangeChunks(path: path, offset: offset, length: length), length: .known(length))
        }
        let timeout = configuration.requestTimeout.components
        let response = try await httpClient.execute(
            httpRequest, timeout: .seconds(timeout.seconds) + .nanoseconds(timeout.attoseconds / 1_000_000_000),
            logger: logger)
        logger.trace(
            "s3 request",
            metadata: ["method": "\(method.rawValue)", "key": "\(key ?? "")", "status": "\(response.status.code)"])
        return response
    }

    // MARK: Retries

    /// Runs `body`, retrying 5xx answers and connection failures with exponential backoff and jitter.
    /// Any other failure, or the last one, becomes an `ObjectStoreError` naming the operation and key.
    func withRetries<T: Sendable>(
        operation: String, key: String, _ body: () async throws -> T
    ) async throws -> T {
        var attempt = 1
        var backoff = configuration.initialBackoff
        while true {
            do {
                return try await body()
            } catch {
                if error is CancellationError { throw error }
                if let error = error as? ObjectStoreError { throw error }
                let retryable: Bool
                let reason: String
                if let failure = error as? S3Failure {
                    retryable = failure.isRetryable
                    reason = failure.summary
                } else if let failure = error as? LocalFileFailure {
                    throw ObjectStoreError(code: .localFile, key: key, message: "\(operation): \(failure.reason)")
                } else if Self.isTransportError(error) || error is ConnectionFailure {
                    retryable = true
                    reason = "connection failed: \(Self.describeTransport(error))"
                } else {
                    retryable = false
                    reason = "\(error)"
                }
                guard retryable, attempt < configuration.maxAttempts else {
                    let suffix = attempt > 1 ? " (after \(attempt) attempts)" : ""
                    throw ObjectStoreError(
                        code: (error as? S3Failure)?.code ?? .remote, key: key,
                        message: "S3 \(operation) failed\(suffix): \(reason)")
                }
                let jittered = backoff * Double.random(in: 0.5...1.0)
                logger.warning(
                    "S3 request failed, retrying",
                    metadata: [
                        "operation": "\(operation)", "key": "\(key)", "attempt": "\(attempt)",
                        "error": "\(reason)", "delay": "\(jittered)",
                    ])
                try await Task.sleep(for: jittered)
                attempt += 1
                backoff = min(backoff * 2, configuration.maximumBackoff)
            }
        }
    }

    static func isTransportError(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError {
            return error != .cancelled
        }
        // NIO's connection errors (refused, reset, closed): IOError, ChannelError, NIOConnectionError...
        let type = String(reflecting: Swift.type(of: error))
        return type.hasPrefix("NIOCore.") || type.hasPrefix("NIOPosix.") || type.hasPrefix("NIOSSL.")
            || type.hasPrefix("NIOHTTP1.") || type.contains("ConnectionError")
    }

    static func describeTransport(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 300 ? String(text.prefix(300)) + "..." : text
    }

    static func requestID(_ response: HTTPClientResponse) -> String? {
        response.headers.first(name: "x-amz-request-id")
    }

    // MARK: Files

    /// Hex SHA-256 of `length` bytes of the file from `offset`, read in 1 MiB chunks.
    static func sha256(of path: String, offset: Int64, length: Int64, key: String) throws -> String {
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            var hasher = SHA256()
            var remaining = length
            while remaining > 0 {
                let count = Int(min(remaining, 1 << 20))
                guard let chunk = try handle.read(upToCount: count), !chunk.isEmpty else {
                    throw LocalFileFailure(reason: "\(path) is shorter than expected (changed while uploading?)")
                }
                hasher.update(data: chunk)
                remaining -= Int64(chunk.count)
            }
            return SigV4Signer.hex(hasher.finalize())
        } catch let failure as LocalFileFailure {
            throw ObjectStoreError(code: .localFile, key: key, message: failure.reason)
        } catch {
            throw ObjectStoreError(code: .localFile, key: key, message: "cannot read \(path): \(LocalFiles.reason(error))")
        }
    }
}
