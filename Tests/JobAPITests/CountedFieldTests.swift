import Foundation
import HTTPTypes
import HummingbirdTesting
import SpecLang
import Testing

@testable import JobAPI

/// review10: a counter's field value with no number was accepted (202) and then failed in the worker. The API now
/// refuses it at submit, as the planner would.
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
        let summary = try #require(try Self.templates().first)
        #expect(summary.fields.first { $0.name == "price" }?.counted == true)
        // Not listed to clients: the field is text that holds a number.
        #expect(!String(decoding: try JSONEncoder().encode(summary), as: UTF8.self).contains("counted"))
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
