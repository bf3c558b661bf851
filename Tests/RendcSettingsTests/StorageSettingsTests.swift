import Foundation
import Logging
import Testing
@testable import ObjectStorage
import RendcSettings

@Suite struct StorageSettingsTests {
    @Test func emptyEnvironmentMeansLocalDefaultDirectory() throws {
        let configuration = try Settings(environment: [:]).storage()
        guard case .local(let directory) = configuration.backend else {
            Issue.record("expected local, got \(configuration)")
            return
        }
        #expect(directory == "./storage")
        #expect(configuration.description == "local directory ./storage")
    }

    @Test func localDirectoryFromEnvironment() throws {
        let configuration = try Settings(environment: ["RENDC_STORAGE_DIR": "/var/lib/rendc/storage"]).storage()
        guard case .local(let directory) = configuration.backend else {
            Issue.record("expected local")
            return
        }
        #expect(directory == "/var/lib/rendc/storage")
        let store = try makeStore(configuration: configuration, logger: Logger(label: "test"))
        #expect((store as? LocalDirectoryStore)?.root == "/var/lib/rendc/storage")
    }

    @Test func fullS3Settings() throws {
        let configuration = try Settings(environment: [
            "S3_ENDPOINT": "http://127.0.0.1:9000", "S3_ACCESS_KEY": "minio", "S3_SECRET_KEY": "SuperSecret123",
            "S3_BUCKET": "rendc", "S3_REGION": "eu-central-1", "S3_FORCE_PATH_STYLE": "false", "S3_PART_SIZE": "16MiB",
            "RENDC_STORAGE_DIR": "/ignored",
        ]).storage()
        guard case .s3(let s3) = configuration.backend else {
            Issue.record("expected S3")
            return
        }
        #expect(s3.endpoint == "http://127.0.0.1:9000")
        #expect(s3.region == "eu-central-1")
        #expect(s3.bucket == "rendc")
        #expect(s3.credentials.accessKey == "minio")
        #expect(s3.credentials.secretKey == "SuperSecret123")
        #expect(s3.forcePathStyle == false)
        #expect(s3.partSize == 16 * 1024 * 1024)
        for text in [configuration.description, String(reflecting: configuration), "\(s3)"] {
            #expect(!text.contains("SuperSecret123"), "\(text)")
            #expect(text.contains("<redacted>"))
        }
        #expect(try makeStore(configuration: configuration, logger: Logger(label: "test")) is S3Store)
    }

    @Test func s3DefaultsToAWSEndpointAndVirtualHostStyle() throws {
        let configuration = try Settings(environment: [
            "S3_ACCESS_KEY": "AKIA", "S3_SECRET_KEY": "secret", "S3_BUCKET": "rendc-videos",
        ]).storage()
        guard case .s3(let s3) = configuration.backend else {
            Issue.record("expected S3")
            return
        }
        #expect(s3.endpoint == "https://s3.us-east-1.amazonaws.com")
        #expect(s3.region == "us-east-1")
        #expect(s3.forcePathStyle == false)
        #expect(s3.partSize == 8 * 1024 * 1024)
    }

    @Test func customEndpointDefaultsToPathStyle() throws {
        let configuration = try Settings(environment: [
            "S3_ENDPOINT": "https://minio.internal:9000", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b",
            "S3_BUCKET": "rendc",
        ]).storage()
        guard case .s3(let s3) = configuration.backend else {
            Issue.record("expected S3")
            return
        }
        #expect(s3.forcePathStyle)
    }

    @Test(arguments: [
        (["S3_ENDPOINT": "http://127.0.0.1:9000"], "S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY"),
        (["S3_BUCKET": "rendc", "S3_ACCESS_KEY": "a"], "S3_SECRET_KEY"),
        (
            ["S3_BUCKET": "rendc", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "S3_FORCE_PATH_STYLE": "maybe"],
            "S3_FORCE_PATH_STYLE"
        ),
        (["S3_BUCKET": "rendc", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "S3_PART_SIZE": "1MiB"], "S3_PART_SIZE"),
        (["S3_BUCKET": "rendc", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "S3_PART_SIZE": "lots"], "S3_PART_SIZE"),
        (["S3_BUCKET": "Bad_Bucket", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b"], "S3_BUCKET"),
        (["S3_BUCKET": "rendc", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "S3_ENDPOINT": "ftp://x"], "S3_ENDPOINT"),
        (
            ["S3_BUCKET": "rendc", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "S3_ENDPOINT": "http://h/bucket"],
            "S3_ENDPOINT"
        ),
        (["S3_BUCKET": "rendc", "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "S3_REGION": "us east"], "S3_REGION"),
    ])
    func badSettingsNameTheSetting(environment: [String: String], setting: String) {
        do {
            let configuration = try Settings(environment: environment).storage()
            Issue.record("accepted \(configuration)")
        } catch let error as SettingError {
            #expect(error.variable == setting, "\(error)")
            #expect(error.description.hasPrefix("\(setting)"), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
