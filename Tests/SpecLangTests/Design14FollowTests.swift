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
}
