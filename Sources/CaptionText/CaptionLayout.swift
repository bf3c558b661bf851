import SpecLang

/// Where every line goes, at which size: the pure part of a render (no FreeType), computed from shaped
/// advances in em so that trying another size costs only a re-break of the lines.
struct CaptionLayout {
    struct Placed {
        var line: LineBreaking.Line
        /// Pen position of the line's left edge and its baseline, in pixels.
        var x: Double
        var baseline: Double
    }

    var size: Double
    var strokeRadius: Double
    var lines: [Placed]
    var truncated: Bool
    /// The text block (line boxes), for the background box.
    var blockRect: (x0: Double, y0: Double, x1: Double, y1: Double)?

    /// Geometry at one size.
    private struct Frame {
        var maxWidthEm: Double
        var maxLines: Int
        var strokeRadius: Double
    }

    static func plan(
        paragraphs: [ShapedParagraph], ellipsis: ShapedParagraph, style: TextStyle, width: Int, height: Int,
        ascender: Double, descender: Double, blockLines: Int = 0
    ) -> CaptionLayout {
        let pad = Double(style.background?.padding ?? 0)
        let strokeWidth = style.stroke?.width ?? 0
        let inkEm = max(0.5, ascender + descender)
        // Room for the shadow on both sides, so it is not clipped by the box edge and centring is unchanged.
        let shadowX = style.shadow.map { Double(abs($0.offsetX)) + Double($0.blur) / 2 } ?? 0
        let shadowY = style.shadow.map { Double(abs($0.offsetY)) + Double($0.blur) / 2 } ?? 0

        func frame(_ size: Double) -> Frame {
            let stroke = strokeWidth * size / style.size
            let availW = Double(width) - 2 * (pad + stroke + shadowX)
            let availH = Double(height) - 2 * (pad + stroke + shadowY)
            let lineH = size * style.lineSpacing
            let ink = inkEm * size
            let bySpace = availH + 1e-6 >= ink ? Int(((availH - ink) / lineH + 1e-6).rounded(.down)) + 1 : 0
            return Frame(maxWidthEm: availW / size, maxLines: min(style.maxLines, bySpace), strokeRadius: stroke)
        }
        func attempt(_ size: Double, emergency: Bool) -> (LineBreaking.Result, Frame, Bool) {
            let f = frame(size)
            let r = LineBreaking.breakLines(paragraphs, maxWidth: max(0, f.maxWidthEm), mode: style.wrap, emergency: emergency)
            let fits = f.maxLines >= 1 && f.maxWidthEm > 0 && !r.overflow && r.lines.count <= f.maxLines
            return (r, f, fits)
        }

        let hi = style.size
        let lo = style.shrinkToFit ? min(style.minSize, style.size) : style.size
        var chosen: (size: Double, result: LineBreaking.Result, frame: Frame)?
        let top = attempt(hi, emergency: false)
        if top.2 {
            chosen = (hi, top.0, top.1)
        } else if lo < hi {
            let bottom = attempt(lo, emergency: false)
            if bottom.2 {
                // Largest fitting size to a quarter pixel: `a` fits, `b` does not.
                var a = lo, b = hi, best = bottom
                while b - a > 0.25 {
                    let mid = (a + b) / 2
                    let t = attempt(mid, emergency: false)
                    if t.2 { a = mid; best = t } else { b = mid }
                }
                chosen = (a, best.0, best.1)
            }
        }
        var truncated = false
        if chosen == nil {
            // Last resorts at the smallest size: break inside words, then cut with an ellipsis.
            let e = attempt(lo, emergency: true)
            if e.2 {
                chosen = (lo, e.0, e.1)
            } else {
                var result = e.0
                let keep = max(1, e.1.maxLines)
                let dropped = result.lines.count > keep
                result.lines = Array(result.lines.prefix(keep))
                truncated = dropped || result.overflow
                if style.ellipsis {
                    let ellW = ellipsis.graphemes.reduce(0) { $0 + $1.advance }
                    for i in result.lines.indices {
                        let isLast = i == result.lines.count - 1
                        if result.lines[i].width > e.1.maxWidthEm + 1e-9 || (isLast && dropped) {
                            result.lines[i] = cut(result.lines[i], paragraphs: paragraphs, maxWidth: e.1.maxWidthEm, ellipsisWidth: ellW)
                        }
                    }
                }
                chosen = (lo, result, e.1)
            }
        }
        guard let chosen else { return CaptionLayout(size: lo, strokeRadius: 0, lines: [], truncated: false, blockRect: nil) }

        // Place the lines.
        let size = chosen.size
        let lineH = size * style.lineSpacing
        let lines = chosen.result.lines
        let ellW = ellipsis.graphemes.reduce(0) { $0 + $1.advance }
        let stroke = chosen.frame.strokeRadius
        // Placed as a block of at least `blockLines` lines (a typed text's parts take the whole text's place, so the
        // lines typed so far do not climb as lines are added); the lines fill it from its top.
        let blockH = Double(max(0, max(lines.count, blockLines) - 1)) * lineH + inkEm * size
        let inset = pad + stroke + shadowX
        let insetY = pad + stroke + shadowY
        let y0: Double
        switch style.verticalAlign {
        case .top: y0 = insetY
        case .middle: y0 = (Double(height) - blockH) / 2
        case .bottom: y0 = Double(height) - insetY - blockH
        }
        var placed: [Placed] = []
        var minX = Double.infinity, maxX = -Double.infinity
        for (k, line) in lines.enumerated() {
            // Letter spacing follows every character; the last one's is not part of the line's visible width.
            let trailing = line.end > line.start || line.ellipsis ? style.letterSpacing * size : 0
            let w = (line.width + (line.ellipsis ? ellW : 0)) * size - trailing
            let x: Double
            // `start`/`end` follow the paragraph's direction (its base level: odd is right-to-left), as in CSS.
            let rightToLeft = paragraphs[line.paragraph].level % 2 == 1
            switch style.align {
            case .left: x = inset
            case .center: x = (Double(width) - w) / 2
            case .right: x = Double(width) - inset - w
            case .start: x = rightToLeft ? Double(width) - inset - w : inset
            case .end: x = rightToLeft ? inset : Double(width) - inset - w
            }
            placed.append(Placed(line: line, x: x, baseline: y0 + ascender * size + Double(k) * lineH))
            if w > 0 { minX = min(minX, x); maxX = max(maxX, x + w) }
        }
        let block = minX <= maxX ? (minX, y0, maxX, y0 + blockH) : nil
        return CaptionLayout(size: size, strokeRadius: stroke, lines: placed, truncated: truncated, blockRect: block)
    }

    /// Shortens `line` until it plus "…" fits `maxWidth` em (grapheme by grapheme, trailing spaces dropped).
    private static func cut(
        _ line: LineBreaking.Line, paragraphs: [ShapedParagraph], maxWidth: Double, ellipsisWidth: Double
    ) -> LineBreaking.Line {
        let g = paragraphs[line.paragraph].graphemes
        var end = line.end
        var w = line.width
        while end > line.start && (w + ellipsisWidth > maxWidth + 1e-9 || g[end - 1].isSpace) {
            end -= 1
            w -= g[end].advance
        }
        var out = line
        out.end = end
        out.width = max(0, w)
        out.ellipsis = true
        return out
    }

    /// The glyphs of `line` in visual order (runs reordered by bidi level, UAX #9 L2), "…" included.
    static func visualGlyphs(_ line: LineBreaking.Line, paragraphs: [ShapedParagraph], ellipsis: ShapedParagraph) -> [ShapedGlyph] {
        let p = paragraphs[line.paragraph]
        var pieces: [(level: UInt8, glyphs: [ShapedGlyph])] = []
        for run in p.runs where run.graphemes.lowerBound < line.end && run.graphemes.upperBound > line.start {
            let glyphs = run.glyphs.filter { $0.grapheme >= line.start && $0.grapheme < line.end }
            if !glyphs.isEmpty { pieces.append((run.level, glyphs)) }
        }
        if line.ellipsis {
            pieces.append((p.level, ellipsis.runs.flatMap(\.glyphs)))
        }
        return Bidi.visualOrder(levels: pieces.map(\.level)).flatMap { pieces[$0].glyphs }
    }
}
