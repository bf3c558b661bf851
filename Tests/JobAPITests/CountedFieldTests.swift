import Foundation
import HTTPTypes
import HummingbirdTesting
import SpecLang
import Testing

@testable import JobAPI

/// review10: a counter's field value with no number was accepted (202) and then failed in the worker. The API now
/// refuses it at submit: it plans the job as the worker will (SubmitPlanningTests).
@Suite struct CountedFieldTests {
    static let templates: @Sendable () throws -> [TemplateSummary] = {
        let yaml = """
            name: count-up
            fields:
              price: { type: text, required: true, max_length: 40 }
            layers:
              - { type: color, color: "#000000" }
              - type: media
              - type: text
                width: 400
                height: 120
                counter: { from: 0, to: "{{price}}", duration: 1.5 }
            """
        return [TemplateSummary(name: "count-up", description: "", template: try TemplateParser.parse(yaml: yaml, file: "count-up.yaml"))]
    }

    @Test func aCountedFieldMustHoldACountableNumber() async throws {
        // The parsed template is kept for planning at submit, not listed to clients.
        let summary = try #require(try Self.templates().first)
        #expect(summary.template != nil)
        #expect(
            String(decoding: try JSONEncoder.api.encode(summary), as: UTF8.self)
                == #"{"defaultDuration":30,"description":"","fields":[{"description":"","maxLength":40,"name":"price","required":true,"type":"text"}],"name":"count-up"}"#
        )
        try await withAPI(templates: Self.templates) { api in
            let image = try await api.uploadImage(key: api.keyA)
            func submit(_ price: String) async throws -> TestResponse {
                try await api.submit(key: api.keyA, imageIds: [image], extra: #","overlayType":"count-up","fields":{"price":"\#(price)"}"#)
            }
            for bad in ["ask us", "$9999999999999999999"] {
                let refused = try await submit(bad)
                #expect(refused.status == .unprocessableContent, "\(bad)")
                #expect(try errorOf(refused).field == "fields.price", "\(bad)")
            }
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 0)
            #expect(try await submit("$1,299.00").status == .accepted)
        }
    }
}
