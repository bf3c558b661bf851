import Foundation
import RenderPipeline
import RendcTestSupport
import Testing

/// review9b: inputs within every upload limit that made a render fail badly.
@Suite(.ownThreads) struct HostileRenderInputTests {
    /// An 8000x16 picture (a few kilobytes) in editorial's panned cover window was scaled up along the whole pan:
    /// 1.29 GB for ten of them, and "cannot scale ..." (transient: retried, naming no input) for 8000x4. It is now
    /// refused before any scaling, naming the picture, as bad input.
    @Test func aSliverOfAPictureInAPannedWindowIsRefusedAsBadInput() throws {
        let dir = try Fixtures.temporaryDirectory("rendc-sliver")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sliver = dir.appendingPathComponent("sliver.png").path
        let made = try Subprocess.run(
            "/usr/bin/ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "color=c=red:s=8000x16", "-frames:v", "1", "-y", sliver])
        #expect(made.status == 0, "\(made.combined)")
        let request = RenderRequest(template: "editorial", images: [sliver], duration: 4, output: dir.appendingPathComponent("x.mp4").path)
        do {
            _ = try RenderFixture.pipeline.still(request, at: 1)
            Issue.record("an 8000x16 picture in a panned cover window must be refused")
        } catch let error as PipelineError {
            #expect(error.isPermanent, "bad input is not retried: \(error)")
            #expect("\(error)".contains("sliver.png") && "\(error)".contains("too narrow or too flat"), "\(error)")
        }
        // The same picture where nothing pans is drawn (a cover window scaled once): the budget is about the pan.
        let still = try RenderFixture.pipeline.still(
            RenderRequest(template: "split-screen", images: [sliver, RenderFixture.images[0]], duration: 4, output: "unused.mp4"), at: 1)
        #expect(still.0.width == 1080)
    }
}
