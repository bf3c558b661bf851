// swift-tools-version:6.0
// rendc: a declarative render-spec compiler. YAML template -> plan -> FFmpeg (libav*) -> MP4 + JPEG.
//
// Dependency direction (one way): SpecLang -> Planner -> FilterGraphBackend -> RenderPipeline -> service / CLI.
// Only LibAV imports CFFmpeg (every FFmpeg user imports LibAV); only JobQueue imports postgres-nio;
// only JobAPI imports Hummingbird.
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
        .target(name: "LibAV", dependencies: ["CFFmpeg"]),
        // Per-pixel work: Ken Burns resampling, alpha blending, colour conversion. Plain C, no FFmpeg.
        .target(name: "RenderKernels", cSettings: kernelCFlags),

        // MARK: Values shared across the render seam
        .target(name: "RasterImage"),

        // MARK: The compiler
        .target(name: "SpecLang", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Planner", dependencies: ["SpecLang"]),
        .target(name: "CaptionText", dependencies: ["CTextShaping", "SpecLang", "RasterImage"]),
        .target(name: "BeatTracking", dependencies: ["LibAV", .product(name: "Crypto", package: "swift-crypto")]),
        // Prepared layers kept between renders (memory LRU + on-disk folder), keyed by content hash. No FFmpeg.
        .target(
            name: "LayerCache",
            dependencies: [.product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "FilterGraphBackend",
            dependencies: ["LibAV", "RenderKernels", "Planner", "RasterImage", "LayerCache"]
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
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "JobQueue",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Webhooks",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "JobWorker",
            dependencies: [
                "JobQueue", "RenderPipeline", "ObjectStorage", "Webhooks",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "JobAPI",
            dependencies: [
                "JobQueue", "ObjectStorage", "RenderPipeline", "Webhooks", "LibAV",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                "Planner",
            ]
        ),

        // MARK: The studio (`rendc studio`): a live template editor served on loopback
        .target(
            name: "Studio",
            dependencies: [
                "SpecLang", "Planner", "RenderPipeline", "FilterGraphBackend", "RasterImage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: The command line
        .executableTarget(
            name: "rendc",
            dependencies: [
                "SpecLang", "Planner", "FilterGraphBackend", "RenderPipeline", "BeatTracking", "CaptionText", "LibAV",
                "JobQueue", "JobWorker", "JobAPI", "ObjectStorage", "Webhooks", "Studio", "LayerCache",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),

        // MARK: Tests
        .target(
            name: "RendcTestSupport",
            dependencies: ["FilterGraphBackend", "RasterImage"],
            path: "Tests/RendcTestSupport"
        ),
        .testTarget(name: "SpecLangTests", dependencies: ["SpecLang", "RendcTestSupport"]),
        .testTarget(name: "PlannerTests", dependencies: ["Planner", "SpecLang", "RendcTestSupport"]),
        .testTarget(
            name: "RenderTests",
            dependencies: ["RenderPipeline", "FilterGraphBackend", "Planner", "SpecLang", "RendcTestSupport", "RenderKernels", "LibAV", "LayerCache"]
        ),
        .testTarget(
            name: "CaptionTextTests",
            dependencies: ["CaptionText", "SpecLang", "RasterImage", "RendcTestSupport"]
        ),
        .testTarget(name: "BeatTrackingTests", dependencies: ["BeatTracking", "RendcTestSupport"]),
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks", "RendcTestSupport", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "ObjectStorageTests", dependencies: ["ObjectStorage", "RendcTestSupport"]),
        .testTarget(
            name: "JobServiceTests",
            dependencies: ["JobQueue", "JobWorker", "ObjectStorage", "RenderPipeline", "RendcTestSupport", "Webhooks",
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(
            name: "JobAPITests",
            dependencies: ["JobAPI", "JobQueue", "JobWorker", "ObjectStorage", "RenderPipeline", "RendcTestSupport",
                           "Webhooks", "Planner", "LibAV",
                           .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "Yams", package: "Yams")]
        ),
        // Drives Debian's Chromium with Python Playwright against the studio and the /admin dashboard (Tests/Browser).
        .testTarget(
            name: "BrowserTests",
            dependencies: ["Studio", "JobAPI", "JobQueue", "ObjectStorage", "RenderPipeline", "RendcTestSupport",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]
        ),
    ]
)
