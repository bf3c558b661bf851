import ArgumentParser
import Foundation
import RendcSettings
import JobQueue
import Logging
import Webhooks

/// `rendc tenant create NAME`: makes a tenant and its first API key; `rendc tenant add-key ID` adds a key.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Manage tenants and their API keys.",
        subcommands: [Create.self, AddKey.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tenant; prints its id, a new API key (shown only this once) and its webhook signing secret.")

        @Argument(help: "The tenant's name (1 to 100 characters).")
        var name: String

        @Option(help: "How many of the tenant's jobs may render at once.")
        var maxRunningJobs: Int = 4

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func validate() throws {
            if name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || name.count > 100 {
                throw ValidationError("tenant name must be 1 to 100 characters")
            }
            if maxRunningJobs < 0 { throw ValidationError("--max-running-jobs must be 0 or more") }
        }

        func run() async throws {
            let settings = try loadSettings()
            let database = try settings.database()
            let logger = settings.logger("rendc.tenant")
            let secrets = try settings.webhookSecret().map { WebhookSecrets(master: $0) }
            let (name, cap) = (self.name, self.maxRunningJobs)
            let (tenant, key) = try await JobStore.withRunningStore(configuration: database, logger: logger) { store in
                try await store.createTenantWithKey(name: name, maxRunningJobs: cap)
            }
            // A new tenant is at generation 1; afterwards it reads (and rotates) its secret through the API.
            let webhookSecret = secrets?.secret(tenantId: tenant.id, generation: 1)
            printKey(tenantId: tenant.id, tenantName: tenant.name, key: key, webhookSecret: webhookSecret, json: json)
        }
    }

    struct AddKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-key", abstract: "Create another API key for a tenant (shown only this once).")

        @Argument(help: "The tenant id.")
        var tenantId: String

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() async throws {
            guard let id = UUID(uuidString: tenantId) else { throw ValidationError("'\(tenantId)' is not a tenant id (a UUID)") }
            let settings = try loadSettings()
            let database = try settings.database()
            let logger = settings.logger("rendc.tenant")
            let result: (Tenant, NewAPIKey)? = try await JobStore.withRunningStore(configuration: database, logger: logger) { store in
                guard let tenant = try await store.tenant(id: id) else { return nil }
                return (tenant, try await store.createAPIKey(tenantId: id))
            }
            guard let (tenant, key) = result else { throw ValidationError("no tenant with id \(tenantId)") }
            printKey(tenantId: tenant.id, tenantName: tenant.name, key: key, json: json)
        }
    }
}

private func printKey(tenantId: UUID, tenantName: String, key: NewAPIKey, webhookSecret: String? = nil, json: Bool) {
    let id = tenantId.uuidString.lowercased()
    if json {
        var object = ["tenantId": id, "name": tenantName, "apiKey": key.plaintext, "apiKeyPrefix": key.prefix]
        if let webhookSecret { object["webhookSecret"] = webhookSecret }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
            let text = String(data: data, encoding: .utf8)
        {
            print(text)
        }
    } else {
        print("tenant id: \(id)")
        print("tenant name: \(tenantName)")
        print("api key: \(key.plaintext)")
        print("(the key is shown only now; send it as 'Authorization: Bearer <key>')")
        if let webhookSecret {
            print("webhook signing secret: \(webhookSecret)")
            print("(verifies X-Rendc-Signature on this tenant's webhooks; also at GET /api/v1/webhook-secret)")
        }
    }
}
