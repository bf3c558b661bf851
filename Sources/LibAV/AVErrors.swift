internal import CFFmpeg
import Foundation
import MediaFormats

func averrorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    av_strerror(code, &buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

let AVERROR_EAGAIN = rendc_averror_eagain()
let AVERROR_EOF_ = rendc_averror_eof()

/// Throws a `MediaError` for a negative libav* return code. Out-of-memory is never blamed on the input.
@inline(__always)
func check(_ code: Int32, _ stage: MediaError.Stage, _ path: String?, _ what: String, as errorCode: MediaError.Code? = nil) throws {
    if code < 0 {
        let c: MediaError.Code? = code == rendc_averror_enomem() ? .outOfMemory : errorCode
        throw MediaError(stage, code: c, path: path, "\(what): \(averrorString(code))")
    }
}
