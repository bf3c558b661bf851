import Foundation
import SpecLang

/// The plan as a filter graph: FFmpeg filtergraph syntax, one node a line. Nodes named like FFmpeg filters run
/// in libavfilter/libswscale; nodes named `rendc_*` run in rendc's own kernels (see docs/architecture.md) because
/// their libavfilter equivalents cost more than the encode (NOTES: "Where the time goes").
/// User text never appears here: the caption is an input image (`caption.rgba`) rendered to pixels beforehand.
public struct FilterGraph: Sendable, Equatable, CustomStringConvertible {
    public struct Input: Sendable, Equatable {
        public var index: Int
        public var kind: String
        public var path: String
    }
    public struct Node: Sendable, Equatable {
        public var inputs: [String]
        public var filter: String
        public var arguments: [(String, String)]
        public var outputs: [String]
        public static func == (a: Node, b: Node) -> Bool {
            a.inputs == b.inputs && a.filter == b.filter && a.outputs == b.outputs
                && a.arguments.map(\.0) == b.arguments.map(\.0) && a.arguments.map(\.1) == b.arguments.map(\.1)
        }
        /// `[in]filter=k=v:k=v[out]` with option values escaped as FFmpeg requires.
        public var text: String {
            let args = arguments.map { "\($0.0)=\(FilterGraph.escape($0.1))" }.joined(separator: ":")
            return inputs.map { "[\($0)]" }.joined() + filter + (args.isEmpty ? "" : "=" + args) + outputs.map { "[\($0)]" }.joined()
        }
    }

    public var inputs: [Input]
    public var video: [Node]
    public var audio: [Node]

    public var description: String {
        var lines = inputs.map { "# input \($0.index) (\($0.kind)): \($0.path)" }
        lines += video.map { $0.text + ";" }
        lines += audio.map { $0.text + ";" }
        if var last = lines.last, last.hasSuffix(";") { last.removeLast(); lines[lines.count - 1] = last }
        return lines.joined(separator: "\n")
    }

    /// Escapes an option value for a filtergraph string: first for the option parser, then for the graph parser.
    public static func escape(_ value: String) -> String {
        let special: Set<Character> = ["\\", "'", ":"]
        var level1 = ""
        for c in value {
            if special.contains(c) { level1.append("\\") }
            level1.append(c)
        }
        let graphSpecial: Set<Character> = ["\\", "'", "[", "]", ",", ";"]
        var level2 = ""
        for c in level1 {
            if graphSpecial.contains(c) { level2.append("\\") }
            level2.append(c)
        }
        return level2
    }
}

extension RenderPlan {
    /// The plan as a printable filter graph.
    public var filterGraph: FilterGraph {
        var inputs: [FilterGraph.Input] = []
        var video: [FilterGraph.Node] = []
        var audioNodes: [FilterGraph.Node] = []
        func input(_ kind: String, _ path: String) -> Int {
            inputs.append(.init(index: inputs.count, kind: kind, path: path))
            return inputs.count - 1
        }
        func f(_ d: Double) -> String { String(format: "%.3f", d) }
        func node(_ i: [String], _ name: String, _ args: [(String, String)], _ o: [String]) {
            video.append(.init(inputs: i, filter: name, arguments: args, outputs: o))
        }

        node([], "color", [("c", "0x" + background.hex.dropFirst().prefix(6)), ("s", "\(width)x\(height)"), ("r", "\(fps)"), ("d", f(duration))], ["bg"])
        var base = "bg"
        if let o = overlay {
            let i = input("overlay video, looped", o.source.path)
            node(["\(i):v"], "scale", [("w", "\(width)"), ("h", "\(height)"), ("force_original_aspect_ratio", "increase")], ["ovs"])
            node(["ovs"], "crop", [("w", "\(width)"), ("h", "\(height)")], ["ovc"])
            node(["ovc"], o.animated ? "loop" : "trim", o.animated ? [("loop", "-1"), ("size", "cached")] : [("end_frame", "1")], ["ovl"])
            // Precomputed once per loop frame, then reused: background + overlay blended.
            node(["bg", "ovl"], "rendc_blend_cached", [("mode", o.blend.rawValue), ("opacity", f(o.opacity))], ["base"])
            base = "base"
        }
        if let images {
            var labels: [String] = []
            var imageInputs: [Int] = []
            for img in images.inputs { imageInputs.append(input("image, decoded once", img.path)) }
            let w = images.window
            for shot in images.shots {
                let i = imageInputs[shot.image]
                let m = shot.motion
                let label = "shot\(shot.index)"
                node(["\(i):v"], "rendc_kenburns", [
                    ("fit", images.fit.rawValue), ("w", "\(w.width)"), ("h", "\(w.height)"),
                    ("zoom", "\(f(m.zoomFrom))-\(f(m.zoomTo))"),
                    ("center", "\(f(m.panFrom.x)),\(f(m.panFrom.y))-\(f(m.panTo.x)),\(f(m.panTo.y))"),
                    ("easing", m.easing.rawValue),
                    ("start_frame", "\(shot.startFrame)"), ("end_frame", "\(shot.endFrame)"),
                ] + (shot.beat.map { [("beat", f($0))] } ?? []), [label])
                labels.append(label)
            }
            node(labels, "concat", [("n", "\(labels.count)"), ("v", "1"), ("a", "0")], ["shots"])
            node([base, "shots"], "overlay", [("x", "\(w.x)"), ("y", "\(w.y)")], ["v_images"])
            base = "v_images"
        }
        switch frame {
        case .border(let color, let width)?:
            node([base], "drawbox", [("x", "0"), ("y", "0"), ("w", "iw"), ("h", "ih"), ("color", "0x" + color.hex.dropFirst()), ("t", "\(width)")], ["v_frame"])
            base = "v_frame"
        case .image(let png)?:
            let i = input("frame PNG, converted once", png.path)
            node(["\(i):v"], "scale", [("w", "\(width)"), ("h", "\(height)")], ["frame"])
            node([base, "frame"], "overlay", [("x", "0"), ("y", "0")], ["v_frame"])
            base = "v_frame"
        case nil:
            break
        }
        if let caption {
            let i = input("caption, rendered once by CaptionText", "caption.rgba (\(caption.box.width)x\(caption.box.height))")
            node([base, "\(i):v"], "overlay", [("x", "\(caption.box.x)"), ("y", "\(caption.box.y)")], ["v_caption"])
            base = "v_caption"
        }
        node([base], "format", [("pix_fmts", encoder.pixelFormat)], ["vout"])

        if let a = audio {
            let i = input("audio", a.source.path)
            var chain: [(String, [(String, String)])] = [("asetpts", [("expr", "PTS-STARTPTS")]), ("atrim", [("start", "0"), ("end", f(a.duration))])]
            if let track = a.trackDuration, track < a.duration { chain.append(("apad", [("whole_dur", f(a.duration))])) }
            if a.volume != 1 { chain.append(("volume", [("volume", f(a.volume))])) }
            if a.fadeIn > 0 { chain.append(("afade", [("t", "in"), ("st", "0"), ("d", f(a.fadeIn))])) }
            if a.fadeOut > 0 { chain.append(("afade", [("t", "out"), ("st", f(a.duration - a.fadeOut)), ("d", f(a.fadeOut))])) }
            chain.append(("aresample", [("out_sample_rate", "\(encoder.audioSampleRate)")]))
            chain.append(("aformat", [("sample_fmts", "fltp"), ("channel_layouts", encoder.audioChannels == 2 ? "stereo" : "mono")]))
            var label = "\(i):a"
            for (n, step) in chain.enumerated() {
                let out = n == chain.count - 1 ? "aout" : "a\(n)"
                audioNodes.append(.init(inputs: [label], filter: step.0, arguments: step.1, outputs: [out]))
                label = out
            }
        } else {
            audioNodes.append(.init(inputs: [], filter: "anullsrc", arguments: [("r", "\(encoder.audioSampleRate)"), ("cl", "stereo"), ("d", f(duration))], outputs: ["a0"]))
            audioNodes.append(.init(inputs: ["a0"], filter: "aformat", arguments: [("sample_fmts", "fltp"), ("channel_layouts", "stereo")], outputs: ["aout"]))
        }
        return FilterGraph(inputs: inputs, video: video, audio: audioNodes)
    }

    /// The audio chain as a libavfilter graph string between `[in]` (abuffer) and `[out]` (abuffersink).
    /// This string is what the backend parses with `avfilter_graph_parse_ptr`.
    public var audioFilterChain: String {
        let nodes = filterGraph.audio
        return nodes.map { n in
            let args = n.arguments.map { "\($0.0)=\(FilterGraph.escape($0.1))" }.joined(separator: ":")
            return n.filter + (args.isEmpty ? "" : "=" + args)
        }.joined(separator: ",")
    }

    /// A human summary: sizes, timing and the shot list (what `rendc plan` prints above the graph).
    public var summary: String {
        var lines: [String] = []
        lines.append("template: \(template)  quality: \(quality.rawValue)")
        lines.append("output: \(width)x\(height) @ \(fps) fps, \(String(format: "%.3f", duration)) s, \(frameCount) frames, \(encoder.videoCodec) \(encoder.preset) crf \(encoder.crf) \(encoder.pixelFormat) + \(encoder.audioCodec) \(encoder.audioSampleRate) Hz")
        lines.append("cuts: \(cutSource)")
        if let images {
            lines.append("shots (\(images.shots.count)):")
            for s in images.shots {
                let beat = s.beat.map { String(format: " on beat %.3f s", $0) } ?? ""
                let name = URL(fileURLWithPath: images.inputs[s.image].path).lastPathComponent
                lines.append(String(format: "  #%-2d %7.3f–%7.3f s  frames %4d–%4d  %@  zoom %.3f→%.3f%@", s.index, s.start, s.end, s.startFrame, s.endFrame - 1, name, s.motion.zoomFrom, s.motion.zoomTo, beat))
            }
        }
        if let caption { lines.append("caption: \(caption.text.count) characters in \(caption.box), \(Int(caption.style.size)) px") }
        lines.append(String(format: "thumbnail: frame %d (%.3f s)", thumbnailFrame, thumbnailTime))
        for n in notes { lines.append("note: \(n)") }
        return lines.joined(separator: "\n")
    }
}
