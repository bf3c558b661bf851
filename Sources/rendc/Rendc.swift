import ArgumentParser

@main
struct Rendc: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rendc",
        abstract: "Compile declarative video templates into product videos.",
        subcommands: []
    )
}
