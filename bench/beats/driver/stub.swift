// The driver feeds PCM itself: this stands in for the libav* decoder (AudioDecoder.swift) so that the BeatTracking
// sources compile without FFmpeg. Never called.
package struct DecodedAudio {
    package var samples: [Float]
    package var sampleRate: Int
    package var trackDuration: Double
    package var start: Double = 0
}
package struct AudioDecoder {
    package init(sampleRate: Int = 22050) {}
    package func probeDuration(path: String) throws -> Double { 0 }
    package func decode(path: String, maxDuration: Double?, from: Double = 0) throws -> DecodedAudio {
        DecodedAudio(samples: [], sampleRate: 22050, trackDuration: 0)
    }
}
