import Foundation
import SpecLang
import Testing

@testable import CaptionText

/// `measure` lays a text out as `renderDetailed` does without drawing it (submit measures a job's texts before the
/// render): the same size, lines and cut, for every kind of text the renderer takes.
@Suite struct MeasureTests {
    @Test(arguments: [
        "✨ Test Video",
        String(repeating: "Soft leather sneakers, hand-stitched soles, ", count: 7),
        "عرض خاص: خصم ٣٠٪ على كل الأحذية الجلدية اليوم فقط، لا تفوّت الفرصة مع توصيل مجاني 👟",
        "新品上市 限时八折 全场包邮 " + String(repeating: "🎉", count: 40),
        "a\nb\nc\nd\ne",
        "",
    ])
    func measureAgreesWithTheRender(text: String) throws {
        for (width, height) in [(1000, 200), (400, 120), (1080, 1920)] {
            let drawn = try renderer.renderDetailed(text, style: Styles.template, width: width, height: height)
            let measured = try renderer.measure(text, style: Styles.template, width: width, height: height)
            #expect(measured.fontSize == drawn.fontSize && measured.lines == drawn.lines && measured.truncated == drawn.truncated)
        }
        // The contrast: a box that cannot hold the long texts cuts them, and both say so.
        if text.count > 100 {
            #expect(try renderer.measure(text, style: Styles.template, width: 400, height: 120).truncated)
        }
    }

    @Test func measureRefusesWhatTheRenderRefuses() {
        #expect(throws: CaptionError.self) { try renderer.measure("x", style: Styles.template, width: 0, height: 10) }
        #expect(throws: CaptionError.self) {
            try renderer.measure(String(repeating: "a", count: 600), style: Styles.template, width: 100, height: 100)
        }
    }
}
