import Foundation
import LibAV
import Planner

/// Measurements for `rendc bench`: the compositor alone, and the encoder alone on the very same frames. Package
/// access: this package's bench uses them; they are not the library's API.
extension FilterGraphRenderer {
    /// Composes every frame of the plan into a raw YUV 4:2:0 file (for the encode floor) and returns the seconds
    /// the composition took (file writing excluded as far as the clock allows).
    package func composeAll(rawPath: String?) throws -> Double {
        let frame = try Frame.video(width: plan.width, height: plan.height)
        let handle: FileHandle?
        if let rawPath {
            FileManager.default.createFile(atPath: rawPath, contents: nil)
            handle = FileHandle(forWritingAtPath: rawPath)
        } else {
            handle = nil
        }
        defer { try? handle?.close() }
        var composing: Duration = .zero
        let clock = ContinuousClock()
        let w = plan.width, h = plan.height
        var buffer = [UInt8](repeating: 0, count: w * h * 3 / 2)
        for index in 0..<plan.frameCount {
            let started = clock.now
            let planes = PlanesRef(frame: frame)
            try compose(frame: index, into: planes)
            composing += clock.now - started
            if let handle {
                buffer.withUnsafeMutableBufferPointer { b in
                    for row in 0..<h { memcpy(b.baseAddress! + row * w, planes.y + row * planes.yStride, w) }
                    for row in 0..<h / 2 {
                        memcpy(b.baseAddress! + w * h + row * w / 2, planes.u + row * planes.cStride, w / 2)
                        memcpy(b.baseAddress! + w * h * 5 / 4 + row * w / 2, planes.v + row * planes.cStride, w / 2)
                    }
                }
                try handle.write(contentsOf: buffer)
            }
        }
        return composing / .seconds(1)
    }

    /// The encode floor: encodes the frames in `rawPath` (written by `composeAll`) with the plan's encoder settings
    /// into `output`, audio as silence, and returns the wall seconds. Reading the file is included (it is in the
    /// page cache right after `composeAll`), which only makes the floor slower, never flattering the render.
    package static func encodeFloor(plan: RenderPlan, rawPath: String, output: String) throws -> Double {
        var silent = plan
        silent.audio = nil
        let clock = ContinuousClock()
        let started = clock.now
        let writer = try MP4Writer(path: output, plan: silent)
        let audio = try AudioSource(plan: silent, frameSize: writer.audioFrameSize)
        let frame = try Frame.video(width: plan.width, height: plan.height)
        guard let handle = FileHandle(forReadingAtPath: rawPath) else { throw BackendError(.openInput, path: rawPath, "cannot read") }
        defer { try? handle.close() }
        let w = plan.width, h = plan.height, size = w * h * 3 / 2
        for index in 0..<plan.frameCount {
            guard let data = try handle.read(upToCount: size), data.count == size else { break }
            try frame.makeWritable()
            let p = PlanesRef(frame: frame)
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let b = raw.bindMemory(to: UInt8.self).baseAddress!
                for row in 0..<h { memcpy(p.y + row * p.yStride, b + row * w, w) }
                for row in 0..<h / 2 {
                    memcpy(p.u + row * p.cStride, b + w * h + row * w / 2, w / 2)
                    memcpy(p.v + row * p.cStride, b + w * h * 5 / 4 + row * w / 2, w / 2)
                }
            }
            frame.pts = Int64(index)
            try writer.sendVideo(frame)
        }
        while let a = try audio.next() { try writer.sendAudio(a) }
        try writer.finish()
        let d = clock.now - started
        return d / .seconds(1)
    }
}
