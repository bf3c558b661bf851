import ArgumentParser

// Subcommands whose bodies are being built in their own files by their issues.
// Each moves to its own file (BeatsCommand.swift, ServeCommand.swift, ...) when it lands.

struct NotYetAvailable: Error, CustomStringConvertible {
    var command: String
    var description: String { "rendc \(command) is not available in this build yet" }
}
