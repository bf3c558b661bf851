import Foundation
import SpecLang

/// The plan as a filter graph: FFmpeg filtergraph syntax, one node a line. Nodes named like FFmpeg filters run
/// in libavfilter/libswscale; nodes named `rendc_*` run in rendc's own kernels (see docs/architecture.md) because
/// their libavfilter equivalents cost more than the encode (docs/architecture.md, "Why the compositor is not one big
/// libavfilter graph").
/// User text never appears here: each text layer is an input image (`textN.rgba`) rendered to pixels beforehand.
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

        // The first layer, when it is an opaque solid colour over the whole canvas, is the graph's source.
        var firstLayer = 0
        var bg = Color.black
        if let l = layers.first, case .color(.solid(let c)) = l.content, c.a == 255, l.box == Rect(x: 0, y: 0, width: width, height: height),
            l.isStatic, l.visible == [FrameSpan(0, frameCount)], l.opacity == 1
        {
            bg = c
            firstLayer = 1
        }
        node([], "color", [("c", "0x" + bg.hex.dropFirst().prefix(6)), ("s", "\(width)x\(height)"), ("r", "\(fps)"), ("d", f(duration))], ["bg"])
        var base = "bg"
        for layer in layers.dropFirst(firstLayer) {
            let id = "l\(layer.index)"
            let b = layer.box
            var timing: [(String, String)] = []
            if layer.visible != [FrameSpan(0, frameCount)] {
                timing = [("enable", layer.visible.map { "between(n,\($0.start),\($0.end - 1))" }.joined(separator: "+"))]
            }
            var top = id
            switch layer.content {
            case .color(let fill):
                switch fill {
                case .solid(let c):
                    node([], "color", [("c", "0x" + c.hex.dropFirst()), ("s", "\(b.width)x\(b.height)"), ("r", "\(fps)"), ("d", f(duration))], [id])
                case .linear(let angle, let stops):
                    node(
                        [], "rendc_gradient",
                        [
                            ("type", "linear"), ("angle", f(angle)),
                            ("stops", stops.map { "\($0.color.hex)@\(f($0.position))" }.joined(separator: " ")), ("s", "\(b.width)x\(b.height)"),
                        ], [id])
                case .radial(let stops):
                    node(
                        [], "rendc_gradient",
                        [
                            ("type", "radial"), ("stops", stops.map { "\($0.color.hex)@\(f($0.position))" }.joined(separator: " ")),
                            ("s", "\(b.width)x\(b.height)"),
                        ], [id])
                }
            case .video(let v):
                let i = input(v.loop ? "video, looped" : "video, played once", v.source.path)
                node(
                    ["\(i):v"], "scale",
                    [("w", "\(b.width)"), ("h", "\(b.height)"), ("force_original_aspect_ratio", v.fit == .cover ? "increase" : "decrease")],
                    [id + "s"])
                node([id + "s"], v.fit == .cover ? "crop" : "pad", [("w", "\(b.width)"), ("h", "\(b.height)")], [id + "c"])
                node(
                    [id + "c"], v.animated ? "loop" : "trim",
                    v.animated ? [("loop", v.loop ? "-1" : "0"), ("size", "cached")] : [("end_frame", "1")], [id])
                // Precomputed once per loop frame with the layers under it, then reused.
                node([base, id], "rendc_blend_cached", [("mode", v.blend.rawValue), ("opacity", f(layer.opacity))] + timing, [id + "out"])
                base = id + "out"
                continue
            case .media(let m):
                var imageInputs: [Int] = []
                for img in m.inputs { imageInputs.append(input(img.kind == .clip ? "clip, muted" : "image, decoded once", img.path)) }
                var labels: [String] = []
                for shot in m.shots {
                    for (c, cell) in m.cells.enumerated() {
                        let mo = shot.motions[c]
                        let label = "\(id)s\(shot.index)c\(c)"
                        node(
                            ["\(imageInputs[shot.images[c]]):v"], "rendc_kenburns",
                            [
                                ("fit", cell.fit.rawValue), ("cell", "\(cell.rect)"),
                                ("zoom", "\(f(mo.zoomFrom))-\(f(mo.zoomTo))"),
                                ("center", "\(f(mo.panFrom.x)),\(f(mo.panFrom.y))-\(f(mo.panTo.x)),\(f(mo.panTo.y))"),
                                ("easing", "\(mo.easing)"), ("start_frame", "\(shot.startFrame)"), ("end_frame", "\(shot.endFrame)"),
                            ] + (shot.beat.map { [("beat", f($0))] } ?? []), [label])
                        labels.append(label)
                    }
                }
                node(labels, "concat", [("n", "\(m.shots.count)"), ("v", "\(m.cells.count)"), ("a", "0")], [id + "shots"])
                var shots = id + "shots"
                for t in m.transitions {
                    node(
                        [shots], "xfade",
                        [
                            ("transition", t.kind.rawValue), ("offset", f(Double(t.frames.start) / Double(fps))),
                            ("duration", f(Double(t.frames.count) / Double(fps))),
                        ], [id + "x\(t.from)"])
                    shots = id + "x\(t.from)"
                }
                top = shots
            case .image(let p):
                let i = input("picture, converted once", p.source.path)
                node(
                    ["\(i):v"], "scale",
                    [("w", "\(b.width)"), ("h", "\(b.height)"), ("force_original_aspect_ratio", p.fit == .cover ? "increase" : "decrease")], [id])
            case .text(let t):
                let i = input("text, rendered once by CaptionText", "text\(layer.index).rgba (\(t.box.width)x\(t.box.height))")
                top = "\(i):v"
            case .shape(let s):
                node(
                    [], "rendc_shape",
                    [("shape", s.shape.rawValue), ("s", "\(b.width)x\(b.height)"), ("radius", "\(layer.radius)")]
                        + (s.fill.map { fill -> [(String, String)] in
                            if case .solid(let c) = fill { return [("fill", c.hex)] } else { return [("fill", "gradient")] }
                        } ?? [])
                        + (s.stroke.map { [("stroke", "\($0.color.hex)@\(f($0.width))")] } ?? []), [id])
            case .border(let color, let w):
                node(
                    [base], "drawbox",
                    [
                        ("x", "\(b.x)"), ("y", "\(b.y)"), ("w", "\(b.width)"), ("h", "\(b.height)"), ("color", "0x" + color.hex.dropFirst()),
                        ("t", "\(w)"),
                    ] + timing, [id + "out"])
                base = id + "out"
                continue
            }
            if layer.rotation != 0 || layer.opacity != 1 || !layer.animation.isEmpty || layer.radius > 0 || layer.shadow != nil {
                var args: [(String, String)] = []
                if layer.rotation != 0 { args.append(("rotate", f(layer.rotation))) }
                if layer.opacity != 1 { args.append(("opacity", f(layer.opacity))) }
                if layer.radius > 0 { args.append(("radius", "\(layer.radius)")) }
                if layer.shadow != nil { args.append(("shadow", "1")) }
                for t in layer.animation { args.append(("animate", "\(t.property.rawValue):\(t.source)@\(f(t.keys.first?.time ?? 0))")) }
                node([top], "rendc_transform", args, [id + "t"])
                top = id + "t"
            }
            node([base, top], "overlay", [("x", "\(b.x)"), ("y", "\(b.y)")] + timing, [id + "out"])
            base = id + "out"
        }
        node([base], "format", [("pix_fmts", encoder.pixelFormat)], ["vout"])

        audioNodes = audioGraphNodes(input: input)
        return FilterGraph(inputs: inputs, video: video, audio: audioNodes)
    }

    /// The audio graph exactly as printed (inputs numbered after the video's, output `[aout]`) and the files its
    /// inputs read: what the backend parses and runs.
    public var audioGraph: (text: String, inputs: [(label: String, path: String)]) {
        let g = filterGraph
        let used = Set(g.audio.flatMap(\.inputs))
        let inputs = g.inputs.filter { used.contains("\($0.index):a") }.map { (label: "\($0.index):a", path: $0.path) }
        return (g.audio.map(\.text).joined(separator: ";"), inputs)
    }

    /// A human summary: sizes, timing and the shot list (what `rendc plan` prints above the graph).
    public var summary: String {
        var lines: [String] = []
        lines.append("template: \(template)  quality: \(quality.rawValue)")
        lines.append(
            "output: \(width)x\(height) @ \(fps) fps, \(String(format: "%.3f", duration)) s, \(frameCount) frames, \(encoder.videoCodec) \(encoder.preset) crf \(encoder.crf) \(encoder.pixelFormat) + \(encoder.audioCodec) \(encoder.audioSampleRate) Hz"
        )
        lines.append("cuts: \(cutSource)")
        if let a = audio { lines += a.summary }
        for layer in layers {
            let when =
                layer.visible == [FrameSpan(0, frameCount)]
                ? "" : "  frames " + layer.visible.prefix(4).map(\.description).joined(separator: ", ") + (layer.visible.count > 4 ? ", …" : "")
            var extra = ""
            if layer.rotation != 0 { extra += String(format: "  rotated %.1f°", layer.rotation) }
            if layer.opacity != 1 { extra += String(format: "  opacity %.2f", layer.opacity) }
            if !layer.animation.isEmpty { extra += "  animated: " + Set(layer.animation.map(\.source)).sorted().joined(separator: ", ") }
            let name = layer.part.map { "layer \(layer.templateIndex) (\($0))" } ?? "layer \(layer.index)"
            if case .text(let t) = layer.content, layer.part != nil { extra += "  \"" + String(t.text.prefix(40)) + "\"" }
            lines.append("\(name): \(layer.content.kind) \(layer.box)\(extra)\(when)")
            switch layer.content {
            case .media(let m):
                lines.append(
                    "  \(m.cells.count) cell(s), \(m.shots.count) shots, \(m.transitions.count) transitions\(m.transitions.first.map { " (\($0.kind.rawValue), \($0.frames.count) frames)" } ?? "")"
                )
                for s in m.shots {
                    let beat = s.beat.map { String(format: " on beat %.3f s", $0) } ?? ""
                    let names = s.images.map { URL(fileURLWithPath: m.inputs[$0].path).lastPathComponent }.joined(separator: " + ")
                    lines.append(
                        String(
                            format: "  #%-2d %7.3f–%7.3f s  frames %4d–%4d  %@  zoom %.3f→%.3f%@", s.index, s.start, s.end, s.startFrame,
                            s.endFrame - 1, names, s.motion.zoomFrom, s.motion.zoomTo, beat))
                }
            case .text(let t):
                lines.append("  \(t.text.count) characters, \(Int(t.style.size)) px")
            default:
                break
            }
        }
        if !fields.isEmpty {
            lines.append("fields: " + fields.keys.sorted().map { "\($0) (\(fields[$0]!.count) characters)" }.joined(separator: ", "))
        }
        lines.append(String(format: "thumbnail: frame %d (%.3f s)", thumbnailFrame, thumbnailTime))
        for n in notes { lines.append("note: \(n)") }
        return lines.joined(separator: "\n")
    }
}
