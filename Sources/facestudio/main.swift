import ArgumentParser

/// `facestudio`: one subcommand per capability. Each capability adds its command type to
/// `subcommands` below; with no arguments the default subcommand runs.
struct FaceStudio: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facestudio",
        abstract: "A terminal studio for unified fine-grained face models (UniF²ace style).",
        subcommands: [
            BenchCommand.self,
            DatasetCommand.self,
            TokenizerCommand.self,
            TrainCommand.self,
            GenerateCommand.self,
            AskCommand.self,
            CaptionCommand.self,
            ModelCommand.self,
            EncodersCommand.self,
            EvalCommand.self,
            StudioCommand.self,
        ],
        defaultSubcommand: StudioCommand.self
    )
}

FaceStudio.main()
