import ArgumentParser
import Training

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

// A training run stopped by Ctrl-C has saved its checkpoint and said so: exit as a signal would.
do {
    var command = try FaceStudio.parseAsRoot()
    try command.run()
} catch is TrainingInterrupted {
    FaceStudio.exit(withError: ExitCode(130))
} catch {
    FaceStudio.exit(withError: error)
}
