import Foundation
import LibAV
import Planner

/// The audio track: the input decoded and run through a libavfilter graph parsed from the plan
/// (`RenderPlan.audioFilterChain`: trim, pad, volume, fades, resample to 48 kHz stereo float), or silence.
/// Frames come out sized for the AAC encoder.
typealias AudioSource = AudioGraph

extension AudioGraph {
    convenience init(plan: RenderPlan, frameSize: Int) throws {
        try self.init(chain: plan.audioFilterChain, inputPath: plan.audio?.source.path, sampleRate: plan.encoder.audioSampleRate, frameSize: frameSize)
    }
}
