import ArgumentParser
import FaceModel
import Studio

/// `facestudio studio` (also what `facestudio` alone runs): the terminal studio.
struct StudioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "studio",
        abstract: "Open the terminal studio: prompt, step-by-step unmasking, chat and expert heatmaps.",
        discussion: """
        Keys: F1 or ? shows them all. Ctrl-G generates from the prompt, Ctrl-S saves the session,
        Ctrl-Q quits. Themes are files in Themes/ (dark, light, high-contrast, mono); the chosen
        one is remembered in the settings file ($XDG_CONFIG_HOME/facestudio/settings.json).
        """)

    @Option(help: modelHelp)
    var model: String?

    @Option(help: "Colour theme (a file NAME.theme in Themes/); remembered for next time.")
    var theme: String?

    @Option(help: "Image drawing: auto, sixel, blocks or ascii (auto: sixel if the terminal reports it, blocks in tmux).")
    var graphics: String = "auto"

    @Option(help: "Limit colours: truecolor, 256, 8 or mono (default: what the terminal reports; NO_COLOR gives mono).")
    var colors: String?

    @Option(help: "Session file: restored when it exists, and where Ctrl-S saves.")
    var session: String?

    @Flag(help: "Do not capture the mouse (lets the terminal select text).")
    var noMouse = false

    func run() throws {
        if let problem = StudioApp.terminalProblem() { throw StudioError(problem) }
        var options = StudioOptions()
        options.modelDirectory = try ModelDirectory.locate(explicit: model)
        options.theme = theme
        options.graphics = graphics
        options.colors = colors
        options.session = session
        options.mouse = !noMouse
        do {
            try StudioApp.validate(options)
        } catch {
            throw ValidationError("\(error)")
        }
        try StudioApp.run(options)
    }
}
