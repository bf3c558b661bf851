import Foundation
import HTTPTypes
import Hummingbird
import Logging
import RendcTestSupport
import RenderPipeline
import Testing

@testable import JobAPI
@testable import Studio

/// The studio's file rules and the admin credential, without a browser.
@Suite struct StudioWorkspaceTests {
    func workspace(editable: Bool = true) throws -> (StudioWorkspace, URL) {
        let root = try Fixtures.temporaryDirectory("rendc-studio-unit")
        let templates = root.appendingPathComponent("templates")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        let pipeline = RenderPipeline(
            configuration: PipelineConfiguration(
                templateDirectories: [templates.path, Fixtures.specsDirectory.path],
                assetsDirectory: root.appendingPathComponent("assets").path, temporaryDirectory: root.path), logger: Logger(label: "test"))
        let w = try StudioWorkspace(
            configuration: StudioConfiguration(
                builtinDirectory: Fixtures.specsDirectory.path, editableDirectory: editable ? templates.path : nil,
                workDirectory: root.appendingPathComponent("work").path),
            pipeline: pipeline, logger: Logger(label: "test"))
        return (w, root)
    }

    @Test func templateIdsCannotLeaveTheirFolders() throws {
        let (w, root) = try workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        for id in [
            "builtin:../golden-frame.yaml", "local:a/b.yaml", "local:.hidden.yaml", "other:golden-frame.yaml", "golden-frame.yaml",
            "builtin:golden-frame.txt",
        ] {
            #expect(throws: StudioError.self, "\(id)") { try w.resolve(id) }
        }
        #expect(try w.resolve("builtin:golden-frame.yaml").editable == false)
        #expect(try w.resolve("local:mine.yaml").editable == true)
        let (readOnly, root2) = try workspace(editable: false)
        defer { try? FileManager.default.removeItem(at: root2) }
        #expect(throws: StudioError.self) { try readOnly.resolve("local:mine.yaml") }
    }

    @Test func lintReportsTheUnknownKeyWhereItIs() throws {
        let (w, root) = try workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let yaml = try w.read("builtin:golden-frame.yaml").replacingOccurrences(of: "    fit: cover", with: "    fitt: cover")
        let line = yaml.components(separatedBy: "\n").firstIndex { $0.contains("fitt:") }! + 1
        let (result, template) = w.lint(yaml, file: "golden-frame.yaml")
        #expect(template == nil && !result.ok)
        #expect(result.diagnostics.count == 1)
        #expect(result.diagnostics.first?.line == line && result.diagnostics.first?.column == 5)
        #expect(result.diagnostics.first?.summary == "golden-frame.yaml:\(line):5: error: layers[2].fitt: unknown key 'fitt' (did you mean 'fit'?)")
        #expect(result.fields.isEmpty)
    }

    @Test func newCopiesAndSaveWritesOnlyCleanDraftsUnlessForced() throws {
        let (w, root) = try workspace()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("templates/my-look.yaml").path
        #expect(throws: StudioError.self) { try w.newTemplate(from: "builtin:golden-frame.yaml", name: "My Look") }
        #expect(throws: StudioError.self) { try w.newTemplate(from: "builtin:golden-frame.yaml", name: "../x") }
        let id = try w.newTemplate(from: "builtin:golden-frame.yaml", name: "my-look")
        #expect(id == "local:my-look.yaml")
        let copy = try String(contentsOfFile: file, encoding: .utf8)
        #expect(copy.contains("\nname: my-look\n") && !copy.contains("name: golden-frame"))
        #expect(copy.hasPrefix("# my-look (from golden-frame): the store's signature look."), "\(copy.prefix(120))")
        #expect(throws: StudioError.self) { try w.newTemplate(from: "builtin:golden-frame.yaml", name: "my-look") }

        // Built-ins are never written.
        #expect(throws: StudioError.self) { try w.save(id: "builtin:golden-frame.yaml", yaml: copy, force: true) }
        // A draft with problems needs confirmation; the file is untouched until then.
        let broken = copy.replacingOccurrences(of: "fps: 30", with: "fps: fast")
        guard case .needsConfirmation(let problems) = try w.save(id: id, yaml: broken, force: false) else {
            Issue.record("saved a draft with problems without confirmation")
            return
        }
        #expect(problems.count == 1)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == copy)
        guard case .saved = try w.save(id: id, yaml: broken, force: true) else { Issue.record("forced save refused"); return }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == broken)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("templates").path) == ["my-look.yaml"])
    }

    /// review9b: bound to 0.0.0.0 the studio accepted any Host, so a page whose name rebinds to the machine was
    /// same-origin with it. Names other than localhost are refused on any bind; addresses are not names.
    @Test func aWildcardBoundStudioStillRefusesHostNames() {
        let wildcard = StudioRequestGuard(boundHost: "0.0.0.0")
        #expect(!wildcard.isAllowed("attacker.example"))
        #expect(!wildcard.isAllowed("127.0.0.1.nip.io"))
        #expect(wildcard.isAllowed("192.168.1.20") && wildcard.isAllowed("127.0.0.1") && wildcard.isAllowed("localhost"))
        #expect(wildcard.isAllowed("fe80::1") && wildcard.isAllowed("::ffff:10.0.0.1"))
        #expect(!wildcard.isAllowed("256.1.1.1") && !wildcard.isAllowed("cafe") && !wildcard.isAllowed("1.2.3"))
        let loopback = StudioRequestGuard(boundHost: "127.0.0.1")
        #expect(loopback.isAllowed("localhost") && !loopback.isAllowed("192.168.1.20") && !loopback.isAllowed("attacker.example"))
    }

    @Test func adminSessionCookieIsDerivedFromTheTokenNotTheTokenItself() {
        let a = AdminCredential(token: "first-admin-token-0123456789")
        let b = AdminCredential(token: "other-admin-token-0123456789")
        #expect(a.matchesToken("first-admin-token-0123456789"))
        #expect(!a.matchesToken("first-admin-token-012345678"))
        let now = Date()
        let session = a.session(now: now)
        #expect(!session.contains("first-admin-token"))
        #expect(session != b.session(now: now))
        #expect(a.matchesSession(session, now: now) && !a.matchesSession(b.session(now: now), now: now))
        // A session ends with its login: a copied cookie is refused 12 h later (it was valid until the token
        // changed), and a forged expiry further out does not verify.
        #expect(a.matchesSession(session, now: now.addingTimeInterval(43_000)))
        #expect(!a.matchesSession(session, now: now.addingTimeInterval(43_201)))
        let parts = session.split(separator: ".")
        #expect(!a.matchesSession("\(Int(parts[0])! + 3600).\(parts[1])", now: now))
        #expect(!a.matchesSession("99999999999.\(parts[1])", now: now))
    }
}
