import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Planner
import RendcTestSupport
import RenderPipeline
import SpecLang
import Testing

@testable import JobAPI

/// svc13: submit accepted jobs the planner then refused in the worker (a counter without `duration` counting over a
/// long video; a counted field with no number, which review10 had the API check with a copy of the planner's rule).
/// Submit now plans the job as the worker does and answers 422 with the planner's own message.
@Suite struct SubmitPlanningTests {
    /// Counts to the job's price over the layer's time (no `duration`): "$5" makes 6 texts, "29.99" a text a frame,
    /// 300 in the template's 10 s (over the 90 a layer may hold), a handful in a 0.5 s video.
    static let yaml = """
        name: count-long
        fields:
          price: { type: text, max_length: 40, default: "0" }
        timing: { default_duration: 10 }
        layers:
          - { type: color, color: "#000000" }
          - type: media
          - type: text
            width: 400
            height: 120
            counter: { from: 0, to: "{{price}}" }
        """

    static func template() throws -> Template { try TemplateParser.parse(yaml: yaml, file: "count-long.yaml") }

    /// The worker's own planning (RenderPipeline, as PipelineRenderer runs it) of a job with these values.
    static func workerPlanError(_ folder: URL, duration: Double?, price: String) throws -> PlanError? {
        try Data(yaml.utf8).write(to: folder.appendingPathComponent("count-long.yaml"))
        let image = folder.appendingPathComponent("p.jpg")
        try Data(TestImages.jpegHeader(width: 800, height: 1200)).write(to: image)
        let pipeline = RenderPipeline(
            configuration: PipelineConfiguration(
                templateDirectories: [folder.path], assetsDirectory: folder.appendingPathComponent("assets").path,
                temporaryDirectory: folder.path),
            logger: Logger(label: "rendc.test.submit-planning"))
        do {
            _ = try pipeline.plan(
                RenderRequest(
                    template: "count-long", images: [image.path], fields: ["price": price], duration: duration,
                    output: folder.appendingPathComponent("out.mp4").path),
                measuringLoudness: false)
            return nil
        } catch let error as PipelineError {
            #expect(error.kind == .plan, "\(error)")
            return error.planError
        }
    }

    @Test func aJobTheWorkerWouldFailIsRefusedAtSubmitInTheWorkersWords() async throws {
        let folder = try Fixtures.temporaryDirectory("rendc-submit-planning")
        defer { try? FileManager.default.removeItem(at: folder) }
        // What the worker says of these jobs (the old submit accepted all of them).
        let tooMany = try #require(try Self.workerPlanError(folder, duration: 10, price: "29.99"))
        let notANumber = try #require(try Self.workerPlanError(folder, duration: 10, price: "ask us"))
        #expect(try Self.workerPlanError(folder, duration: 10, price: "$5") == nil)
        #expect(tooMany.field == "layers[2].counter")
        #expect(notANumber.field == "fields.price")

        let summary = TemplateSummary(name: "count-long", description: "", template: try Self.template())
        // The parsed template is kept for planning at submit, not listed to clients.
        #expect(
            String(decoding: try JSONEncoder.api.encode(summary), as: UTF8.self)
                == #"{"defaultDuration":10,"description":"","fields":[{"description":"","maxLength":40,"name":"price","required":false,"type":"text"}],"name":"count-long"}"#
        )
        try await withAPI(templates: { [summary] }) { api in
            let image = try await api.uploadImage(key: api.keyA)
            func submit(duration: Double, price: String) async throws -> TestResponse {
                try await api.submit(
                    key: api.keyA, imageIds: [image],
                    extra: #","overlayType":"count-long","durationTarget":\#(duration),"fields":{"price":"\#(price)"}"#)
            }
            let cases: [(Double, String, PlanError, String?)] = [
                (10, "29.99", tooMany, nil), (10, "ask us", notANumber, "fields.price"),
                (10, "$9999999999999999999", notANumber, "fields.price"),  // more digits than it counts: no number either
            ]
            for (duration, price, expected, field) in cases {
                let refused = try await submit(duration: duration, price: price)
                #expect(refused.status == .unprocessableContent, "\(String(buffer: refused.body))")
                let error = try #require(try jsonObject(refused)["error"] as? [String: Any])
                #expect(error["code"] as? String == "validation_failed")
                #expect(error["message"] as? String == expected.description)
                #expect(error["field"] as? String == field)
            }
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 0)
            #expect(try await submit(duration: 10, price: "$5").status == .accepted)
            // Counted over 2 s (61 frames), the same price fits; so does a price with a thousands separator.
            #expect(try await submit(duration: 2, price: "29.99").status == .accepted)
            #expect(try await submit(duration: 2, price: "$1,299.00").status == .accepted)
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 3)
        }
    }

    /// trial15b: the template list gave colour and image fields a maxLength of 500 (the text default); it gives the
    /// longest value each takes.
    @Test func aFieldsMaxLengthIsItsLongestValue() throws {
        let t = try TemplateParser.parse(
            yaml: """
                name: fields
                fields:
                  price: { type: text, max_length: 12 }
                  accent: { type: color, default: "#FF0000" }
                  logo: { type: image }
                layers:
                  - { type: color, color: "{{accent}}" }
                  - { type: image, source: "{{logo}}" }
                  - { type: text, text: "{{price}}" }
                """)
        let fields = TemplateSummary(name: "fields", description: "", template: t).fields
        #expect(fields.map(\.name) == ["price", "accent", "logo"])
        #expect(fields.map(\.maxLength) == [12, 9, 36])
    }

    /// trial15b: golden-frame takes a 500-character caption and shows about a third of a long one; the store learnt
    /// it only from the finished job's notes. Submit now says so, in the request's words, measured as the render sets it.
    @Test func submitWarnsOfACaptionTheRenderWillCut() async throws {
        let folder = try Fixtures.temporaryDirectory("rendc-submit-cut")
        defer { try? FileManager.default.removeItem(at: folder) }
        let specs = Fixtures.packageRoot.appendingPathComponent("specs")
        let pipeline = RenderPipeline(
            configuration: PipelineConfiguration(
                templateDirectories: [specs.path], assetsDirectory: folder.appendingPathComponent("assets").path, temporaryDirectory: folder.path),
            logger: Logger(label: "rendc.test.submit-cut"))
        let golden = try TemplateParser.parse(file: specs.appendingPathComponent("golden-frame.yaml").path)
        let summary = TemplateSummary(name: "golden-frame", description: "", template: golden)
        let long = String(repeating: "Soft leather sneakers, hand-stitched soles, ", count: 7)  // 301 characters
        // What the worker's plan says of the same caption (its note, for the designer).
        let image = folder.appendingPathComponent("p.jpg")
        try Data(TestImages.jpegHeader(width: 800, height: 1200)).write(to: image)
        let workerPlan = try pipeline.plan(
            RenderRequest(
                template: "golden-frame", images: [image.path], text: long, duration: 5, output: folder.appendingPathComponent("o.mp4").path),
            measuringLoudness: false)
        let note = try #require(workerPlan.notes.first { $0.contains("did not fit") })
        try await withAPI(templates: { [summary] }, server: { $0.warningOfCutTexts { pipeline.fieldCuts($0, template: $1) } }) { api in
            let image = try await api.uploadImage(key: api.keyA)
            let accepted = try await api.submit(
                key: api.keyA, imageIds: [image], extra: #","overlayType":"golden-frame","durationTarget":5,"textOverlay":""# + long + "\"")
            #expect(accepted.status == .accepted, "\(String(buffer: accepted.body))")
            let warnings = try #require(try jsonObject(accepted)["warnings"] as? [[String: Any]])
            #expect(warnings.count == 1)
            let w = try #require(warnings.first)
            let shown = try #require(w["shownCharacters"] as? Int)
            #expect(w["code"] as? String == "text_cut" && w["field"] as? String == "textOverlay")
            #expect(w["totalCharacters"] as? Int == long.count && shown > 50 && shown < long.count, "\(w)")
            #expect((w["message"] as? String)?.hasPrefix("the template golden-frame shows \(shown) of the \(long.count) characters") == true)
            #expect(note.contains("\(shown) of its \(long.count) characters show"), "submit and the render count the same: \(note)")
            // A caption that fits: no warnings key at all.
            let fits = try await api.submit(key: api.keyA, imageIds: [image], extra: #","overlayType":"golden-frame","textOverlay":"New in""#)
            #expect(fits.status == .accepted)
            #expect(try jsonObject(fits)["warnings"] == nil)
        }
    }

    /// With music and no `durationTarget` the video follows the track, whose length submit does not know: a job is
    /// refused only when it fails with a track as long as the video may be and with the shortest one too.
    @Test func withMusicAndNoTargetOnlyCertainFailuresAreRefused() throws {
        let template = try Self.template()
        var job = JobSubmission(
            tenantId: UUID(), imageIds: [UUID()], audioAssetId: UUID(), textOverlay: nil, template: "count-long", qualityMode: .normal,
            durationTarget: nil, priority: 0, callbackURL: nil)
        job.fieldTexts = ["price": "29.99"]
        // A long track makes a 10 s video (301 texts), a 0.5 s track a 0.5 s one (16): the music decides, so the
        // worker does.
        #expect(SubmitPlanning.problem(job, template: template, clips: [], maxDuration: 60) == nil)
        // A set length makes it certain.
        job.durationTarget = 10
        #expect(SubmitPlanning.problem(job, template: template, clips: [], maxDuration: 60)?.field == "layers[2].counter")
        // So does no music: the template's own 10 s.
        job.durationTarget = nil
        job.audioAssetId = nil
        #expect(SubmitPlanning.problem(job, template: template, clips: [], maxDuration: 60)?.field == "layers[2].counter")
        // A value with no number fails at any length.
        job.audioAssetId = UUID()
        job.fieldTexts = ["price": "ask us"]
        #expect(SubmitPlanning.problem(job, template: template, clips: [], maxDuration: 60)?.field == "fields.price")
    }

    /// No false refusals: a typical job on every shipped template plans at submit (with music and no length, with a
    /// set length up to the longest video, with no music), required fields filled as a store would.
    @Test func typicalJobsOnTheShippedTemplatesAreAccepted() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Fixtures.specsDirectory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 8)
        for file in files {
            let template = try TemplateParser.parse(file: Fixtures.specsDirectory.appendingPathComponent(file).path)
            var job = JobSubmission(
                tenantId: UUID(), imageIds: [UUID(), UUID(), UUID()], audioAssetId: UUID(), textOverlay: "Summer sale 🔥 -30%",
                template: template.name, qualityMode: .normal, durationTarget: nil, priority: 0, callbackURL: nil)
            for field in template.fields where field.required && field.name != Template.captionField {
                switch field.kind {
                case .text: job.fieldTexts[field.name] = "$29.99"
                case .color: job.fieldTexts[field.name] = "#0A84FF"
                case .image: job.fieldAssets[field.name] = UUID()
                }
            }
            for (audio, duration, quality) in [(true, nil, QualityMode.normal), (true, 60, .eco), (false, 15, .freeze), (false, nil, .normal)]
                as [(Bool, Double?, QualityMode)]
            {
                job.audioAssetId = audio ? UUID() : nil
                job.durationTarget = duration
                job.qualityMode = quality
                let problem = SubmitPlanning.problem(job, template: template, clips: [1], maxDuration: 60)
                #expect(problem == nil, "\(file) audio \(audio) duration \(duration ?? 0) \(quality): \(problem?.description ?? "")")
            }
        }
    }
}
