import Foundation
import HTTPTypes
import HummingbirdTesting
import JobQueue
import NIOCore
import ObjectStorage
import RendcTestSupport
import Testing

@testable import JobAPI

@Suite(.serialized) struct APIAuthTests {
    @Test func missingOrBadCredentialsAre401() async throws {
        try await withAPI { api in
            for (uri, method) in [
                ("/api/v1/video/jobs", HTTPRequest.Method.get), ("/api/v1/templates", .get),
                ("/api/v1/video/process", .post), ("/api/v1/assets", .post),
            ] {
                let none = try await api.send(method, uri, key: nil)
                #expect(none.status == .unauthorized, "\(method) \(uri)")
                #expect(try errorOf(none).code == "unauthorized")
                #expect(none.headers[.wwwAuthenticate] == "Bearer")
            }
            let wrong = try await api.send(.get, "/api/v1/video/jobs", key: "rk_" + String(repeating: "0", count: 48))
            #expect(wrong.status == .unauthorized)
            let garbage = try await api.send(.get, "/api/v1/video/jobs", key: "not a key")
            #expect(garbage.status == .unauthorized)
            let basic = try await api.send(.get, "/api/v1/video/jobs", key: nil, headers: [.authorization: "Basic dXNlcjpwYXNz"])
            #expect(basic.status == .unauthorized)
            let ok = try await api.send(.get, "/api/v1/video/jobs", key: api.keyA)
            #expect(ok.status == .ok)
        }
    }

    @Test func gatewayTenantHeaderIsIgnoredByDefault() async throws {
        try await withAPI { api in
            let response = try await api.send(.get, "/api/v1/video/jobs", key: nil, headers: [HTTPField.Name("x-tenant-id")!: api.tenantA.uuidString])
            #expect(response.status == .unauthorized)
        }
    }

    @Test func gatewayTenantHeaderWorksOnlyWhenTrusted() async throws {
        try await withAPI(configure: { $0.trustGatewayTenantHeader = true }) { api in
            let header = HTTPField.Name("x-tenant-id")!
            let jobId = try await api.submitJob(key: api.keyA)
            let viaGateway = try await api.send(.get, "/api/v1/video/jobs/\(jobId)", key: nil, headers: [header: api.tenantA.uuidString])
            #expect(viaGateway.status == .ok)
            let otherTenant = try await api.send(.get, "/api/v1/video/jobs/\(jobId)", key: nil, headers: [header: api.tenantB.uuidString])
            #expect(otherTenant.status == .notFound)
            let unknownTenant = try await api.send(.get, "/api/v1/video/jobs", key: nil, headers: [header: UUID().uuidString])
            #expect(unknownTenant.status == .unauthorized)
            let notUUID = try await api.send(.get, "/api/v1/video/jobs", key: nil, headers: [header: "1 OR 1=1"])
            #expect(notUUID.status == .unauthorized)
        }
    }
}

@Suite(.serialized) struct APITenantIsolationTests {
    @Test func anotherTenantsJobAndAssetAre404() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            let submitted = try await api.submit(key: api.keyA, imageIds: [image])
            let jobId = try #require(try jsonObject(submitted)["jobId"] as? String)

            let mine = try await api.send(.get, "/api/v1/video/jobs/\(jobId)", key: api.keyA)
            #expect(mine.status == .ok)
            let theirs = try await api.send(.get, "/api/v1/video/jobs/\(jobId)", key: api.keyB)
            #expect(theirs.status == .notFound)
            #expect(try errorOf(theirs).code == "not_found")
            let unknown = try await api.send(.get, "/api/v1/video/jobs/\(UUID().uuidString)", key: api.keyB)
            #expect(unknown.status == .notFound)
            // Same body for "exists but not yours" and "does not exist": nothing to tell them apart.
            #expect(String(buffer: theirs.body) == String(buffer: unknown.body))
            let cancel = try await api.send(.post, "/api/v1/video/jobs/\(jobId)/cancel", key: api.keyB)
            #expect(cancel.status == .notFound)
            let asset = try await api.send(.get, "/api/v1/assets/\(image)", key: api.keyB)
            #expect(asset.status == .notFound)
            #expect(try await api.send(.get, "/api/v1/assets/\(image)", key: api.keyA).status == .ok)
            let list = try jsonObject(try await api.send(.get, "/api/v1/video/jobs", key: api.keyB))
            #expect((list["jobs"] as? [Any])?.count == 0)
            // The job is still pending: B's cancel changed nothing.
            let job = try jsonObject(mine)["job"] as? [String: Any]
            #expect(job?["status"] as? String == "pending")
        }
    }

    @Test func anotherTenantsAssetsCannotBeReferenced() async throws {
        try await withAPI { api in
            let imageOfA = try await api.uploadImage(key: api.keyA)
            let imageOfB = try await api.uploadImage(key: api.keyB)
            let response = try await api.submit(key: api.keyB, imageIds: [imageOfB, imageOfA])
            #expect(response.status == .unprocessableContent)
            let error = try errorOf(response)
            #expect(error.code == "unknown_asset")
            #expect(error.field == "imageIds[1]")
            let audio = try await api.upload(TestAudio.wavHeader(), type: "audio", filename: "a.wav", key: api.keyA)
            #expect(audio.status == .created)
            let audioOfA = try #require(try jsonObject(audio)["assetId"] as? String)
            let withAudio = try await api.submit(key: api.keyB, imageIds: [imageOfB], extra: ",\"audioFile\":\"\(audioOfA)\"")
            #expect(withAudio.status == .unprocessableContent)
            #expect(try errorOf(withAudio).field == "audioFile")
            // The voice-over is checked the same way: another tenant's audio looks unknown, an image is not audio.
            let withVoice = try await api.submit(key: api.keyB, imageIds: [imageOfB], extra: ",\"voiceFile\":\"\(audioOfA)\"")
            #expect(withVoice.status == .unprocessableContent)
            #expect(try errorOf(withVoice).field == "voiceFile" && errorOf(withVoice).code == "unknown_asset")
            let imageAsVoice = try await api.submit(key: api.keyB, imageIds: [imageOfB], extra: ",\"voiceFile\":\"\(imageOfB)\"")
            #expect(imageAsVoice.status == .unprocessableContent)
            #expect(try errorOf(imageAsVoice).field == "voiceFile")
            let ownVoice = try await api.submit(key: api.keyA, imageIds: [imageOfA], extra: ",\"voiceFile\":\"\(audioOfA)\"")
            #expect(ownVoice.status == .accepted)
            // An audio asset is not an image.
            let wrongType = try await api.submit(key: api.keyA, imageIds: [audioOfA])
            #expect(wrongType.status == .unprocessableContent)
            #expect(try errorOf(wrongType).field == "imageIds[0]")
        }
    }
}

@Suite(.serialized) struct APIValidationTests {
    @Test func fieldErrorsNameTheirField() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            let ids = "\"imageIds\":[\"\(image)\"]"
            let cases: [(String, Int, String, String?)] = [
                ("{}", 400, "validation_failed", "imageIds"),
                ("{\"imageIds\":[]}", 422, "validation_failed", "imageIds"),
                ("{\"imageIds\":[" + Array(repeating: "\"\(image)\"", count: 11).joined(separator: ",") + "]}", 422, "validation_failed", "imageIds"),
                ("{\"imageIds\":[\"\(image)\",\"nope\"]}", 422, "validation_failed", "imageIds[1]"),
                ("{\"imageIds\":[1,2]}", 400, "validation_failed", "imageIds[0]"),
                ("{\"imageIds\":\"\(image)\"}", 400, "validation_failed", "imageIds"),
                ("{\"imageIds\":[\"\(UUID().uuidString)\"]}", 422, "unknown_asset", "imageIds[0]"),
                ("{\(ids),\"overlayType\":\"rainbow-frame\"}", 422, "validation_failed", "overlayType"),
                ("{\(ids),\"qualityMode\":\"ultra\"}", 422, "validation_failed", "qualityMode"),
                ("{\(ids),\"durationTarget\":0}", 422, "validation_failed", "durationTarget"),
                ("{\(ids),\"durationTarget\":-3}", 422, "validation_failed", "durationTarget"),
                ("{\(ids),\"durationTarget\":61}", 422, "validation_failed", "durationTarget"),
                ("{\(ids),\"durationTarget\":\"10\"}", 400, "validation_failed", "durationTarget"),
                ("{\(ids),\"priority\":1000}", 422, "validation_failed", "priority"),
                ("{\(ids),\"priority\":1.5}", 400, "validation_failed", "priority"),
                ("{\(ids),\"textOverlay\":42}", 400, "validation_failed", "textOverlay"),
                ("{\(ids),\"textOverlay\":\"a\\u0000b\"}", 422, "validation_failed", "textOverlay"),
                ("{\(ids),\"audioFile\":\"x.mp3\"}", 422, "validation_failed", "audioFile"),
                ("{\(ids),\"audioFile\":\"\(UUID().uuidString)\"}", 422, "unknown_asset", "audioFile"),
                ("{\(ids),\"voiceFile\":\"x.mp3\"}", 422, "validation_failed", "voiceFile"),
                ("{\(ids),\"voiceFile\":42}", 400, "validation_failed", "voiceFile"),
                ("{\(ids),\"voiceFile\":\"\(UUID().uuidString)\"}", 422, "unknown_asset", "voiceFile"),
                ("{\(ids),\"callbackUrl\":\"ftp://example.com/x\"}", 422, "validation_failed", "callbackUrl"),
                // Issue 10 item 8/9: the rules the worker applies, refused at the API with the field named.
                ("{\(ids),\"durationTarget\":0.1}", 422, "validation_failed", "durationTarget"),
                ("{\(ids),\"durationTarget\":5e-324}", 422, "validation_failed", "durationTarget"),
                ("{\(ids),\"textOverlay\":\"a" + String(repeating: "\\u0301", count: 10_000) + "\"}", 422, "validation_failed", "textOverlay"),
                ("{\(ids),\"textOverlay\":\"a\\u0085b\"}", 422, "validation_failed", "textOverlay"),
                ("{\(ids),\"textOverlay\":\"a\\u009bb\"}", 422, "validation_failed", "textOverlay"),
                ("{\(ids),\"textOverlay\":\"a\\rb\"}", 422, "validation_failed", "textOverlay"),
                ("{\(ids),\"textOverlay\":\"a\\tb\"}", 422, "validation_failed", "textOverlay"),
                ("{\(ids),\"callbackUrl\":\"https://example.com/a\\r\\nX: y\"}", 422, "validation_failed", "callbackUrl"),
                ("{\(ids),\"callbackUrl\":\"https://example.com/a b\"}", 422, "validation_failed", "callbackUrl"),
                ("{\(ids),\"callbackUrl\":\" https://example.com/\"}", 422, "validation_failed", "callbackUrl"),
                ("{\(ids)", 400, "invalid_json", nil),
                ("[1,2,3]", 400, "invalid_json", nil),
                ("", 400, "invalid_json", nil),
                ("imageIds=1", 400, "invalid_json", nil),
            ]
            for (body, status, code, field) in cases {
                let response = try await api.postJSON("/api/v1/video/process", key: api.keyA, body)
                #expect(Int(response.status.code) == status, "\(body): \(String(buffer: response.body))")
                let error = try errorOf(response)
                #expect(error.code == code, "\(body)")
                #expect(error.field == field, "\(body)")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            }
            // Invalid UTF-8 inside a string is not JSON.
            var bytes = Array("{\(ids),\"textOverlay\":\"".utf8)
            bytes += [0xC3, 0x28, 0xFF]
            bytes += Array("\"}".utf8)
            let badUTF8 = try await api.send(.post, "/api/v1/video/process", key: api.keyA, body: bytes, contentType: "application/json")
            #expect(badUTF8.status == .badRequest)
            #expect(try errorOf(badUTF8).code == "invalid_json")
            // Nothing above made a job.
            let list = try jsonObject(try await api.send(.get, "/api/v1/video/jobs", key: api.keyA))
            #expect((list["jobs"] as? [Any])?.count == 0)
        }
    }

    @Test func defaultsAndUnknownFieldsAreIgnored() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            let response = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA,
                "{\"imageIds\":[\"\(image)\"],\"colour\":\"mauve\",\"durationTarget\":null}")
            #expect(response.status == .accepted)
            let object = try jsonObject(response)
            #expect(object["success"] as? Bool == true)
            #expect(object["status"] as? String == "pending")
            #expect(object["estimatedDuration"] as? Double == 30)  // golden-frame's default
            let jobId = try #require(object["jobId"] as? String)
            #expect(response.headers[.location] == "/api/v1/video/jobs/\(jobId)")
            let job = try #require(try jsonObject(try await api.send(.get, "/api/v1/video/jobs/\(jobId)", key: api.keyA))["job"] as? [String: Any])
            #expect(job["overlayType"] as? String == "golden-frame")
            #expect(job["qualityMode"] as? String == "normal")
            #expect(job["priority"] as? Int == 0)
            #expect(job["progress"] as? Int == 0)
            #expect(job["outputVideoUrl"] is NSNull)
            #expect(job["startedAt"] is NSNull)
            let created = try #require(job["createdAt"] as? String)
            #expect(created.hasSuffix("Z") && created.contains("T"))

            let timed = try await api.submit(key: api.keyA, imageIds: [image], extra: ",\"durationTarget\":12.5,\"overlayType\":\"no-frame\"")
            #expect(try jsonObject(timed)["estimatedDuration"] as? Double == 12.5)
        }
    }

    @Test func textLimitCountsCharactersAndScalars() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            // 👍🏽 is one character of two scalars and 8 UTF-8 bytes; 👨‍👩‍👧 is one character of five scalars.
            let thumbs = String(repeating: "👍🏽", count: 499) + "👨‍👩‍👧"
            #expect(thumbs.count == 500)
            #expect(thumbs.unicodeScalars.count > 500)
            let ok = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA,
                "{\"imageIds\":[\"\(image)\"],\"textOverlay\":\"\(thumbs)\"}")
            #expect(ok.status == .accepted, "\(String(buffer: ok.body))")
            let jobId = try #require(try jsonObject(ok)["jobId"] as? String)
            let job = try jsonObject(try await api.send(.get, "/api/v1/video/jobs/\(jobId)", key: api.keyA))["job"] as? [String: Any]
            #expect(job?["textOverlay"] as? String == thumbs)

            let tooLong = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA,
                "{\"imageIds\":[\"\(image)\"],\"textOverlay\":\"\(thumbs)é\"}")
            #expect(tooLong.status == .unprocessableContent)
            #expect(try errorOf(tooLong).field == "textOverlay")
        }
    }

    /// A body with one key twice is refused, not run with one of the two values (review9: the first won here,
    /// while a gateway parsing with last-wins would have checked the other).
    @Test func aBodyWithARepeatedKeyIsRefused() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            let twice = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA, #"{"imageIds":["\#(image)"],"imageIds":["\#(UUID().uuidString)"]}"#)
            #expect(twice.status == .badRequest)
            #expect(try errorOf(twice).code == "invalid_json")
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 0)
            let once = try await api.postJSON("/api/v1/video/process", key: api.keyA, #"{"imageIds":["\#(image)"]}"#)
            #expect(once.status == .accepted)
        }
    }

    @Test func injectionLookingTextIsStoredVerbatim() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            let nasty = "'); DROP TABLE video_processing_jobs; -- %{pts} \\:drawtext=text='x' $(rm -rf /) <script>alert(1)</script>\nline 2 \u{2028}"
            let escaped = String(data: try JSONEncoder().encode(nasty), encoding: .utf8)!
            let response = try await api.postJSON(
                "/api/v1/video/process", key: api.keyA,
                "{\"imageIds\":[\"\(image)\"],\"textOverlay\":\(escaped)}")
            #expect(response.status == .accepted, "\(String(buffer: response.body))")
            let jobId = try #require(try jsonObject(response)["jobId"] as? String)
            let uuid = try #require(UUID(uuidString: jobId))
            let job = try #require(try await api.store.job(id: uuid, tenantId: api.tenantA))
            #expect(job.textOverlay == nasty)
            let listed = try jsonObject(try await api.send(.get, "/api/v1/video/jobs", key: api.keyA))
            #expect(((listed["jobs"] as? [[String: Any]])?.first?["textOverlay"] as? String) == nasty)
        }
    }
}

@Suite(.serialized) struct APIUploadTests {
    @Test func acceptsKnownFormatsForTheirType() async throws {
        try await withAPI { api in
            let png = try await api.upload(TestImages.pngHeader(width: 640, height: 480), type: "image", filename: "../../x.png", key: api.keyA)
            #expect(png.status == .created)
            let body = try jsonObject(png)
            #expect(body["type"] as? String == "image")
            let asset = try #require(body["asset"] as? [String: Any])
            #expect(asset["width"] as? Int == 640)
            #expect(asset["height"] as? Int == 480)
            #expect(asset["contentType"] as? String == "image/png")
            #expect(asset["name"] as? String == "x.png")
            let id = try #require(body["assetId"] as? String)
            // Stored under the tenant's prefix with the bytes intact.
            let stored = try api.objectStore as? LocalDirectoryStore
            let path = try #require(stored).filePath(forKey: "assets/\(api.tenantA.uuidString.lowercased())/\(id).png")
            #expect(FileManager.default.contents(atPath: path) == Data(TestImages.pngHeader(width: 640, height: 480)))

            #expect(try await api.upload(TestAudio.wavHeader(), type: "audio", key: api.keyA).status == .created)
            #expect(try await api.upload(TestAudio.mp3Stub(), type: "audio", key: api.keyA).status == .created)
            #expect(try await api.upload(TestAudio.mp4VideoStub(), type: "overlay", key: api.keyA).status == .created)
            #expect(try await api.upload(TestImages.pngHeader(width: 1080, height: 1920), type: "frame", key: api.keyA).status == .created)
        }
    }

    @Test func wrongTypeIs415() async throws {
        try await withAPI { api in
            let text = try await api.upload(Array("#!/bin/sh\necho hi\n".utf8), type: "image", filename: "shell.jpg", key: api.keyA)
            #expect(text.status == .unsupportedMediaType)
            #expect(try errorOf(text).code == "unsupported_media_type")
            let pngAsAudio = try await api.upload(TestImages.pngHeader(width: 10, height: 10), type: "audio", key: api.keyA)
            #expect(pngAsAudio.status == .unsupportedMediaType)
            let jpegAsFrame = try await api.upload(TestImages.jpegHeader(width: 10, height: 10), type: "frame", key: api.keyA)
            #expect(jpegAsFrame.status == .unsupportedMediaType)
            let notMultipart = try await api.send(
                .post, "/api/v1/assets", key: api.keyA, body: TestImages.pngHeader(width: 1, height: 1), contentType: "image/png")
            #expect(notMultipart.status == .unsupportedMediaType)
            let badType = try await api.upload(TestImages.pngHeader(width: 10, height: 10), type: "sticker", key: api.keyA)
            #expect(badType.status == .unprocessableContent)
            #expect(try errorOf(badType).field == "type")
        }
    }

    @Test func oversizedFileIs413AndHugeImageIs422() async throws {
        try await withAPI(configure: {
            $0.maxFileSizeBytes = 64 * 1024; $0.maxImageDimension = 4000
        }) { api in
            var big = TestImages.pngHeader(width: 100, height: 100)
            big += [UInt8](repeating: 7, count: 64 * 1024)
            let tooBig = try await api.upload(big, type: "image", key: api.keyA)
            #expect(tooBig.status == .contentTooLarge)
            #expect(try errorOf(tooBig).code == "file_too_large")
            let wide = try await api.upload(TestImages.pngHeader(width: 4001, height: 10), type: "image", key: api.keyA)
            #expect(wide.status == .unprocessableContent)
            #expect(try errorOf(wide).code == "unprocessable_content")
            let tall = try await api.upload(TestImages.jpegHeader(width: 10, height: 9000), type: "image", key: api.keyA)
            #expect(tall.status == .unprocessableContent)
            let exact = try await api.upload(TestImages.jpegHeader(width: 4000, height: 4000), type: "image", key: api.keyA)
            #expect(exact.status == .created)
            // Nothing was stored for the refused uploads.
            let listed = try await api.store.assets(tenantId: api.tenantA)
            #expect(listed.count == 1)
            // And no spool files are left behind.
            let spool = try FileManager.default.contentsOfDirectory(atPath: api.configuration.temporaryDirectory)
            #expect(spool.isEmpty)
        }
    }
}

@Suite(.serialized) struct APIJobFlowTests {
    /// Marks the only pending job completed with outputs stored under the seed's keys; returns the keys.
    func completeOnlyJob(_ api: APIHarness, jobId: String, videoBytes: [UInt8]) async throws -> (String, String) {
        let claimed = try await api.store.claim(owner: "test-worker", limit: 1)
        let lease = try #require(claimed.first?.lease)
        #expect(lease.jobId.uuidString.lowercased() == jobId)
        let videoKey = "videos/\(api.tenantA.uuidString.lowercased())/\(jobId).mp4"
        let thumbKey = "thumbnails/\(api.tenantA.uuidString.lowercased())/\(jobId).jpg"
        let dir = try Fixtures_temp()
        let videoFile = dir + "/v.mp4", thumbFile = dir + "/t.jpg"
        FileManager.default.createFile(atPath: videoFile, contents: Data(videoBytes))
        FileManager.default.createFile(atPath: thumbFile, contents: Data(TestImages.jpegHeader(width: 2, height: 2)))
        try await api.objectStore.put(localPath: videoFile, key: videoKey, contentType: "video/mp4")
        try await api.objectStore.put(localPath: thumbFile, key: thumbKey, contentType: "image/jpeg")
        #expect(try await api.store.complete(lease, videoURL: videoKey, thumbnailURL: thumbKey, processingTimeMs: 1234))
        return (videoKey, thumbKey)
    }

    @Test func signedURLsServeOutputsAndRefuseTampering() async throws {
        try await withAPI { api in
            let jobId = try await api.submitJob(key: api.keyA)
            let video = (0..<5000).map { UInt8($0 % 251) }
            let (videoKey, _) = try await completeOnlyJob(api, jobId: jobId, videoBytes: video)

            let job = try #require(try jsonObject(try await api.send(.get, "/api/v1/video/jobs/\(jobId)", key: api.keyA))["job"] as? [String: Any])
            #expect(job["status"] as? String == "completed")
            #expect(job["progress"] as? Int == 100)
            #expect(job["processingTimeMs"] as? Int == 1234)
            let videoURL = try #require(job["outputVideoUrl"] as? String)
            let thumbURL = try #require(job["outputThumbnailUrl"] as? String)
            #expect(videoURL.hasPrefix(api.configuration.baseURL + "/files?key=videos%2F"))
            #expect(!videoURL.contains(videoKey + "?") || videoURL.contains("signature="))
            let videoPath = String(videoURL.dropFirst(api.configuration.baseURL.count))
            let thumbPath = String(thumbURL.dropFirst(api.configuration.baseURL.count))

            let download = try await api.send(.get, videoPath, key: nil)
            #expect(download.status == .ok)
            #expect(Array(download.body.readableBytesView) == video)
            #expect(download.headers[.contentType] == "video/mp4")
            #expect(download.headers[.acceptRanges] == "bytes")
            let thumb = try await api.send(.get, thumbPath, key: nil)
            #expect(thumb.status == .ok)
            #expect(thumb.headers[.contentType] == "image/jpeg")

            let head = try await api.send(.head, videoPath, key: nil)
            #expect(head.status == .ok)
            #expect(head.headers[.contentLength] == "5000")
            #expect(head.body.readableBytes == 0)

            let partial = try await api.send(.get, videoPath, key: nil, headers: [.range: "bytes=100-199"])
            #expect(partial.status == .partialContent)
            #expect(Array(partial.body.readableBytesView) == Array(video[100...199]))
            #expect(partial.headers[.contentRange] == "bytes 100-199/5000")
            let outside = try await api.send(.get, videoPath, key: nil, headers: [.range: "bytes=6000-"])
            #expect(outside.status == .rangeNotSatisfiable)

            // Tampering: another key with the same signature, a changed expiry, a changed signature, none at all.
            let otherKeyPath = videoPath.replacingOccurrences(of: jobId, with: UUID().uuidString.lowercased())
            #expect(try await api.send(.get, otherKeyPath, key: nil).status == .forbidden)
            let components = try #require(URLComponents(string: videoPath))
            let expires = try #require(components.queryItems?.first { $0.name == "expires" }?.value)
            let signature = try #require(components.queryItems?.first { $0.name == "signature" }?.value)
            let later = videoPath.replacingOccurrences(of: "expires=\(expires)", with: "expires=\(Int(expires)! + 3600)")
            let laterResponse = try await api.send(.get, later, key: nil)
            #expect(laterResponse.status == .forbidden)
            #expect(try errorOf(laterResponse).code == "invalid_signature")
            let flipped = String(signature.prefix(63)) + (signature.hasSuffix("0") ? "1" : "0")
            #expect(try await api.send(.get, videoPath.replacingOccurrences(of: signature, with: flipped), key: nil).status == .forbidden)
            #expect(try await api.send(.get, "/files/\(videoKey)", key: nil).status == .forbidden)
            // A bearer key does not replace the signature.
            #expect(try await api.send(.get, "/files/\(videoKey)", key: api.keyA).status == .forbidden)

            // Expired: a correctly signed URL whose time has passed.
            let past = Int(Date().timeIntervalSince1970) - 10
            let expired = try await api.send(.get, api.signer.signedPath(key: videoKey, expires: past), key: nil)
            #expect(expired.status == .forbidden)
            #expect(try errorOf(expired).code == "url_expired")
            // Correctly signed but nothing stored there: 404.
            let missing = try await api.send(.get, api.signer.signedPath(key: "videos/nothing/here.mp4", expires: past + 1000), key: nil)
            #expect(missing.status == .notFound)
        }
    }

    @Test func paginationWalksEveryJobOnceNewestFirst() async throws {
        try await withAPI { api in
            let image = try await api.uploadImage(key: api.keyA)
            var submitted: [String] = []
            for i in 0..<7 {
                let response = try await api.submit(key: api.keyA, imageIds: [image], extra: ",\"priority\":\(i)")
                submitted.append(try #require(try jsonObject(response)["jobId"] as? String))
            }
            _ = try await api.submitJob(key: api.keyB)  // another tenant's job never shows up
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = "/api/v1/video/jobs?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try jsonObject(try await api.send(.get, uri, key: api.keyA))
                let jobs = try #require(page["jobs"] as? [[String: Any]])
                #expect(jobs.count <= 3)
                seen += jobs.compactMap { $0["id"] as? String }
                cursor = page["nextCursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == submitted.reversed())

            let cancelled = try await api.send(.post, "/api/v1/video/jobs/\(submitted[0])/cancel", key: api.keyA)
            #expect(cancelled.status == .ok)
            let filtered = try jsonObject(try await api.send(.get, "/api/v1/video/jobs?status=cancelled", key: api.keyA))
            #expect((filtered["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [submitted[0]])
            #expect(filtered["nextCursor"] is NSNull)
            let pending = try jsonObject(try await api.send(.get, "/api/v1/video/jobs?status=pending&limit=100", key: api.keyA))
            #expect((pending["jobs"] as? [Any])?.count == 6)

            for bad in ["limit=0", "limit=101", "limit=x", "limit=", "status=running", "status=", "cursor=%%%", "cursor=bm90LWEtY3Vyc29y"] {
                let response = try await api.send(.get, "/api/v1/video/jobs?\(bad)", key: api.keyA)
                #expect(response.status == .badRequest, "\(bad)")
            }
        }
    }

    @Test func cancelPendingThenConflict() async throws {
        try await withAPI { api in
            let jobId = try await api.submitJob(key: api.keyA)
            let first = try await api.send(.post, "/api/v1/video/jobs/\(jobId)/cancel", key: api.keyA)
            #expect(first.status == .ok)
            let job = try #require(try jsonObject(first)["job"] as? [String: Any])
            #expect(job["status"] as? String == "cancelled")
            #expect(job["cancelRequested"] as? Bool == true)
            let second = try await api.send(.post, "/api/v1/video/jobs/\(jobId)/cancel", key: api.keyA)
            #expect(second.status == .conflict)
            #expect(try errorOf(second).code == "conflict")
            // A cancelled job is never claimed.
            #expect(try await api.store.claim(owner: "w", limit: 5).isEmpty)
            #expect(try await api.send(.post, "/api/v1/video/jobs/not-a-uuid/cancel", key: api.keyA).status == .notFound)
        }
    }

    @Test func cancelRunningJobAsksTheWorker() async throws {
        try await withAPI { api in
            let jobId = try await api.submitJob(key: api.keyA)
            let lease = try #require(try await api.store.claim(owner: "w", limit: 1).first?.lease)
            let response = try await api.send(.post, "/api/v1/video/jobs/\(jobId)/cancel", key: api.keyA)
            #expect(response.status == .ok)
            let job = try #require(try jsonObject(response)["job"] as? [String: Any])
            #expect(job["status"] as? String == "processing")
            #expect(job["cancelRequested"] as? Bool == true)
            #expect(try await api.store.heartbeat(lease).cancelRequested)
        }
    }

    @Test func templatesHealthAndMetrics() async throws {
        try await withAPI { api in
            let templates = try jsonObject(try await api.send(.get, "/api/v1/templates", key: api.keyA))
            let names = (templates["templates"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["golden-frame", "no-frame", "silver-frame"])
            let health = try await api.send(.get, "/healthz", key: nil)
            #expect(health.status == .ok)
            #expect(try jsonObject(health)["status"] as? String == "ok")
            let ready = try await api.send(.get, "/readyz", key: nil)
            #expect(ready.status == .ok)
            let metrics = try await api.send(.get, "/metrics", key: nil)
            #expect(metrics.status == .ok)
            #expect(String(buffer: metrics.body).contains("rendc_test 1"))
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            let unknown = try await api.send(.get, "/api/v2/nothing", key: api.keyA)
            #expect(unknown.status == .notFound)
            #expect(try errorOf(unknown).code == "not_found")
        }
    }
}

func Fixtures_temp() throws -> String {
    try Fixtures.temporaryDirectory("rendc-api").path
}

enum TestAudio {
    /// A valid, short WAV file: 0.1 s of 8 kHz mono silence.
    static func wavHeader() -> [UInt8] {
        func le32(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        let samples = 800
        var out = Array("RIFF".utf8) + le32(36 + samples * 2) + Array("WAVEfmt ".utf8) + le32(16)
        out += le16(1) + le16(1) + le32(8000) + le32(16000) + le16(2) + le16(16)
        out += Array("data".utf8) + le32(samples * 2) + [UInt8](repeating: 0, count: samples * 2)
        return out
    }
}

@Suite(.serialized) struct APIMergeFieldTests {
    static let templates: @Sendable () throws -> [TemplateSummary] = {
        [
            TemplateSummary(
                name: "price-tag", description: "badge", defaultDuration: 15,
                fields: [
                    TemplateField(name: "caption", type: "text", required: false, maxLength: 120, description: ""),
                    TemplateField(name: "price", type: "text", required: true, maxLength: 12, description: ""),
                    TemplateField(name: "accent", type: "color", required: false, maxLength: 500, description: ""),
                    TemplateField(name: "logo", type: "image", required: false, maxLength: 500, description: ""),
                ])
        ]
    }

    @Test func theTemplateListShowsEachTemplatesFields() async throws {
        // A store learns there what a template needs (price-tag's required price) before it submits.
        try await withAPI(templates: Self.templates) { api in
            let list = try jsonObject(try await api.send(.get, "/api/v1/templates", key: api.keyA))
            let template = try #require((list["templates"] as? [[String: Any]])?.first)
            let fields = try #require(template["fields"] as? [[String: Any]])
            #expect(fields.compactMap { $0["name"] as? String } == ["caption", "price", "accent", "logo"])
            let price = try #require(fields.first { $0["name"] as? String == "price" })
            #expect(price["type"] as? String == "text" && price["required"] as? Bool == true && price["maxLength"] as? Int == 12)
        }
    }

    @Test func fieldsAreValidatedAgainstTheTemplateAndStoredWithTheJob() async throws {
        try await withAPI(templates: Self.templates) { api in
            let image = try await api.uploadImage(key: api.keyA)
            let logoOfB = try await api.uploadImage(key: api.keyB)
            func submit(_ fields: String, extra: String = "") async throws -> TestResponse {
                try await api.submit(key: api.keyA, imageIds: [image], extra: ",\"overlayType\":\"price-tag\",\"fields\":\(fields)" + extra)
            }
            for (fields, field) in [
                ("{}", "fields.price"),  // required
                ("{\"price\":\"$9\",\"prise\":\"x\"}", "fields.prise"),  // unknown
                ("{\"price\":\"$123456789012\"}", "fields.price"),  // too long
                ("{\"price\":\"$9\",\"accent\":\"red\"}", "fields.accent"),  // not a colour
                ("{\"price\":\"$9\\u0085\"}", "fields.price"),  // C1 control
                ("{\"price\":\"$9\",\"logo\":\"\(logoOfB)\"}", "fields.logo"),  // another tenant's picture
                ("{\"price\":1}", "fields.price"),  // not a string
            ] {
                let response = try await submit(fields)
                #expect([.unprocessableContent, .badRequest].contains(response.status), "\(fields)")
                #expect(try errorOf(response).field == field, "\(fields): \(String(buffer: response.body))")
            }
            let both = try await submit("{\"price\":\"$9\",\"caption\":\"a\"}", extra: ",\"textOverlay\":\"b\"")
            #expect(try errorOf(both).field == "fields.caption")
            // The template's caption limit (120 here) holds at submit, given either way (it was accepted, then
            // failed in the worker).
            let long = String(repeating: "ab ", count: 41)  // 123 characters: under the 500 of any caption
            let longField = try await submit("{\"price\":\"$9\",\"caption\":\"\(long)\"}")
            #expect(longField.status == .unprocessableContent)
            #expect(try errorOf(longField).field == "fields.caption")
            let longOverlay = try await submit("{\"price\":\"$9\"}", extra: ",\"textOverlay\":\"\(long)\"")
            #expect(longOverlay.status == .unprocessableContent)
            #expect(try errorOf(longOverlay).field == "textOverlay")
            #expect(try await api.store.jobCount(tenantId: api.tenantA) == 0)

            let logo = try await api.uploadImage(key: api.keyA)
            let ok = try await submit("{\"price\":\"$9.99\",\"accent\":\"#00FF00\",\"logo\":\"\(logo)\",\"caption\":\"New\"}")
            #expect(ok.status == .accepted, "\(String(buffer: ok.body))")
            let jobText = try #require(try jsonObject(ok)["jobId"] as? String)
            let jobId = try #require(UUID(uuidString: jobText))
            let logoId = try #require(UUID(uuidString: logo))
            let job = try #require(try await api.store.job(id: jobId, tenantId: api.tenantA))
            #expect(job.fields == ["price": .text("$9.99"), "accent": .text("#00FF00"), "logo": .asset(logoId)])
            #expect(job.textOverlay == "New")
        }
    }
}
