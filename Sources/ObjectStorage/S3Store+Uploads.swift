import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

// Uploads: one PUT for small files, multipart (parts of `partSize`, aborted on failure) for large ones.
extension S3Store {

    func putSingle(localPath: String, size: Int64, key: String, contentType: String) async throws {
        let hash = try Self.sha256(of: localPath, offset: 0, length: size, key: key)
        try await withRetries(operation: "PUT", key: key) {
            let response = try await send(
                method: .PUT, key: key, headers: [.init("Content-Type", contentType)],
                body: .file(path: localPath, offset: 0, length: size), payloadHash: hash)
            guard response.status == .ok else { throw await S3Failure(response: response) }
            _ = try? await response.body.collect(upTo: 64 * 1024)
        }
    }

    /// The part size actually used: the configured one, grown if needed to stay within 10,000 parts.
    static func partSize(forFileSize size: Int64, configured: Int) -> Int64 {
        var part = Int64(configured)
        while (size + part - 1) / part > Int64(S3Configuration.maximumPartCount) { part *= 2 }
        return part
    }

    func putMultipart(localPath: String, size: Int64, key: String, contentType: String) async throws {
        let uploadID: String = try await withRetries(operation: "CreateMultipartUpload", key: key) {
            let response = try await send(
                method: .POST, key: key, query: [.init("uploads", "")],
                headers: [.init("Content-Type", contentType)])
            guard response.status == .ok else { throw await S3Failure(response: response) }
            let body = try await response.body.collect(upTo: 1024 * 1024)
            guard let document = S3XMLDocument(Data(body.readableBytesView)), let id = document["UploadId"], !id.isEmpty else {
                throw ObjectStoreError(code: .remote, key: key, message: "CreateMultipartUpload answer has no UploadId")
            }
            return id
        }
        let partSize = Self.partSize(forFileSize: size, configured: configuration.partSize)
        logger.debug(
            "multipart upload started",
            metadata: ["key": "\(key)", "bytes": "\(size)", "partSize": "\(partSize)"])
        do {
            var etags: [String] = []
            var offset: Int64 = 0
            var partNumber = 1
            while offset < size {
                let length = min(partSize, size - offset)
                let hash = try Self.sha256(of: localPath, offset: offset, length: length, key: key)
                let query: [SigV4Signer.QueryItem] = [.init("partNumber", String(partNumber)), .init("uploadId", uploadID)]
                let currentOffset = offset
                let etag: String = try await withRetries(operation: "UploadPart \(partNumber)", key: key) {
                    let response = try await send(
                        method: .PUT, key: key, query: query,
                        body: .file(path: localPath, offset: currentOffset, length: length), payloadHash: hash)
                    guard response.status == .ok else { throw await S3Failure(response: response) }
                    _ = try? await response.body.collect(upTo: 64 * 1024)
                    guard let etag = response.headers.first(name: "ETag"), !etag.isEmpty else {
                        throw ObjectStoreError(code: .remote, key: key, message: "UploadPart \(partNumber) answer has no ETag")
                    }
                    return etag
                }
                etags.append(etag)
                offset += length
                partNumber += 1
            }
            try await completeMultipart(key: key, uploadID: uploadID, etags: etags)
        } catch {
            await abortMultipart(key: key, uploadID: uploadID)
            throw error
        }
    }

    func completeMultipart(key: String, uploadID: String, etags: [String]) async throws {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (index, etag) in etags.enumerated() {
            xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XMLDocument.escape(etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = Data(xml.utf8)
        try await withRetries(operation: "CompleteMultipartUpload", key: key) {
            let response = try await send(
                method: .POST, key: key, query: [.init("uploadId", uploadID)],
                headers: [.init("Content-Type", "application/xml")], body: .data(body),
                payloadHash: SigV4Signer.hexSHA256(body))
            let answer = try await response.body.collect(upTo: 1024 * 1024)
            let document = S3XMLDocument(Data(answer.readableBytesView))
            // S3 may answer 200 and still report an error in the body.
            guard response.status == .ok, document?.root != "Error" else {
                throw S3Failure(status: response.status.code, document: document, requestID: Self.requestID(response))
            }
        }
    }

    func abortMultipart(key: String, uploadID: String) async {
        do {
            try await withRetries(operation: "AbortMultipartUpload", key: key) {
                let response = try await send(method: .DELETE, key: key, query: [.init("uploadId", uploadID)])
                guard response.status == .noContent || response.status == .ok || response.status == .notFound else {
                    throw await S3Failure(response: response)
                }
                _ = try? await response.body.collect(upTo: 64 * 1024)
            }
            logger.info("multipart upload aborted", metadata: ["key": "\(key)"])
        } catch {
            logger.warning(
                "could not abort multipart upload; a bucket lifecycle rule should clean it up",
                metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }
}
