import Foundation
import RendcTestSupport
import SpecLang
import Testing

/// design13's media: grids beyond 2x2 (`grid: {columns, rows}`) and a layer that goes with one card (`cell: N`), each
/// read as written and each bad form reported at its file:line:col.
@Suite struct Design13GridTests {
    func yaml(_ layer: String) -> String { "name: t\nlayers:\n  - type: color\n    color: \"#000000\"\n\(layer)\n" }
    func parse(_ yaml: String) throws -> Template { try TemplateParser.parse(yaml: yaml, file: "t.yaml") }
    func errors(_ yaml: String) -> [String] { lintMessages(yaml, \.summary) }
    func media(_ keys: String) throws -> MediaLayer? {
        guard case .media(let m) = try parse(yaml("  - type: media\n\(keys)")).layers[1].content else { return nil }
        return m
    }

    @Test func aGridTakesColumnsAndRows() throws {
        let m = try #require(
            try media(
                "    layout: grid\n    grid: { columns: 3, rows: 4 }\n    cells: [{ fit: contain }, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, { fit: contain }]"
            ))
        #expect(m.layout == .grid && m.grid == (3, 4) && m.cellCount == 12)
        #expect(m.cellStyle(11).fit == .contain && m.cellStyle(5).fit == .cover)
        // `grid:` alone implies the layout; a grid without it is 2x2 as before.
        let implied = try #require(try media("    grid: { columns: 4, rows: 1 }"))
        #expect(implied.layout == .grid && implied.cellCount == 4 && implied.grid == (4, 1))
        let plain = try #require(try media("    layout: grid"))
        #expect(plain.cellCount == 4 && plain.grid == (2, 2) && plain == MediaLayer(layout: .grid))
    }

    @Test func badGridsAreReportedAtTheirKey() {
        #expect(
            errors(yaml("  - type: media\n    grid: { columns: 5, rows: 2 }")) == [
                "t.yaml:6:22: error: layers[1].grid.columns: expected a whole number from 1 to 4, got 5"
            ])
        #expect(
            errors(yaml("  - type: media\n    layout: stacked\n    grid: { columns: 2, rows: 2 }")) == [
                "t.yaml:7:11: error: layers[1].grid: 'grid' sets the columns and rows of the grid layout, not of stacked"
            ])
        #expect(errors(yaml("  - type: media\n    grid: { columns: 2 }")) == ["t.yaml:6:11: error: layers[1].grid.rows: is required"])
        #expect(
            errors(yaml("  - type: media\n    grid: { columns: 2, rows: 1 }\n    cells: [{}, {}, {}]")) == [
                "t.yaml:7:12: error: layers[1].cells: the 2x1 grid has 2 cell(s), got 3 cell styles"
            ])
        #expect(
            errors(yaml("  - type: media\n    grid: { columns: 1, rows: 1 }\n    stagger: 0.2")) == [
                "t.yaml:7:14: error: layers[1].stagger: the 1x1 grid has one cell: stagger needs side_by_side, stacked or grid"
            ])
    }

    @Test func aLayerGoesWithACardOfTheMediaLayerAboveIt() throws {
        let t = try parse(
            yaml(
                "  - type: media\n    grid: { columns: 3, rows: 2 }\n  - type: text\n    text: \"$9\"\n    cell: 2\n    y: \"100%\"\n    height: 80\n  - type: shape\n    cell: 6"
            ))
        #expect(t.layers[2].cell == CellReference(layer: 1, cell: 1) && t.layers[3].cell == CellReference(layer: 1, cell: 5))
        #expect(t.layers[1].cell == nil)
    }

    @Test func aBadCellIsReportedAtItsKey() {
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    cell: 1")) == [
                "t.yaml:7:11: error: layers[1].cell: 'cell' places the layer in a card of a media layer listed above it, and there is none"
            ])
        #expect(
            errors(yaml("  - type: media\n    layout: grid\n  - type: shape\n    cell: 5")) == [
                "t.yaml:8:11: error: layers[2].cell: expected a cell of layers[1] from 1 to 4, got 5"
            ])
        #expect(
            errors(yaml("  - type: media\n    layout: grid\n  - type: color\n    color: \"#FFFFFF\"\n    cell: 1")) == [
                "t.yaml:9:11: error: layers[2].cell: a color layer cannot go with a card: 'cell' places a text, image, shape or border layer in a media layer's cell"
            ])
    }
    /// docs/templates.md's example of a price per card lints as written.
    @Test func theDocsCardExampleLints() throws {
        let doc = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("docs/templates.md"), encoding: .utf8)
        let section = try #require(doc.components(separatedBy: "**A layer per card**").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```yaml\n").dropFirst().first?.components(separatedBy: "```").first)
        let yaml = "name: t\n" + block.split(separator: "\n").map { String($0.dropFirst(2)) }.joined(separator: "\n")
        #expect(yaml.contains("cell: 2") && errors(yaml).isEmpty, "\(errors(yaml))")
    }
}
