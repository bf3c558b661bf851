import Foundation

/// Paths shared by the test targets.
public enum Fixtures {
    /// The package root (the folder holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// The built-in templates folder.
    public static var specsDirectory: URL { packageRoot.appendingPathComponent("specs") }

    /// The folder every test's scratch files go under: one per test process (`rendc-tests-<pid>` in the system's
    /// temporary folder), removed when the process exits, so a run leaves nothing behind however a test ends. Folders
    /// of earlier runs whose process is gone (killed, crashed) are removed when the first one is made.
    public static let scratchRoot: URL = {
        let system = FileManager.default.temporaryDirectory
        let pid = getpid()
        if let names = try? FileManager.default.contentsOfDirectory(atPath: system.path) {
            for name in names where name.hasPrefix(scratchPrefix) {
                guard let owner = Int32(name.dropFirst(scratchPrefix.count)), owner != pid else { continue }
                if kill(owner, 0) != 0 && errno == ESRCH {
                    try? FileManager.default.removeItem(at: system.appendingPathComponent(name))
                }
            }
        }
        let root = system.appendingPathComponent("\(scratchPrefix)\(pid)")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        removedAtExit = strdup(root.path)
        atexit {
            guard let path = Fixtures.removedAtExit else { return }
            try? FileManager.default.removeItem(atPath: String(cString: path))
        }
        return root
    }()

    private static let scratchPrefix = "rendc-tests-"
    nonisolated(unsafe) private static var removedAtExit: UnsafeMutablePointer<CChar>?

    /// A fresh folder under `scratchRoot`. Callers may remove it early; it goes with the process otherwise.
    public static func temporaryDirectory(_ name: String = "rendc-test") throws -> URL {
        let url = scratchRoot.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A fresh file path under `scratchRoot` (the file is not created).
    public static func temporaryFile(_ name: String, extension ext: String) -> String {
        scratchRoot.appendingPathComponent("\(name)-\(UUID().uuidString).\(ext)").path
    }
}
