import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Requests the HTTP/1 parser refuses never reach the router: a malformed request line or header, a bad or
/// duplicated `Content-Length`, `Content-Length` with `Transfer-Encoding`, a header block over the limit, a target
/// HTTP types cannot hold. Hummingbird answered those with a bare `400` (no body, no `X-Request-Id`), or, for a
/// head the HTTP-types conversion refuses, closed the connection without an answer. This handler sits right after
/// the parser and answers them in the API's error envelope: 400 `malformed_request` with a new `X-Request-Id`, then the
/// connection closes (the parser cannot find the next request in what follows).
///
/// Garbage after a complete request is answered once that request's response has ended. An error in the middle
/// of a request (a broken chunked body) is passed on: a route reading the body sees it as its body failing, and
/// ``ErrorEnvelopeMiddleware`` answers it in the same envelope. Hummingbird's own bare 400, which it writes when
/// the parser fails after a request was answered (by a route or by this handler), is dropped: no response is
/// written that no request asked for.
///
/// A `CONNECT` request (this is no proxy) is routed like any other (404, or 405 with `Allow` on an API path), but
/// SwiftNIO's encoder writes no body on any response to `CONNECT`, so its envelope was lost. Its answer is written
/// here, past that encoder, with its body and `Content-Length`, and the connection then closes (the parser reads
/// nothing after a `CONNECT`: what follows would be the tunnel's bytes).
final class ParseErrorEnvelopeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Responses owed: requests whose head went up and whose response has not ended.
    private var owed = 0
    /// A request's head went up and its end has not: a parser error now is in its body.
    private var inRequest = false
    /// This handler answers (or answered) a refused request: what the server writes afterwards is dropped.
    private var answered = false
    /// The refused request's answer waits for the response in progress to end.
    private var deferred: (any Error)?
    /// Dropping a response that answers no request, until its end.
    private var dropping = false
    /// The last request read is a `CONNECT`: its answer (the last one owed) is collected here.
    private var connectRequested = false
    private var connectAnswer: (head: HTTPResponse?, body: ByteBuffer) = (nil, ByteBuffer())

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            owed += 1
            inRequest = true
            if head.method == .connect { connectRequested = true }
        case .end: inRequest = false
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !inRequest, !answered, error is HTTPParserError || error is HTTP1TypeConversionError {
            // Between requests: the bytes after the last complete request are not HTTP.
            answered = true
            if owed == 0 { answer(context: context, error: error) } else { deferred = error }
        }
        // Passed on either way: it ends the server's read loop, which then closes the connection.
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if case .head(let head) = part, !(100..<200).contains(head.status.code), owed == 0 { dropping = true }
        if dropping {
            if case .end = part { dropping = false }
            promise?.succeed()
            return
        }
        if connectRequested, owed == 1 {
            answerConnect(context: context, part, promise: promise)
            return
        }
        guard case .end = part else {
            context.write(data, promise: promise)
            return
        }
        owed = max(0, owed - 1)
        context.write(data, promise: promise)
        if owed == 0, let error = deferred {
            deferred = nil
            answer(context: context, error: error)
        }
    }

    /// Collects the answer to a `CONNECT`, then writes it whole below the HTTP encoder and closes. A 2xx (a tunnel,
    /// which no route opens) or a pipeline without NIO's encoder goes the usual way.
    private func answerConnect(context: ChannelHandlerContext, _ part: HTTPResponsePart, promise: EventLoopPromise<Void>?) {
        switch part {
        case .head(let head):
            if !(100..<200).contains(head.status.code) { connectAnswer.head = head }
            promise?.succeed()
        case .body(var bytes):
            connectAnswer.body.writeBuffer(&bytes)
            promise?.succeed()
        case .end:
            owed = 0
            connectRequested = false
            let (head, body) = connectAnswer
            connectAnswer = (nil, ByteBuffer())
            guard let head, !(200..<300).contains(head.status.code),
                let encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
            else {
                if let head { context.write(wrapOutboundOut(.head(head)), promise: nil) }
                if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(body)), promise: nil) }
                context.write(wrapOutboundOut(.end(nil)), promise: promise)
                return
            }
            let channel = context.channel
            let written = context.eventLoop.makePromise(of: Void.self)
            encoder.writeAndFlush(NIOAny(Self.serialized(head, body: body)), promise: written)
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            promise?.succeed()
        }
    }

    /// `head` and `body` as HTTP/1.1 bytes, framed by `Content-Length`, with `Connection: close`.
    static func serialized(_ head: HTTPResponse, body: ByteBuffer) -> ByteBuffer {
        var text = "HTTP/1.1 \(head.status.code) \(head.status.reasonPhrase)\r\n"
        for field in head.headerFields where ![HTTPField.Name.contentLength, .transferEncoding, .connection].contains(field.name) {
            text += "\(field.name.rawName): \(field.value)\r\n"
        }
        text += "Content-Length: \(body.readableBytes)\r\nConnection: close\r\n\r\n"
        var buffer = ByteBuffer(string: text)
        buffer.writeImmutableBuffer(body)
        return buffer
    }

    private func answer(context: ChannelHandlerContext, error: any Error) {
        let (head, body) = Self.response(for: error)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// The 400 in the error envelope, closing the connection.
    static func response(for error: any Error) -> (HTTPResponse, ByteBuffer) {
        let envelope = ErrorEnvelope(error: .init(code: APIError.Code.malformedRequest.rawValue, message: message(for: error), field: nil))
        let data = (try? JSONEncoder.api.encode(envelope)) ?? Data(#"{"success":false}"#.utf8)
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(data.count)
        fields[.connection] = "close"
        fields[.requestId] = UUID().uuidString.lowercased()
        return (HTTPResponse(status: .badRequest, headerFields: fields), ByteBuffer(bytes: data))
    }

    /// What was wrong, in words a client can act on; nothing of the request is echoed.
    static func message(for error: any Error) -> String {
        let what: String
        switch error as? HTTPParserError {
        case .invalidContentLength?, .unexpectedContentLength?:
            what = "its Content-Length is not a single non-negative number, or comes with Transfer-Encoding"
        case .headerOverflow?:
            what = "its header block is too large"
        case .invalidHeaderToken?, .invalidConstant?, .lfExpected?, .invalidCharactersUsed?:
            what = "its request line or a header line is malformed"
        case .invalidMethod?:
            what = "its method is not one this server knows"
        case .invalidURL?, .invalidPath?, .invalidQueryString?, .invalidFragment?, .invalidHost?, .invalidPort?:
            what = "its request target is malformed"
        case .invalidVersion?:
            what = "its HTTP version is not HTTP/1.x"
        case .invalidChunkSize?:
            what = "its chunked framing is malformed"
        case .some:
            what = "it is not valid HTTP/1.1"
        case nil:
            what = error is HTTP1TypeConversionError ? "its method or request target cannot be handled" : "it is not valid HTTP/1.1"
        }
        return "the request could not be parsed: \(what); the connection is closed"
    }
}
