import ArgumentParser

@main
struct Rendc: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rendc",
        abstract: "Compile declarative video templates into vertical product videos (H.264/AAC MP4 + JPEG).",
        subcommands: [
            RenderCommand.self, PlanCommand.self, StillCommand.self, LintCommand.self, TemplatesCommand.self,
            DemoCommand.self, BeatsCommand.self, BenchCommand.self,
            ServeCommand.self, WorkerCommand.self, StudioCommand.self, MigrateCommand.self, TenantCommand.self, DoctorCommand.self,
        ]
    )
}
