import Foundation
import SpecLang
import Testing

/// review9b: templates that lint must render, and lint must say where a template is wrong without harming the
/// terminal it prints to.
@Suite struct HostileTemplateTests {
    func errors(_ yaml: String) -> [String] { lintMessages(yaml, \.description) }

    func shape(easing: String) -> String {
        """
        name: t
        layers:
          - type: shape
            shape: ellipse
            width: 100
            height: 100
            fill: "#FF0000"
            animate:
              - keyframes: [{t: 0, x: 0}, {t: 1, x: 200, easing: \(easing)}]
        """
    }

    /// `cubic_bezier(0.5, nan, 0.5, 0.5)` linted clean and then trapped every renderer (SIGILL in the sprite's
    /// bounds); the list form was range-checked, the string form was not.
    @Test func aBezierWithANonFiniteOrHugeNumberIsALintError() {
        for bad in [
            "\"cubic_bezier(0.5, nan, 0.5, 0.5)\"", "\"cubic_bezier(0.5, inf, 0.5, 0.5)\"", "\"cubic-bezier(0.5, 1e300, 0.5, -1e300)\"",
            "\"cubic_bezier(0.5, 11, 0.5, 0.5)\"", "[0.5, nan, 0.5, 0.5]",
        ] {
            let found = errors(shape(easing: bad))
            #expect(found.count == 1 && found[0].hasPrefix("t.yaml:9:"), "\(bad): \(found)")
        }
        #expect(errors(shape(easing: "\"cubic_bezier(0.3, 1.4, 0.6, 1)\"")).isEmpty)
    }

    /// A raw control character gave "YAML syntax error" with no line or reason.
    @Test func aControlCharacterInTheFileIsReportedAtItsPosition() {
        let found = errors("name: t\nlayers:\n  - type: text\n    text: \"a\u{1}b\"\n")
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix("t.yaml:4:13: error: YAML syntax: control characters are not allowed (U+0001)") == true, "\(found)")
    }

    /// Values are echoed in messages: an escape sequence in a shared template must not reach the terminal.
    @Test func controlCharactersInEchoedValuesAreEscaped() {
        let found = errors("name: t\nlayers:\n  - type: \"color\\e[2J\\u009b\\u202e\"\n    color: \"#000000\"\n")
        #expect(found.count == 1 && found[0].contains("\\u{1B}[2J\\u{9B}\\u{202E}"), "\(found)")
        #expect(!found.joined().unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x9B || $0.value == 0x202E })
    }

    /// Aliases multiplied a few lines into a million keyframes; every repeated list has a cap now.
    @Test func repeatedListsHaveCapsAndAliasesCannotGetPastThem() {
        let keyframes = (0..<50).map { "{t: \($0), x: \($0)}" }.joined(separator: ", ")
        let animations = ["{keyframes: &K [\(keyframes)]}"] + Array(repeating: "{keyframes: *K}", count: 29)
        var yaml = "name: bomb\nlayers:\n  - &L {type: color, color: \"#000000\", animate: [\(animations.joined(separator: ", "))]}\n"
        yaml += String(repeating: "  - *L\n", count: 99)
        let found = errors(yaml)
        #expect(found.first?.contains("layers: at most 64 layers, got 100") == true, "\(found.prefix(2))")
        let one = "name: t\nlayers:\n  - {type: color, color: \"#000000\", animate: [\(animations.joined(separator: ", "))]}\n"
        #expect(errors(one).first?.contains("at most 16 animations on a layer, got 30") == true, "\(errors(one).prefix(2))")
        let many = (0..<121).map { "{t: \($0), x: \($0)}" }.joined(separator: ", ")
        let long = "name: t\nlayers:\n  - {type: color, color: \"#000000\", animate: [{keyframes: [\(many)]}]}\n"
        #expect(errors(long).first?.contains("at most 120 keyframes in an animation, got 121") == true, "\(errors(long).prefix(2))")
    }

    /// 7680x7680 at 120 fps was accepted: about 7 GB a job.
    @Test func theCanvasIsAtMost4K() {
        #expect(
            errors("name: t\ncanvas: {width: 3840, height: 3840}\nlayers:\n  - {type: color, color: \"#000000\"}\n").first?.contains(
                "at most 8294400 pixels") == true)
        #expect(errors("name: t\ncanvas: {width: 2160, height: 3840, fps: 60}\nlayers:\n  - {type: color, color: \"#000000\"}\n").isEmpty)
        #expect(!errors("name: t\ncanvas: {width: 1080, height: 1920, fps: 120}\nlayers:\n  - {type: color, color: \"#000000\"}\n").isEmpty)
    }
}
