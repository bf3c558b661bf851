import Foundation
import Planner
import SpecLang
import Testing

/// review10: each template layer kept within its own limit on changing texts, but 64 aliased counters made 5,760 plan
/// layers from 1.2 KB (about 130 MB each). The plan as a whole has a budget too.
@Suite struct PlanBudgetTests {
    func counters(_ n: Int, to: Int = 89, box: String = "width: 200\n    height: 60") throws -> Template {
        var yaml = "name: t\ntiming: { cut: { mode: interval, fallback_interval: 2 } }\nlayers:\n  - type: color\n    color: \"#000000\"\n"
        for _ in 0..<n {
            yaml += "  - type: text\n    \(box)\n    counter: { from: 0, to: \(to), duration: 3 }\n"
        }
        return try TemplateParser.parse(yaml: yaml, file: "t.yaml")
    }

    @Test func manyChangingTextsTogetherAreRefusedOneLayerAtATimeAreNot() throws {
        let inputs = PlanInputs(images: threeImages, duration: 4)
        // Two counters of 90 texts each: 181 plan layers, within the budget.
        #expect(try plan(counters(2), inputs).layers.count == 181)
        // Three: 271 plan layers.
        #expect(throws: PlanError.self) { try plan(counters(3), inputs) }
        do {
            _ = try plan(counters(3), inputs)
        } catch let error as PlanError {
            #expect(error.message.contains("makes 271 layers once its changing texts and staggered cards are split (at most 256)"), "\(error)")
        }
        // Whole-canvas counters of 10 texts each stay under their own limit (11) but three exceed the plan's pixels.
        #expect(try plan(counters(2, to: 9, box: "width: 1080\n    height: 1920"), inputs).layers.count == 21)
        let big = try counters(3, to: 9, box: "width: 1080\n    height: 1920")
        do {
            _ = try plan(big, inputs)
            Issue.record("three whole-canvas counters exceed the plan's text pixels")
        } catch let error as PlanError {
            #expect(error.message.contains("million pixels of text pictures in all"), "\(error)")
        }
    }
}
