import Foundation
import LibAV
import Planner

extension MP4Writer {
    /// H.264 + AAC in MP4 with the plan's size, rate and encoder settings.
    convenience init(path: String, plan: RenderPlan) throws {
        let e = plan.encoder
        try self.init(
            path: path,
            settings: MP4Settings(
                width: plan.width, height: plan.height, fps: plan.fps, videoCodec: e.videoCodec, preset: e.preset, crf: e.crf,
                tune: e.tune, x264Params: e.x264Params, gop: e.gop, audioCodec: e.audioCodec, audioSampleRate: e.audioSampleRate,
                audioBitrate: e.audioBitrate, audioChannels: e.audioChannels, faststart: e.faststart))
    }
}
