import Foundation
import RendcTestSupport
import SpecLang
import Testing

/// design14: `follow: card` read on a layer placed in a card, and refused anywhere else at its file:line:col with the
/// reason.
@Suite struct Design14FollowTests {
    func yaml(_ layers: String) -> String { "name: t\nlayers:\n  - type: media\n    layout: grid\n\(layers)\n" }
    func errors(_ yaml: String) -> [String] { lintMessages(yaml, \.summary) }

    @Test func aLayerInACardMayFollowIt() throws {
        let t = try TemplateParser.parse(
            yaml: yaml("  - type: text\n    text: \"$9\"\n    cell: 2\n    follow: card\n  - type: shape\n    cell: 3"), file: "t.yaml")
        #expect(t.layers[1].cell == CellReference(layer: 0, cell: 1, follow: true))
        #expect(t.layers[2].cell == CellReference(layer: 0, cell: 2) && t.layers[2].cell?.follow == false)
    }

    @Test func followIsRefusedWhereThereIsNoCardToFollow() {
        #expect(
            errors(yaml("  - type: text\n    text: Hi\n    follow: card")) == [
                "t.yaml:7:13: error: layers[1].follow: 'follow: card' moves a layer with the card it is placed in, and the layer has no 'cell': give it 'cell: N' to place it in a card of the media layer above"
            ])
        #expect(
            errors(yaml("  - type: video\n    source: builtin:glitter-rain\n    follow: card")) == [
                "t.yaml:7:13: error: layers[1].follow: 'follow: card' moves a layer with the card it is placed in, and a video layer cannot go with a card (only a text, image, shape or border layer with 'cell: N' can)"
            ])
        #expect(
            errors(yaml("  - type: shape\n    cell: 1\n    follow: picture")) == [
                "t.yaml:7:13: error: layers[1].follow: expected 'card' (the layer moves with the card it is placed in), got 'picture'"
            ])
        #expect(
            errors(yaml("  - type: shape\n    cell: 1\n    follow: true")) == [
                "t.yaml:7:13: error: layers[1].follow: expected 'card' (the layer moves with the card it is placed in), got 'true'"
            ])
    }

    /// design14b F2 and F6: a bad `cell` is one error (not a second, false one at `follow`), a number in quotes is
    /// told as text, and a grid that failed to read does not make `stagger` complain about a single cell.
    @Test func aBadCellIsOneError() {
        let yaml = "name: t\nlayers:\n  - type: media\n    layout: grid\n  - type: text\n    text: Hi\n    cell: 5\n    follow: card\n"
        #expect(
            lintMessages(yaml, \.summary) == [
                "t.yaml:7:11: error: layers[1].cell: expected a cell of layers[0] from 1 to 4, got 5"
            ])
        let quoted = "name: t\nlayers:\n  - type: media\n    layout: grid\n  - type: text\n    text: Hi\n    cell: \"2\"\n"
        #expect(
            lintMessages(quoted, \.summary) == [
                "t.yaml:7:11: error: layers[1].cell: expected a cell of layers[0] from 1 to 4, got the text '2' (a value in quotes is text: write it without the quotes)"
            ])
        // A grid that failed to read does not make 'stagger' complain about a single cell.
        let badGrid = "name: t\nlayers:\n  - type: media\n    grid: { columns: \"2\", rows: 2 }\n    stagger: 0.2\n"
        #expect(lintMessages(badGrid, \.summary).count == 1)
    }
}
