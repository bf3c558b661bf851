import Foundation
internal import Yams

/// Layers: the v2 kinds, and the v1 kinds (`background`, `overlay_video`, `images`, `frame`) read as their v2
/// equivalents so that v1 files keep working unchanged.
extension Reader {
    static let v1Kinds = ["background", "overlay_video", "images", "frame"]

    func layers(_ node: Node, _ path: String, canvas: Canvas) -> [Layer]? {
        guard case .sequence(let seq) = node else {
            error(node, path, "expected a list of layers, got \(describe(node))")
            return nil
        }
        if seq.isEmpty { error(node, path, "a template needs at least one layer") }
        guard within(Template.maximumLayers, seq, node, path, "layers") else { return nil }
        lastMedia = nil
        var result: [Layer] = []
        for (i, item) in seq.enumerated() {
            // Indexes are the template's (as in `layers[i]`), so a layer that does not read keeps its place.
            guard let l = layer(item, "\(path)[\(i)]", canvas: canvas) else { continue }
            if case .media(let m) = l.content { lastMedia = (i, m) }
            result.append(l)
        }
        return result
    }

    /// `cell: N` (from 1): the cell of the last media layer above this one that the layer goes with.
    func cellReference(_ map: MappingReader, _ path: String, type: String) -> CellReference? {
        let placed = ["text", "image", "shape", "border"].contains(type)
        if placed { map.allow("cell") }
        guard let node = map.node("cell") else { return nil }
        _ = map.optional("cell") { _, _ in () }
        guard placed else {
            error(
                node, join(path, "cell"),
                "a \(type) layer cannot go with a card: 'cell' places a text, image, shape or border layer in a media layer's cell")
            return nil
        }
        guard let media = lastMedia else {
            error(node, join(path, "cell"), "'cell' places the layer in a card of a media layer listed above it, and there is none")
            return nil
        }
        let count = media.layer.cellCount
        guard let n = int(node, join(path, "cell"), 1...count, expected: "a cell of layers[\(media.index)] from 1 to \(count)") else { return nil }
        return CellReference(layer: media.index, cell: n - 1)
    }

    /// `follow: card` on a layer that goes with a card (`cell: N`); anywhere else an error at the key, with the reason.
    func follow(_ map: MappingReader, _ path: String, type: String, cell: CellReference?) -> Bool {
        // A valid key (listed with the others) where a layer can go with a card; elsewhere read only to say why not.
        let placed = ["text", "image", "shape", "border"].contains(type)
        if placed { map.allow("follow") }
        guard let node = map.node("follow") else { return false }
        map.allow("follow")
        _ = map.optional("follow") { _, _ in () }
        guard case .scalar(let s) = node, s.string == "card" else {
            error(node, join(path, "follow"), "expected 'card' (the layer moves with the card it is placed in), got \(describe(node))")
            return false
        }
        guard cell != nil else {
            // A 'cell' that is there but wrong has its own error at its value (design14b F2: a second one here said
            // the layer had no 'cell').
            if placed, map.node("cell") != nil { return false }
            let reason =
                placed
                ? "the layer has no 'cell': give it 'cell: N' to place it in a card of the media layer above"
                : "a \(type) layer cannot go with a card (only a text, image, shape or border layer with 'cell: N' can)"
            error(node, join(path, "follow"), "'follow: card' moves a layer with the card it is placed in, and \(reason)")
            return false
        }
        return true
    }

    /// Whether a list stays within its cap; if not, an error at the list. Each layer is prepared as its own picture
    /// (about 11 MB and 0.6 s a full-canvas layer), and YAML aliases can multiply a few lines into millions of
    /// keyframes (review9b: 3.8 KB linted for 18 s and planned a million), so every list a template repeats has one.
    func within(_ limit: Int, _ seq: Node.Sequence, _ node: Node, _ path: String, _ what: String) -> Bool {
        guard seq.count > limit else { return true }
        error(node, path, "at most \(limit) \(what), got \(seq.count)")
        return false
    }

    func layer(_ node: Node, _ path: String, canvas: Canvas) -> Layer? {
        guard let map = mapping(node, path) else { return nil }
        guard let type = map.required("type", { self.oneOf($0, $1, LayerContent.kinds + Reader.v1Kinds) }) else {
            map.abandon()
            return nil
        }
        defer { map.finish() }
        let outerColorFields = colorFields
        colorFields = [:]
        defer { colorFields = outerColorFields }
        // Keys every visual layer has.
        let placement = self.placement(map, path, canvas: canvas, v1Key: type == "images" ? "window" : "box")
        var layer = Layer(.color(.solid(.value(.black))), placement: placement ?? .fullCanvas, line: node.mark?.line ?? 0)
        if let v = map.optional("rotation", { self.number($0, $1, -3600...3600) }) { layer.rotation = v }
        if let v = map.optional("pivot", { self.pivot($0, $1) }) { layer.pivot = v }
        if let v = map.optional("opacity", { self.number($0, $1, 0...1) }) {
            layer.opacity = v
        } else if type == "overlay_video" {
            layer.opacity = 0.7
        }
        if let v = map.optional("radius", { self.int($0, $1, 0...4000) }) { layer.radius = v }
        if type != "text", let v = map.optional("shadow", { self.shadow($0, $1) }) { layer.shadow = v }
        layer.timing = layerTiming(map, path)
        if let v = map.optional("animate", { self.animations($0, $1) }) { layer.animations = v }
        layer.cell = cellReference(map, path, type: type)
        if follow(map, path, type: type, cell: layer.cell) { layer.cell?.follow = true }

        switch type {
        case "color", "background":
            let fill = self.fill(map, path, colorKey: "color", required: type == "color")
            layer.content = .color(fill ?? .solid(.value(Color(r: 5, g: 5, b: 5))))
        case "video", "overlay_video":
            let source = map.required("source", { self.asset($0, $1) })
            let loop = map.optional("loop") { self.bool($0, $1) } ?? true
            let fit = map.optional("fit") { self.enumeration($0, $1, Fit.self) } ?? .cover
            let blend = map.optional("blend") { self.enumeration($0, $1, BlendMode.self) } ?? .normal
            guard let source else { return nil }
            layer.content = .video(VideoLayer(source: source, loop: loop, fit: fit, blend: blend))
        case "media", "images":
            guard let media = media(map, path, canvas: canvas) else { return nil }
            layer.content = .media(media)
        case "image":
            let sourceNode = map.node("source")
            var source: Bindable<AssetRef>?
            if let sourceNode, let name = fieldReference(sourceNode) {
                _ = map.optional("source") { _, _ in () }
                if let f = checkField(name, sourceNode, join(path, "source"), kind: .image) { source = .field(f.name) }
            } else {
                source = map.required("source", { self.asset($0, $1) }).map { .value($0) }
            }
            let fit = map.optional("fit") { self.enumeration($0, $1, Fit.self) } ?? .contain
            guard let source else { return nil }
            layer.content = .image(ImageLayer(source: source, fit: fit))
        case "text":
            let changes = textChanges(map, path, canvas: canvas, box: layer.placement.resolve(in: canvas), timing: layer.timing)
            if changes != nil, let n = map.node("text") {
                error(n, join(path, "text"), "give 'text', or 'steps' / 'counter' for text that changes, not both")
            }
            let text = map.optional("text") { self.templateText($0, $1) } ?? "{{\(Template.captionField)}}"
            if map.node("text") == nil && changes == nil && map.node("steps") == nil && map.node("counter") == nil {
                usedFields.insert(Template.captionField)
            }
            let typed = typeOn(map, path, text: text, other: changes)
            layer.content = .text(TextLayer(text: text, style: textStyle(map, path), changes: typed ?? changes))
        case "shape":
            let shape = map.optional("shape") { self.shapeKind($0, $1) } ?? .rectangle
            var fill = self.fill(map, path, colorKey: "fill", required: false)
            if let fillNode = map.node("fill"), isNullOrFalse(fillNode) {
                fill = nil
            } else if map.node("fill") == nil && map.node("gradient") == nil {
                fill = .solid(.value(.white))
            }
            var stroke: Stroke?
            map.allow("stroke")
            if let strokeNode = map.node("stroke"), !isNullOrFalse(strokeNode) {
                stroke = self.stroke(strokeNode, join(path, "stroke"))
            }
            if shape == .roundedRectangle && layer.radius == 0 { layer.radius = 24 }
            layer.content = .shape(ShapeLayer(shape: shape, fill: fill, stroke: stroke))
        case "border":
            let color = map.required("color") { self.bindableColor($0, $1) }
            let width = map.required("thickness") { self.int($0, $1, 1...(min(canvas.width, canvas.height) / 4)) }
            guard let color, let width else { return nil }
            layer.content = .border(BorderLayer(color: color, width: width))
        case "frame":
            let borderNode = map.node("border")
            let imageNode = map.node("image")
            map.allow("border", "image")
            if borderNode != nil && imageNode != nil {
                error(imageNode, join(path, "image"), "a frame is either a border or an image, not both")
                return nil
            }
            if let imageNode {
                guard let ref = asset(imageNode, join(path, "image")) else { return nil }
                layer.content = .image(ImageLayer(source: .value(ref), fit: .cover))
            } else if let borderNode {
                guard let bmap = mapping(borderNode, join(path, "border")) else { return nil }
                let color = bmap.required("color") { self.bindableColor($0, $1) }
                let width = bmap.required("width") { self.int($0, $1, 1...(min(canvas.width, canvas.height) / 4)) }
                bmap.finish()
                guard let color, let width else { return nil }
                layer.content = .border(BorderLayer(color: color, width: width))
            } else {
                error(node, path, "a frame needs a 'border' or an 'image'")
                return nil
            }
        default:
            return nil
        }
        if placement != nil, layer.animations.isEmpty, layer.rotation == 0, layer.cell == nil {
            let r = layer.placement.resolve(in: canvas)
            let outX = r.x >= canvas.width || r.x + r.width <= 0, outY = r.y >= canvas.height || r.y + r.height <= 0
            if outX || outY {
                let key = outX ? "x" : "y"
                warning(
                    map.node(key) ?? node, join(path, key),
                    "the box (\(r)) lies wholly outside the \(canvas.width)x\(canvas.height) canvas, so the layer never shows (percentages are of the canvas: \"50%\" is its middle)"
                )
            }
        }
        if case .text(let t) = layer.content { warnIfOneLineDoesNotFit(t.style, layer: layer, map, node, path, canvas: canvas) }
        layer.colorFields = colorFields
        return layer
    }

    /// A line of text takes about `TextStyle.approximateLineHeight` × its size (Noto's ascender and descender), so a
    /// box shorter than that draws the text smaller than `size`, while the plan still says `size` (design12: 440 px
    /// in a 480 px box drew at about 352). Warned with the height that keeps the size.
    func warnIfOneLineDoesNotFit(_ style: TextStyle, layer: Layer, _ map: MappingReader, _ node: Node, _ path: String, canvas: Canvas) {
        guard style.shrinkToFit else { return }
        let box = layer.placement.resolve(in: canvas)
        let margins = 2 * Double(style.background?.padding ?? 0) + 2 * (style.stroke?.width ?? 0)
        let needed = style.size * TextStyle.approximateLineHeight + margins
        guard Double(box.height) + 0.5 < needed else { return }
        let fits = max(0, (Double(box.height) - margins) / TextStyle.approximateLineHeight)
        warning(
            map.node("height") ?? map.node("size") ?? node, join(path, map.node("height") != nil ? "height" : "size"),
            "a line at size \(Int(style.size)) needs a box about \(Int(needed.rounded(.up))) px tall (\(TextStyle.approximateLineHeight) × size, plus stroke and padding); this one is \(box.height) px, so the text is drawn at about \(Int(fits)) px"
        )
    }

    /// A shape name; the usual other names (circle, square, rounded) get a hint to the one rendc uses.
    func shapeKind(_ node: Node, _ path: String) -> ShapeKind? {
        let others = [
            "circle": "ellipse (with equal width and height)", "oval": "ellipse", "square": "rectangle (with equal width and height)",
            "rect": "rectangle", "rounded": "rounded_rectangle (corner size from radius)", "capsule": "pill",
        ]
        if case .scalar(let s) = node, let hint = others[s.string.lowercased()] {
            error(
                node, path,
                "expected one of \(ShapeKind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(s.string)': a \(s.string) is shape: \(hint)")
            return nil
        }
        return enumeration(node, path, ShapeKind.self)
    }

    // MARK: Placement and timing

    /// `x`, `y`, `width`, `height`, `anchor`, or one rectangle mapping under `v1Key` (`box`, `window`).
    func placement(_ map: MappingReader, _ path: String, canvas: Canvas, v1Key: String) -> Placement? {
        map.allow("box", "window")
        if let rectNode = map.node("box") ?? map.node("window") {
            let key = map.node("box") != nil ? "box" : "window"
            for k in ["x", "y", "width", "height", "anchor"] where map.node(k) != nil {
                error(map.node(k), join(path, k), "give the position either as '\(key)' or as x/y/width/height, not both")
            }
            map.allow("x", "y", "width", "height", "anchor")
            return rect(rectNode, join(path, key), canvas: canvas).map(Placement.init)
        }
        var p = Placement()
        if let v = map.optional("width", { self.length($0, $1, extent: canvas.width, positive: true) }) { p.width = v }
        if let v = map.optional("height", { self.length($0, $1, extent: canvas.height, positive: true) }) { p.height = v }
        if let v = map.optional("x", { self.coordinate($0, $1, extent: canvas.width) }) { p.x = v }
        if let v = map.optional("y", { self.coordinate($0, $1, extent: canvas.height) }) { p.y = v }
        if let v = map.optional("anchor", { self.enumeration($0, $1, Anchor.self) }) { p.anchor = v }
        return p
    }

    /// `{x, y, width, height}`; `x`/`y` may be `center`. The rectangle must lie on the canvas (v1 boxes).
    func rect(_ node: Node, _ path: String, canvas: Canvas) -> Rect? {
        guard let map = mapping(node, path) else { return nil }
        let width = map.required("width") { self.int($0, $1, 2...canvas.width) }
        let height = map.required("height") { self.int($0, $1, 2...canvas.height) }
        let xNode = map.node("x"), yNode = map.node("y")
        func coord(_ node: Node, _ path: String, size: Int?, extent: Int) -> Int? {
            if let s = node.scalar?.string, s == "center" || s == "centre" { return (extent - (size ?? extent)) / 2 }
            return int(node, path, 0...extent, expected: "a whole number of pixels or 'center'")
        }
        let x = map.optional("x") { coord($0, $1, size: width, extent: canvas.width) } ?? 0
        let y = map.optional("y") { coord($0, $1, size: height, extent: canvas.height) } ?? 0
        map.finish()
        guard let width, let height else { return nil }
        let r = Rect(x: x, y: y, width: width, height: height)
        if r.x + r.width > canvas.width {
            error(xNode ?? node, join(path, "x"), "the box (\(r)) runs past the canvas's right edge (\(canvas.width) px)")
            return nil
        }
        if r.y + r.height > canvas.height {
            error(yNode ?? node, join(path, "y"), "the box (\(r)) runs past the canvas's bottom edge (\(canvas.height) px)")
            return nil
        }
        return r
    }

    /// A number as written, in pixels (`120`, `"120px"`) or a percentage (`"50%"`), with its text; otherwise an
    /// error saying `expected`.
    func pixelsOrPercent(_ node: Node, _ path: String, _ expected: String) -> (Double, Bool, String)? {
        guard case .scalar(let s) = node else {
            error(node, path, "\(expected), got \(describe(node))")
            return nil
        }
        var text = s.string.trimmingCharacters(in: .whitespaces)
        var percent = false
        if text.hasSuffix("%") { percent = true; text.removeLast() } else if text.hasSuffix("px") { text.removeLast(2) }
        guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite else {
            error(node, path, "\(expected), got \(describe(node))")
            return nil
        }
        return (v, percent, s.string)
    }

    /// Pixels (`120`, `"120px"`) or a percentage of the canvas (`"50%"`).
    func length(_ node: Node, _ path: String, extent: Int, positive: Bool = false) -> Length? {
        let expected =
            positive
            ? "a size in pixels (e.g. 300) or a percentage of the canvas (e.g. \"50%\")"
            : "a position in pixels, a percentage of the canvas or 'center'"
        guard let written = pixelsOrPercent(node, path, "expected \(expected)") else { return nil }
        let (v, percent, s) = written
        let limit = percent ? 400.0 : Double(extent * 4)
        let range = positive ? (percent ? 0.1 : 1)...limit : -limit...limit
        guard range.contains(v) else {
            error(node, path, "expected \(expected) from \(fmt(range.lowerBound)) to \(fmt(range.upperBound))\(percent ? "%" : ""), got \(s)")
            return nil
        }
        return percent ? .percent(v) : .pixels(v)
    }

    func coordinate(_ node: Node, _ path: String, extent: Int) -> Placement.Coordinate? {
        if let s = node.scalar?.string, s == "center" || s == "centre" { return .center }
        return length(node, path, extent: extent).map { .length($0) }
    }

    func pivot(_ node: Node, _ path: String) -> (x: Length, y: Length)? {
        guard let map = mapping(node, path) else { return nil }
        let x = map.required("x") { self.length($0, $1, extent: 10_000) }
        let y = map.required("y") { self.length($0, $1, extent: 10_000) }
        map.finish()
        guard let x, let y else { return nil }
        return (x, y)
    }

    func layerTiming(_ map: MappingReader, _ path: String) -> LayerTiming {
        var t = LayerTiming()
        t.start = map.optional("start") { self.timePoint($0, $1, negative: false) }
        t.end = map.optional("end") { self.timePoint($0, $1, negative: true) }
        t.duration = map.optional("duration") { self.timePoint($0, $1, negative: false) }
        t.perShot = map.optional("per_shot") { self.bool($0, $1) } ?? false
        if t.end != nil && t.duration != nil {
            error(map.node("duration"), join(path, "duration"), "give 'end' or 'duration', not both")
        }
        if let d = t.duration, d == .seconds(0) || d == .beats(0) {
            error(map.node("duration"), join(path, "duration"), "must be above 0 (a layer shown for no time never shows)")
        }
        // An end before the start in the same unit: the layer would never show (a negative end counts from the
        // video's end, so it is checked only against the length, in the planner).
        let start = t.start ?? .seconds(0)
        var never: (start: String, end: String)?
        switch (start, t.end) {
        case (.seconds(let a), .seconds(let b)) where b >= 0 && b <= a: never = ("\(fmt(a)) s", "\(fmt(b)) s")
        case (.beats(let a), .beats(let b)) where b <= a: never = ("beat \(fmt(a))", "beat \(fmt(b))")
        default: break
        }
        if let never {
            error(
                map.node("end"), join(path, "end"),
                "ends at \(never.end), not after it starts at \(never.start): the layer would never show (for a length, write 'duration')")
        }
        return t
    }

    /// Seconds (`2`, `"2s"`, negative counts back from the end) or beats (`"4 beats"`, `"4b"`).
    func timePoint(_ node: Node, _ path: String, negative: Bool) -> TimePoint? {
        let expected = "seconds (e.g. 0.5\(negative ? ", or -1 for a second before the end" : "")) or beats (e.g. \"4 beats\")"
        guard case .scalar(let s) = node else {
            error(node, path, "expected \(expected), got \(describe(node))")
            return nil
        }
        let text = s.string.trimmingCharacters(in: .whitespaces).lowercased()
        var number = text
        var beats = false
        for suffix in ["beats", "beat", "b"] where text.hasSuffix(suffix) {
            number = String(text.dropLast(suffix.count)); beats = true; break
        }
        if !beats && text.hasSuffix("s") { number = String(text.dropLast()) }
        guard let v = Double(number.trimmingCharacters(in: .whitespaces)), v.isFinite, abs(v) <= 3600, negative || v >= 0, !(beats && v < 0) else {
            // "-2 beats": a negative time counts back from the end in seconds only (trial15 F7).
            let backInBeats = beats && negative && (Double(number.trimmingCharacters(in: .whitespaces)) ?? 0) < 0
            let why = backInBeats ? " (counting back from the end is in seconds only: e.g. -1 for a second before the end)" : ""
            error(node, path, "expected \(expected), got \(describe(node))\(why)")
            return nil
        }
        return beats ? .beats(v) : .seconds(v)
    }

    // MARK: Animation

    func animations(_ node: Node, _ path: String) -> [Animation]? {
        guard case .sequence(let seq) = node else {
            error(node, path, "expected a list of animations (- preset: fade_in ...), got \(describe(node))")
            return nil
        }
        guard within(Template.maximumAnimations, seq, node, path, "animations on a layer") else { return nil }
        return seq.enumerated().compactMap { animation($0.element, "\(path)[\($0.offset)]") }
    }

    static let presets = ["fade_in", "fade_out", "slide_in", "slide_out", "pop", "pulse"]

    /// The preset `name` (one of `presets`), each option nil for its default, and a preset's default duration: one
    /// place for both the short form (`- fade_in`) and the mapping form.
    static func preset(_ name: String, from: Side? = nil, to: Side? = nil, amount: Double? = nil) -> AnimationPreset {
        switch name {
        case "fade_in": .fadeIn
        case "fade_out": .fadeOut
        case "slide_in": .slideIn(from: from ?? .bottom)
        case "slide_out": .slideOut(to: to ?? .bottom)
        case "pop": .pop
        default: .pulse(amount: amount ?? 0.08)
        }
    }

    static func defaultDuration(preset name: String) -> Double { name == "pulse" ? 0.25 : 0.4 }

    func animation(_ node: Node, _ path: String) -> Animation? {
        // `- fade_in`: a preset with its defaults.
        if case .scalar(let s) = node, Reader.presets.contains(s.string) {
            return .preset(Reader.preset(s.string), duration: Reader.defaultDuration(preset: s.string), delay: 0, easing: nil)
        }
        if case .scalar(let s) = node, !isNull(node) {
            var message = "expected a preset (e.g. - fade_in, or - { preset: slide_in, from: left }) or keyframes, got \(describe(node))"
            if let near = suggestion(s.string, Reader.presets) { message += " (did you mean '\(near)'?)" }
            error(node, path, message + "; presets: \(Reader.presets.joined(separator: ", "))")
            return nil
        }
        guard let map = mapping(node, path) else { return nil }
        defer { map.finish() }
        if let kf = map.node("keyframes") {
            _ = map.optional("keyframes") { _, _ in () }
            if map.node("preset") != nil { error(map.node("preset"), join(path, "preset"), "an animation is a preset or keyframes, not both") }
            map.allow("preset")
            let frames = keyframes(kf, join(path, "keyframes"))
            guard let again = keyframeRepeat(map, path, frames: frames) else { return nil }
            return frames.map { f in again.map { .repeatingKeyframes(f, $0) } ?? .keyframes(f) }
        }
        guard let name = map.required("preset", { self.oneOf($0, $1, Reader.presets) }) else {
            map.abandon()
            return nil
        }
        let duration = map.optional("duration") { self.number($0, $1, 0.01...60) } ?? Reader.defaultDuration(preset: name)
        let delay = map.optional("delay") { self.number($0, $1, 0...600) } ?? 0
        let easing = map.optional("easing") { self.easing($0, $1) }
        // Each option is read only for its preset, so another preset's key is reported as unknown.
        var preset = Reader.preset(
            name, from: name == "slide_in" ? map.optional("from") { self.enumeration($0, $1, Side.self) } : nil,
            to: name == "slide_out" ? map.optional("to") { self.enumeration($0, $1, Side.self) } : nil,
            amount: name == "pulse" ? map.optional("amount") { self.number($0, $1, 0.001...2) } : nil)
        switch preset {
        case .slideIn(let side, _):
            preset = .slideIn(from: side, distance: map.optional("distance") { self.slideDistance($0, $1) })
        case .slideOut(let side, _):
            preset = .slideOut(to: side, distance: map.optional("distance") { self.slideDistance($0, $1) })
        default: break
        }
        guard let again = presetRepeat(map, path, name: name) else { return nil }
        return .preset(preset, duration: duration, delay: delay, easing: easing, again: again)
    }

    /// Presets that may play again: an entrance (`fade_in`, `slide_in`, `pop`) repeats from the layer's start. A
    /// preset at the layer's end has no time after it to repeat in, and `pulse` already repeats on every beat.
    static let repeatablePresets = ["fade_in", "slide_in", "pop"]

    /// `repeat`/`yoyo` on a preset: as on keyframes for the presets that can repeat, an error at the key for the others.
    func presetRepeat(_ map: MappingReader, _ path: String, name: String) -> KeyframeRepeat?? {
        if Reader.repeatablePresets.contains(name) { return keyframeRepeat(map, path, frames: nil) }
        map.allow("repeat", "yoyo")
        guard let key = ["repeat", "yoyo"].first(where: { map.node($0) != nil }) else { return .some(nil) }
        let why =
            name == "pulse"
            ? "'pulse' already plays on every beat (every 0.5 s without beats), so it takes no '\(key)'; for a pulse on its own clock, write keyframes with 'repeat'"
            : "'\(name)' plays once, at the layer's end, so it takes no '\(key)'; 'repeat' works on fade_in, slide_in and pop, or on keyframes"
        error(map.node(key), join(path, key), why)
        return nil
    }

    /// How far a slide travels: pixels (`80`, `"80px"`) or a percentage of the box's size along the slide (`"20%"`).
    func slideDistance(_ node: Node, _ path: String) -> Length? {
        let expected = "pixels (e.g. 80) or a percentage of the box's size along the slide (e.g. \"20%\")"
        guard let written = pixelsOrPercent(node, path, "expected \(expected)") else { return nil }
        let (v, percent, s) = written
        let range = percent ? 1.0...400 : 1.0...10_000
        guard range.contains(v) else {
            error(
                node, path, "expected \(expected) from \(fmt(range.lowerBound)) to \(fmt(range.upperBound))\(percent ? "%" : " px"), got \(s)")
            return nil
        }
        return percent ? .percent(v) : .pixels(v)
    }

    func keyframes(_ node: Node, _ path: String) -> [Keyframe]? {
        guard case .sequence(let seq) = node, seq.count >= 2 else {
            error(node, path, "expected a list of at least two keyframes (- { t: 0, opacity: 0 }), got \(describe(node))")
            return nil
        }
        guard within(Template.maximumKeyframes, seq, node, path, "keyframes in an animation") else { return nil }
        var result: [Keyframe] = []
        for (i, item) in seq.enumerated() {
            let p = "\(path)[\(i)]"
            guard let map = mapping(item, p) else { continue }
            let t = map.required("t") { self.number($0, $1, 0...600) }
            var k = Keyframe(time: t ?? 0)
            k.x = map.optional("x") { self.length($0, $1, extent: 10_000) }
            k.y = map.optional("y") { self.length($0, $1, extent: 10_000) }
            k.scale = map.optional("scale") { self.number($0, $1, 0...20) }
            k.scaleX = map.optional("scale_x") { self.number($0, $1, 0...20) }
            k.scaleY = map.optional("scale_y") { self.number($0, $1, 0...20) }
            k.rotation = map.optional("rotation") { self.number($0, $1, -3600...3600) }
            k.opacity = map.optional("opacity") { self.number($0, $1, 0...1) }
            k.easing = map.optional("easing") { self.easing($0, $1) } ?? .linear
            map.finish()
            if let last = result.last, t != nil, k.time < last.time {
                error(map.node("t"), join(p, "t"), "keyframes must be in time order (\(fmt(k.time)) comes after \(fmt(last.time)))")
            }
            result.append(k)
        }
        return result
    }

    /// `linear`, `ease_in`, `ease_out`, `ease_in_out`, `cubic_bezier(x1, y1, x2, y2)` or `[x1, y1, x2, y2]`.
    func easing(_ node: Node, _ path: String) -> Easing? {
        var numbers: [Node] = []
        if case .sequence(let seq) = node {
            numbers = Array(seq)
        } else if let s = node.scalar?.string {
            switch s {
            case "linear": return .linear
            case "ease_in": return .easeIn
            case "ease_out": return .easeOut
            case "ease_in_out": return .easeInOut
            default:
                for prefix in ["cubic_bezier(", "cubic-bezier("] where s.hasPrefix(prefix) && s.hasSuffix(")") {
                    let inner = s.dropFirst(prefix.count).dropLast()
                    let parts = inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    let values = parts.compactMap(Double.init)
                    if values.count == 4, parts.count == 4 {
                        // The same range as the list form: `nan`, `inf` or `1e300` would reach the renderer.
                        guard values.allSatisfy({ $0.isFinite && (-10...10).contains($0) }) else {
                            error(node, path, "a cubic Bézier's numbers must be finite and lie from -10 to 10, got \(describe(node))")
                            return nil
                        }
                        return bezier(values, node, path)
                    }
                }
            }
        }
        if numbers.count == 4 {
            let values = numbers.enumerated().compactMap { number($0.element, "\(path)[\($0.offset)]", -10...10) }
            return values.count == 4 ? bezier(values, node, path) : nil
        }
        var message =
            "expected one of \(Easing.names.dropLast().joined(separator: ", ")), cubic_bezier(x1, y1, x2, y2) or [x1, y1, x2, y2], got \(describe(node))"
        if let s = node.scalar?.string, let near = suggestion(s, Array(Easing.names.dropLast())) { message += " (did you mean '\(near)'?)" }
        error(node, path, message)
        return nil
    }

    private func bezier(_ v: [Double], _ node: Node, _ path: String) -> Easing? {
        guard v.allSatisfy(\.isFinite), (0...1).contains(v[0]), (0...1).contains(v[2]) else {
            error(node, path, "a cubic Bézier's x1 and x2 must lie from 0 to 1")
            return nil
        }
        return .cubicBezier(v[0], v[1], v[2], v[3])
    }

    // MARK: Content

    func fill(_ map: MappingReader, _ path: String, colorKey: String, required: Bool) -> Fill? {
        map.allow(colorKey, "gradient")
        let colorNode = map.node(colorKey), gradientNode = map.node("gradient")
        if colorNode != nil && gradientNode != nil {
            error(gradientNode, join(path, "gradient"), "give '\(colorKey)' or 'gradient', not both")
            return nil
        }
        if let gradientNode { return gradient(gradientNode, join(path, "gradient")) }
        if let colorNode {
            if isNullOrFalse(colorNode) && colorKey == "fill" { return nil }
            return bindableColor(colorNode, join(path, colorKey)).map { .solid($0) }
        }
        if required { error(map.node, join(path, colorKey), "is required (or give a 'gradient')") }
        return nil
    }

    func gradient(_ node: Node, _ path: String) -> Fill? {
        guard let map = mapping(node, path) else { return nil }
        let kind = map.optional("type") { self.oneOf($0, $1, ["linear", "radial"]) } ?? "linear"
        let angle = map.optional("angle") { self.number($0, $1, -360...360) } ?? 180
        let stops = map.required("stops") { self.stops($0, $1) }
        map.finish()
        guard let stops else { return nil }
        return kind == "radial" ? .radial(stops: stops) : .linear(angle: angle, stops: stops)
    }

    /// `["#000", "#FFF"]` (evenly spaced) or `[{color: "#000", at: 0}, ...]`.
    func stops(_ node: Node, _ path: String) -> [GradientStop]? {
        guard case .sequence(let seq) = node, seq.count >= 2 else {
            error(node, path, "expected a list of at least two colours, got \(describe(node))")
            return nil
        }
        guard within(Template.maximumStops, seq, node, path, "gradient stops") else { return nil }
        var result: [GradientStop] = []
        for (i, item) in seq.enumerated() {
            let p = "\(path)[\(i)]"
            let even = Double(i) / Double(seq.count - 1)
            if case .mapping = item, let map = mapping(item, p) {
                let c = map.required("color") { self.slotColor($0, $1, .stop(i)) }
                let at = map.optional("at") { self.number($0, $1, 0...1) } ?? even
                map.finish()
                if let c { result.append(GradientStop(color: c, position: at)) }
            } else if let c = slotColor(item, p, .stop(i)) {
                result.append(GradientStop(color: c, position: even))
            }
        }
        return result.count == seq.count ? result.sorted { $0.position < $1.position } : nil
    }

    func media(_ map: MappingReader, _ path: String, canvas: Canvas) -> MediaLayer? {
        var m = MediaLayer()
        // A layout or grid that failed to read has its own error; checks that depend on the cell count are then skipped
        // (design14b F6: a bad 'grid.columns' made 'stagger' say "the single layout has one cell").
        var layoutRead = true
        if let v = map.optional("layout", { self.enumeration($0, $1, MediaLayout.self) }) {
            m.layout = v
        } else if map.node("layout") != nil {
            layoutRead = false
        }
        map.allow("grid")
        if let gridNode = map.node("grid") {
            if map.node("layout") != nil && m.layout != .grid {
                error(gridNode, join(path, "grid"), "'grid' sets the columns and rows of the grid layout, not of \(m.layout.rawValue)")
            }
            if let g = map.optional("grid", { self.gridSize($0, $1) }) {
                m.layout = .grid
                m.grid = g
            } else {
                layoutRead = false
            }
        }
        if let v = map.optional("gap", { self.int($0, $1, 0...2000) }) { m.gap = v }
        if let v = map.optional("cell_radius", { self.int($0, $1, 0...2000) }) { m.cellRadius = v }
        m.style = cellStyle(map, path, base: CellStyle())
        if let v = map.optional("adjust", { self.adjustments($0, $1) }) { m.adjust = v }
        if let v = map.optional("transition", { self.transition($0, $1) }) { m.transition = v }
        if let v = map.optional("stagger", { self.seconds($0, $1, 0...10) }) {
            m.stagger = v
            if layoutRead && m.cellCount < 2 && v > 0 {
                error(
                    map.node("stagger"), join(path, "stagger"),
                    "the \(m.layout == .grid ? "1x1 grid" : "single layout") has one cell: stagger needs side_by_side, stacked or grid")
            }
        }
        // Listed as valid keys (for an unknown key's message) even when this layer does not use them.
        map.allow("cells")
        if let cellsNode = map.node("cells") {
            _ = map.optional("cells") { _, _ in () }
            guard case .sequence(let seq) = cellsNode else {
                error(cellsNode, join(path, "cells"), "expected a list of cell styles, got \(describe(cellsNode))")
                return m
            }
            if seq.count > m.cellCount {
                let layout = m.layout == .grid ? "\(m.grid.columns)x\(m.grid.rows) grid" : "\(m.layout.rawValue) layout"
                error(cellsNode, join(path, "cells"), "the \(layout) has \(m.cellCount) cell(s), got \(seq.count) cell styles")
            }
            for (i, item) in seq.enumerated() {
                guard let cmap = mapping(item, join(path, "cells") + "[\(i)]") else { continue }
                var style = cellStyle(cmap, join(path, "cells") + "[\(i)]", base: m.style)
                style.delay = cmap.optional("delay") { self.seconds($0, $1, 0...60) }
                m.cells.append(style)
                cmap.finish()
            }
        }
        return m
    }

    /// `grid: {columns, rows}`, each from 1 to `MediaLayer.maximumGridSide`.
    func gridSize(_ node: Node, _ path: String) -> (columns: Int, rows: Int)? {
        guard let map = mapping(node, path) else { return nil }
        let side = 1...MediaLayer.maximumGridSide
        let columns = map.required("columns") { self.int($0, $1, side) }
        let rows = map.required("rows") { self.int($0, $1, side) }
        map.finish()
        guard let columns, let rows else { return nil }
        return (columns, rows)
    }

    func cellStyle(_ map: MappingReader, _ path: String, base: CellStyle) -> CellStyle {
        var s = base
        map.allow("fill", "ken_burns")
        if let v = map.optional("fit", { self.enumeration($0, $1, Fit.self) }) { s.fit = v }
        if let fillNode = map.node("fill") {
            _ = map.optional("fill") { _, _ in () }
            if let name = fillNode.scalar?.string, name == "blur" {
                s.fill = .blur
            } else if isNullOrFalse(fillNode) || fillNode.scalar?.string == "none" {
                s.fill = .none
            } else if let c = color(fillNode, join(path, "fill")) {
                s.fill = .color(c)
            }
        }
        if let kbNode = map.node("ken_burns") {
            s.kenBurns = map.optional("ken_burns") { self.kenBurns($0, $1) } ?? (isNullOrFalse(kbNode) ? nil : s.kenBurns)
        }
        return s
    }

    func kenBurns(_ node: Node, _ path: String) -> KenBurns? {
        if isNullOrFalse(node) { return nil }
        guard let map = mapping(node, path) else { return nil }
        var k = KenBurns()
        if let v = map.optional("start_zoom", { self.number($0, $1, 1...3) }) { k.startZoom = v }
        if let v = map.optional("end_zoom", { self.number($0, $1, 1...3) }) { k.endZoom = v }
        if let v = map.optional("pan_from", { self.unitPoint($0, $1) }) { k.panFrom = v }
        if let v = map.optional("pan_to", { self.unitPoint($0, $1) }) { k.panTo = v }
        if let v = map.optional("easing", { self.easing($0, $1) }) { k.easing = v }
        if let v = map.optional("alternate", { self.bool($0, $1) }) { k.alternate = v }
        map.finish()
        return k
    }

    func unitPoint(_ node: Node, _ path: String) -> UnitPoint? {
        if let s = node.scalar?.string, s == "center" || s == "centre" { return .center }
        guard case .sequence(let seq) = node, seq.count == 2 else {
            error(node, path, "expected [x, y] as fractions of the image (e.g. [0.5, 0.4]) or 'center', got \(describe(node))")
            return nil
        }
        let items = Array(seq)
        guard let x = number(items[0], path + "[0]", 0...1), let y = number(items[1], path + "[1]", 0...1) else { return nil }
        return UnitPoint(x: x, y: y)
    }

    func adjustments(_ node: Node, _ path: String) -> Adjustments? {
        guard let map = mapping(node, path) else { return nil }
        var a = Adjustments()
        if let v = map.optional("brightness", { self.number($0, $1, -1...1) }) { a.brightness = v }
        if let v = map.optional("contrast", { self.number($0, $1, 0...3) }) { a.contrast = v }
        if let v = map.optional("saturation", { self.number($0, $1, 0...3) }) { a.saturation = v }
        map.finish()
        return a
    }

    func transition(_ node: Node, _ path: String) -> Transition? {
        if let s = node.scalar?.string, TransitionKind(rawValue: s) != nil || isNull(node) {
            let kind = TransitionKind(rawValue: s) ?? .cut
            return Transition(kind: kind, duration: kind == .cut ? 0 : 0.4)
        }
        if case .scalar = node {
            _ = enumeration(node, path, TransitionKind.self)
            return nil
        }
        guard let map = mapping(node, path) else { return nil }
        let kind = map.required("type") { self.enumeration($0, $1, TransitionKind.self) } ?? .cut
        let duration = map.optional("duration") { self.number($0, $1, 0...5) } ?? (kind == .cut ? 0 : 0.4)
        map.finish()
        return Transition(kind: kind, duration: kind == .cut ? 0 : duration)
    }

    /// Text with `{{field}}` placeholders; each must name a declared text field (or `caption`).
    func templateText(_ node: Node, _ path: String) -> String? {
        guard let text = string(node, path, allowEmpty: true) else { return nil }
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                error(node, path, "'{{' without a closing '}}'")
                return nil
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            _ = checkField(name, node, path, kind: .text)
            rest = rest[close.upperBound...]
        }
        return text
    }

    func asset(_ node: Node, _ path: String) -> AssetRef? {
        guard let s = string(node, path) else { return nil }
        if s.hasPrefix("builtin:") {
            let name = String(s.dropFirst("builtin:".count))
            guard name.range(of: #"^[a-z0-9][a-z0-9-]*$"#, options: .regularExpression) != nil else {
                error(node, path, "'\(s)' is not a built-in asset name (lowercase letters, digits and '-')")
                return nil
            }
            if let known = options.builtinAssets, !known.contains(name) {
                var message = "no built-in asset named '\(name)'"
                if let near = suggestion(name, Array(known)) { message += " (did you mean 'builtin:\(near)'?)" }
                error(node, path, message + "; built-in assets: \(known.sorted().joined(separator: ", "))")
                return nil
            }
            return .builtin(name)
        }
        if s.isEmpty || s.contains("\0") {
            error(node, path, "expected a file path or builtin:NAME")
            return nil
        }
        checkFileExists(s, node, path)
        return .file(s)
    }

    func checkFileExists(_ file: String, _ node: Node, _ path: String) {
        if options.confineFiles, file.hasPrefix("/") || file.split(separator: "/").contains("..") {
            error(node, path, "file '\(file)' is outside the template's folder: here a template may name built-in assets and files beside it only")
            return
        }
        guard options.checkFiles, file.hasPrefix("/") || directory != nil else { return }
        let full = file.hasPrefix("/") ? file : ((directory ?? ".") as NSString).appendingPathComponent(file)
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) || isDirectory.boolValue {
            error(node, path, "file '\(file)' not found (paths are relative to the template's folder)")
        }
    }

    // MARK: Text style

    /// Text style keys live directly in the text layer's mapping.
    func textStyle(_ map: MappingReader, _ path: String) -> TextStyle {
        var s = TextStyle()
        if let v = map.optional("font", { self.font($0, $1) }) { s.font = v }
        if let v = map.optional("size", { self.pixels($0, $1, 4...1000) }) { s.size = v }
        let minNode = map.node("min_size")
        if let v = map.optional("min_size", { self.pixels($0, $1, 4...1000) }) { s.minSize = v } else { s.minSize = min(s.minSize, s.size) }
        if let v = map.optional("color", { self.slotColor($0, $1, .text) }) { s.color = v }
        map.allow("stroke", "background", "shadow")
        if let strokeNode = map.node("stroke") {
            s.stroke = isNullOrFalse(strokeNode) ? nil : stroke(strokeNode, join(path, "stroke"))
        }
        if let n = map.node("background"), !isNullOrFalse(n) { s.background = captionBackground(n, join(path, "background")) }
        if let n = map.node("shadow"), !isNullOrFalse(n) { s.shadow = shadow(n, join(path, "shadow")) }
        if let v = map.optional("align", { self.enumeration($0, $1, TextAlign.self) }) { s.align = v }
        if let v = map.optional("vertical_align", { self.enumeration($0, $1, VerticalAlign.self) }) { s.verticalAlign = v }
        if let v = map.optional("max_lines", { self.int($0, $1, 1...20) }) { s.maxLines = v }
        if let v = map.optional("wrap", { self.enumeration($0, $1, WrapMode.self) }) { s.wrap = v }
        if let v = map.optional("line_spacing", { self.number($0, $1, 0.5...4) }) { s.lineSpacing = v }
        if let v = map.optional("shrink_to_fit", { self.bool($0, $1) }) { s.shrinkToFit = v }
        if let v = map.optional("ellipsis", { self.bool($0, $1) }) { s.ellipsis = v }
        if let v = map.optional("decoration", { self.enumeration($0, $1, TextDecoration.self) }) { s.decoration = v }
        if let v = map.optional("letter_spacing", { self.letterSpacing($0, $1, size: s.size) }) { s.letterSpacing = v }
        if s.minSize > s.size {
            error(minNode, join(path, "min_size"), "must not be larger than size (\(fmt(s.minSize)) > \(fmt(s.size)))")
        }
        return s
    }

    /// Letter spacing as pixels at the text's `size` (`4`, `"4px"`) or a percentage of it (`"10%"`), returned in em.
    func letterSpacing(_ node: Node, _ path: String, size: Double) -> Double? {
        let expected = "expected pixels at the text's size (e.g. 4) or a percentage of it (e.g. \"10%\"), from -50% to 200% of the size"
        guard let written = pixelsOrPercent(node, path, expected) else { return nil }
        let (v, percent, _) = written
        let em = percent ? v / 100 : v / size
        guard (-0.5...2).contains(em) else {
            error(node, path, "\(expected), got \(describe(node)) (\(fmt((em * 1000).rounded() / 10))% of \(fmt(size)) px)")
            return nil
        }
        return em
    }

    /// A number of pixels, `80` or `"80px"` (as positions and sizes are written).
    func pixels(_ node: Node, _ path: String, _ range: ClosedRange<Double>) -> Double? {
        if case .scalar(let s) = node, s.string.hasSuffix("px"), let v = Double(s.string.dropLast(2).trimmingCharacters(in: .whitespaces)) {
            guard v.isFinite, range.contains(v) else {
                error(node, path, "expected a number of pixels from \(fmt(range.lowerBound)) to \(fmt(range.upperBound)), got \(describe(node))")
                return nil
            }
            return v
        }
        return number(node, path, range)
    }

    func font(_ node: Node, _ path: String) -> FontSpec? {
        guard let map = mapping(node, path) else { return nil }
        var f = FontSpec()
        let familyNode = map.node("family")
        if let v = map.optional("family", { self.string($0, $1) }) { f.family = v }
        if let v = map.optional("weight", { self.enumeration($0, $1, FontWeight.self) }) { f.weight = v }
        if let v = map.optional("style", { self.oneOf($0, $1, ["normal", "italic"]) }) { f.italic = v == "italic" }
        if let familyNode, map.node("file") == nil, let fonts = options.fontFamilies, !fonts.exists(f.family) {
            var message = "no font family '\(f.family)' is installed"
            if let near = suggestion(f.family, fonts.names) { message += " (did you mean '\(near)'?)" }
            error(
                familyNode, join(path, "family"), message + "; sans, serif or an installed family (`fc-list : family` lists them), or give font.file")
        }
        if let fileNode = map.node("file"), let v = map.optional("file", { self.string($0, $1) }) {
            checkFileExists(v, fileNode, join(path, "file"))
            f.file = v
        }
        map.finish()
        return f
    }

    func stroke(_ node: Node, _ path: String) -> Stroke? {
        guard let map = mapping(node, path) else { return nil }
        let color = map.optional("color") { self.slotColor($0, $1, .stroke) } ?? .black
        let width = map.optional("width") { self.number($0, $1, 0...50) } ?? 2
        map.finish()
        return Stroke(color: color, width: width)
    }

    func captionBackground(_ node: Node, _ path: String) -> CaptionBackground? {
        guard let map = mapping(node, path) else { return nil }
        let color = map.required("color") { self.slotColor($0, $1, .background) }
        let padding = map.optional("padding") { self.int($0, $1, 0...500) } ?? 16
        let radius = map.optional("radius") { self.int($0, $1, 0...500) } ?? 0
        map.finish()
        guard let color else { return nil }
        return CaptionBackground(color: color, padding: padding, radius: radius)
    }

    func shadow(_ node: Node, _ path: String) -> Shadow? {
        guard let map = mapping(node, path) else { return nil }
        let color = map.optional("color") { self.slotColor($0, $1, .shadow) } ?? Color(r: 0, g: 0, b: 0, a: 160)
        let dx = map.optional("offset_x") { self.int($0, $1, -200...200) } ?? 0
        let dy = map.optional("offset_y") { self.int($0, $1, -200...200) } ?? 4
        let blur = map.optional("blur") { self.int($0, $1, 0...100) } ?? 8
        map.finish()
        return Shadow(color: color, offsetX: dx, offsetY: dy, blur: blur)
    }
}
