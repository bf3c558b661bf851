// swift-tools-version:6.0
// rendc: a declarative render-spec compiler. YAML template -> plan -> FFmpeg (libav*) -> MP4 + JPEG.
//
// Dependency direction (one way): SpecLang -> Planner -> FilterGraphBackend -> RenderPipeline -> service / CLI.
// Each target declares exactly the modules it imports. Only LibAV imports CFFmpeg (every FFmpeg user imports
// LibAV; upload checks use the pure-Swift MediaFormats, so the HTTP API links no FFmpeg); only JobQueue imports
// postgres-nio; only the two HTTP servers (JobAPI, Studio) import Hummingbird; only RendcSettings knows environment
// variable names (the CLI parses settings once and passes values down).
import PackageDescription

/// Hot pixel kernels are optimised even in debug builds, so `swift test` renders at a usable speed.
let kernelCFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-strict-aliasing"])]

let package = Package(
    name: "rendc",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rendc", targets: ["rendc"]),
        .library(name: "SpecLang", targets: ["SpecLang"]),
        .library(name: "Planner", targets: ["Planner"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Imported directly (NIOCore, NIOHTTP1, NIOSSL, HTTPTypes), so declared although the packages above bring them.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // MARK: C libraries (Debian packages, found through pkg-config)
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavfilter libswscale libswresample libavutil",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavfilter-dev", "libswscale-dev", "libswresample-dev", "libavutil-dev"])]
        ),
        .systemLibrary(
            name: "CTextShaping",
            pkgConfig: "freetype2 harfbuzz",
            providers: [.apt(["libfreetype-dev", "libharfbuzz-dev"])]
        ),
        // The one wrapper over libav*: inputs (allow-listed demuxers, file protocol only), decoders, resampler,
        // scaler, filter graphs, the MP4 writer. Only this target and RenderKernels' C touch FFmpeg.
        .target(name: "LibAV", dependencies: ["CFFmpeg", "MediaFormats"]),
        // What an upload or input file is, read from its bytes (containers, structure checks, picture sizes) and the
        // media error type: pure Swift, shared by LibAV and the HTTP API's upload checks.
        .target(name: "MediaFormats"),
        // Per-pixel work: Ken Burns resampling, alpha blending, colour conversion. Plain C, no FFmpeg.
        .target(name: "RenderKernels", cSettings: kernelCFlags),

        // Lowercase-hex digests (API key hashes, MACs, cache keys): one encoding for every target that stores one.
        .target(name: "Digests", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),

        // MARK: Values shared across the render seam
        .target(name: "RasterImage"),

        // MARK: The compiler
        .target(name: "SpecLang", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Planner", dependencies: ["SpecLang"]),
        .target(name: "CaptionText", dependencies: ["CTextShaping", "SpecLang", "RasterImage"]),
        .target(name: "BeatTracking", dependencies: ["LibAV", "MediaFormats", "Digests"]),
        // Prepared layers kept between renders (memory LRU + on-disk folder), keyed by content hash. No FFmpeg.
        .target(
            name: "LayerCache",
            dependencies: ["Digests", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "FilterGraphBackend",
            dependencies: ["LibAV", "MediaFormats", "RenderKernels", "SpecLang", "Planner", "RasterImage", "LayerCache"]
        ),
        .target(
            name: "RenderPipeline",
            dependencies: [
                "SpecLang", "Planner", "FilterGraphBackend", "CaptionText", "BeatTracking", "RasterImage", "LayerCache",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: The job service
        .target(
            name: "ObjectStorage",
            dependencies: [
                "Digests",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "JobQueue",
            dependencies: [
                "SpecLang", "Digests",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Webhooks",
            dependencies: [
                "Digests",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "JobWorker",
            dependencies: [
                "JobQueue", "RenderPipeline", "SpecLang", "ObjectStorage", "Webhooks",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "JobAPI",
            dependencies: [
                "JobQueue", "ObjectStorage", "Webhooks", "MediaFormats", "SpecLang", "Planner", "Digests",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: The studio (`rendc studio`): a live template editor served on loopback
        .target(
            name: "Studio",
            dependencies: [
                "SpecLang", "Planner", "RenderPipeline", "FilterGraphBackend", "RasterImage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: The command line
        // Every environment variable rendc reads, parsed in one place with one set of rules (used only by `rendc`).
        .target(
            name: "RendcSettings",
            dependencies: [
                "JobAPI", "JobQueue", "LayerCache", "ObjectStorage", "RenderPipeline", "Webhooks",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The checks behind `rendc doctor` (FFmpeg libraries and encoders, fonts, database, storage, temp folder).
        .target(
            name: "Diagnostics",
            dependencies: ["LibAV", "JobQueue", "ObjectStorage", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "rendc",
            dependencies: [
                "RendcSettings", "Diagnostics", "SpecLang", "Planner", "FilterGraphBackend", "RenderPipeline", "BeatTracking", "CaptionText",
                "RasterImage", "JobQueue", "JobWorker", "JobAPI", "ObjectStorage", "Webhooks", "Studio", "LayerCache",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // MARK: Tests
        // Servers and fixtures the tests share (Postgres, moto, ffprobe, free ports). No production module: a
        // SpecLang or Planner test links no FFmpeg.
        .target(
            name: "RendcTestSupport",
            dependencies: [],
            path: "Tests/RendcTestSupport"
        ),
        // A fresh database per service test on the shared test PostgreSQL.
        .target(
            name: "QueueTestSupport",
            dependencies: ["JobQueue", "RendcTestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/QueueTestSupport"
        ),
        .testTarget(name: "SpecLangTests", dependencies: ["SpecLang", "RendcTestSupport"]),
        .testTarget(name: "PlannerTests", dependencies: ["Planner", "SpecLang", "RendcTestSupport"]),
        .testTarget(
            name: "RenderTests",
            dependencies: [
                "RenderPipeline", "FilterGraphBackend", "Planner", "SpecLang", "RendcTestSupport", "RenderKernels", "RasterImage", "LayerCache",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CaptionTextTests",
            dependencies: ["CaptionText", "SpecLang", "RasterImage", "FilterGraphBackend", "RendcTestSupport"]
        ),
        .testTarget(name: "BeatTrackingTests", dependencies: ["BeatTracking", "RendcTestSupport"]),
        .testTarget(
            name: "WebhooksTests",
            dependencies: [
                "Webhooks", "RendcTestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
        .testTarget(
            name: "ObjectStorageTests",
            dependencies: [
                "ObjectStorage", "RendcTestSupport", .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        .testTarget(
            name: "RendcSettingsTests",
            dependencies: ["RendcSettings", "JobAPI", "JobQueue", "ObjectStorage", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "JobServiceTests",
            dependencies: [
                "JobQueue", "JobWorker", "ObjectStorage", "RenderPipeline", "RendcTestSupport", "QueueTestSupport", "Webhooks",
                .product(name: "Logging", package: "swift-log"), .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "JobAPITests",
            dependencies: [
                "JobAPI", "JobQueue", "JobWorker", "ObjectStorage", "RenderPipeline", "RendcTestSupport", "QueueTestSupport",
                "Webhooks", "Planner", "SpecLang", "LibAV", "MediaFormats", "FilterGraphBackend", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Drives Debian's Chromium with Python Playwright against the studio and the /admin dashboard (Tests/Browser).
        .testTarget(
            name: "BrowserTests",
            dependencies: [
                "Studio", "JobAPI", "JobQueue", "ObjectStorage", "RenderPipeline", "RendcTestSupport", "QueueTestSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
