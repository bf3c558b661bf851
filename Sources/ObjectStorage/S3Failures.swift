import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A transport-level failure noticed by us (short body), retried like a connection error.
struct ConnectionFailure: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// A local file problem while streaming an upload: not retried.
struct LocalFileFailure: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// An error answer from S3: status, S3's error code and message, request id.
struct S3Failure: Error, CustomStringConvertible {
    var status: UInt
    var s3Code: String?
    var message: String?
    var requestID: String?

    init(status: UInt, document: S3XMLDocument?, requestID: String?) {
        self.status = status
        if let document, document.root == "Error" {
            s3Code = document["Code"]
            message = document["Message"]
            self.requestID = document["RequestId"] ?? requestID
        } else {
            self.requestID = requestID
        }
    }

    init(response: HTTPClientResponse) async {
        let body = try? await response.body.collect(upTo: 256 * 1024)
        let document = body.flatMap { S3XMLDocument(Data($0.readableBytesView)) }
        self.init(status: response.status.code, document: document, requestID: S3Store.requestID(response))
    }

    var isRetryable: Bool {
        status >= 500 || status == 429 || s3Code == "RequestTimeout" || s3Code == "SlowDown"
            || s3Code == "InternalError"
    }

    var code: ObjectStoreError.Code {
        if status == 404 || s3Code == "NoSuchKey" || s3Code == "NoSuchBucket" { return .notFound }
        if status == 403 || status == 401 { return .accessDenied }
        return .remote
    }

    /// `HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match... (request id X)`.
    /// Only S3's code and message: S3 may echo the string to sign in other fields, which we leave out.
    var summary: String {
        var text = "HTTP \(status)"
        if let s3Code { text += " \(s3Code)" }
        if let message, !message.isEmpty { text += ": \(message)" }
        if let requestID { text += " (request id \(requestID))" }
        return text
    }
    var description: String { summary }
}

/// The bytes `offset ..< offset + length` of a file, in 256 KiB `ByteBuffer`s, opened lazily so each retry
/// re-reads from disk.
struct FileRangeChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let offset: Int64
    let length: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        let offset: Int64
        var remaining: Int64
        var handle: FileHandle?

        mutating func next() async throws -> ByteBuffer? {
            guard remaining > 0 else {
                try? handle?.close()
                handle = nil
                return nil
            }
            if handle == nil {
                do {
                    let opened = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                    try opened.seek(toOffset: UInt64(offset))
                    handle = opened
                } catch {
                    throw LocalFileFailure(reason: "cannot read \(path): \(LocalFiles.reason(error))")
                }
            }
            let count = Int(Swift.min(remaining, 256 * 1024))
            let chunk: Data?
            do {
                chunk = try handle?.read(upToCount: count)
            } catch {
                throw LocalFileFailure(reason: "cannot read \(path): \(LocalFiles.reason(error))")
            }
            guard let chunk, !chunk.isEmpty else {
                throw LocalFileFailure(reason: "\(path) is shorter than expected (changed while uploading?)")
            }
            remaining -= Int64(chunk.count)
            return ByteBuffer(bytes: chunk)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(path: path, offset: offset, remaining: length, handle: nil)
    }
}
