import ArgumentParser
import Foundation
import Imaging
import FaceModel
import Inference

/// Options every inference command shares.
struct ModelOptions: ParsableArguments {
    @Option(help: modelHelp)
    var model: String?

    @Flag(help: "Print JSON on stdout.")
    var json = false

    func engine() throws -> Engine { try Engine(modelDirectory: ModelDirectory.locate(explicit: model)) }
}

/// `facestudio generate`: a face from a description, by MaskGIT unmasking.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate a face from a description (masked discrete diffusion).")

    @OptionGroup var common: ModelOptions

    @Option(help: "The description of the face.")
    var prompt: String

    @Option(help: "Random seed (same seed, same face).")
    var seed: UInt64 = 0

    @Option(help: "Unmasking steps.")
    var steps: Int = GenerateOptions().steps

    @Option(help: "Classifier-free guidance weight (0 = off).")
    var cfg: Float = GenerateOptions().cfg

    @Option(help: "T0, the annealed confidence noise.")
    var temperature: Float = GenerateOptions().temperature

    @Option(help: "Temperature of the softmax the codes are drawn from (below 1: safer, less varied faces).")
    var sampleTemperature: Float = GenerateOptions().sampleTemperature

    @Option(help: "Mask schedule: cosine or linear.")
    var schedule: String = GenerateOptions().schedule.rawValue

    @Option(help: "Output PNG.")
    var out: String = "face.png"

    @Option(help: "Also write one PNG per step and a contact sheet (steps.png) into this directory.")
    var frames: String?

    @Option(help: "Scale the written images up by this factor (nearest neighbour).")
    var scale: Int = 1

    struct Report: Encodable {
        var prompt: String
        var seed: UInt64
        var steps: Int
        var cfg: Float
        var temperature: Float
        var sample_temperature: Float
        var out: String
        var seconds: Double
        var prompt_truncated: Bool
        var unknown_words: [String]
        var revealed_per_step: [Int]
        /// Per step, per layer: fraction of image tokens choosing each routed expert.
        var t2i_expert_frequencies: [[[Double]]]
    }

    func run() throws {
        guard let schedule = MaskSchedule(rawValue: schedule) else {
            throw ValidationError("--schedule: \"\(schedule)\" is not one of \(MaskSchedule.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (1...16).contains(scale) else { throw ValidationError("--scale: \(scale) is outside 1…16") }
        let engine = try common.engine()
        var options = GenerateOptions()
        options.seed = seed; options.steps = steps; options.cfg = cfg; options.temperature = temperature
        options.sampleTemperature = sampleTemperature
        options.schedule = schedule
        options.previews = frames != nil
        if let frames { try FileManager.default.createDirectory(atPath: frames, withIntermediateDirectories: true) }
        var stepImages: [RGBImage] = []
        let progress = ProgressLine(label: "generate", total: steps, unit: "step", enabled: !common.json)
        let result = try engine.generate(prompt: prompt, options: options) { event in
            if let frames, let preview = event.preview {
                let image = upscale(preview)
                stepImages.append(image)
                try? PNGCodec.write(image, to: String(format: "%@/step_%02d.png", frames, event.step))
            }
            progress.update(event.step + 1)
        }
        progress.finish()
        try PNGCodec.write(upscale(result.image), to: out)
        if let frames {
            let labels = stepImages.indices.map { "step \($0 + 1)" }
            try PNGCodec.write(ContactSheet.make(images: stepImages, labels: labels, columns: min(6, stepImages.count)), to: frames + "/steps.png")
        }
        let unknown = engine.unknownWords(in: prompt).map(\.word)
        if common.json {
            try printJSON(Report(prompt: prompt, seed: seed, steps: steps, cfg: cfg, temperature: temperature, sample_temperature: sampleTemperature, out: out,
                                 seconds: result.seconds, prompt_truncated: result.promptTruncated, unknown_words: unknown,
                                 revealed_per_step: result.revealedPerStep,
                                 t2i_expert_frequencies: result.routing.map { $0.layers.map(\.frequencies) }))
        } else {
            if !unknown.isEmpty { warn("words the model never saw: \(UnknownWordList(unknown))") }
            if result.promptTruncated { warn("the prompt is longer than the model reads (\(engine.promptCapacity) tokens); the end was cut") }
            print("wrote \(out) (\(String(format: "%.2f", result.seconds)) s, seed \(seed))")
        }
    }

    func upscale(_ image: RGBImage) -> RGBImage { scale > 1 ? ImageOps.nearestUpscale(image, factor: scale) : image }
}

/// Shared by `ask` and `caption`: decoding options and streaming output.
struct ChatArguments: ParsableArguments {
    @Option(help: "An image (PNG).")
    var image: String

    @Option(help: "Sampling temperature (0 = greedy).")
    var temperature: Float = 0

    @Option(help: "Sample only from the k most likely tokens (0 = all).")
    var topK: Int = 0

    @Option(help: "Nucleus sampling mass (1 = off).")
    var topP: Float = 1

    @Option(help: "Longest answer, in tokens.")
    var maxTokens: Int = 160

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(help: "Never repeat an n-gram of this many tokens within one answer (0 = off).")
    var noRepeatNgram: Int = ChatOptions().noRepeatNgram

    var options: ChatOptions {
        var o = ChatOptions()
        o.temperature = temperature; o.topK = topK; o.topP = topP; o.maxTokens = maxTokens; o.seed = seed; o.noRepeatNgram = noRepeatNgram
        return o
    }

    /// Streams answer text to stdout as it is decoded (not in JSON mode).
    func printer(json: Bool) -> (TokenEvent) -> Void {
        { event in
            guard !json else { return }
            // Through stdout's own buffer, so the pieces stay in order with print()'s "Q:" lines.
            print(event.text, terminator: "")
            fflush(stdout)
        }
    }
}

/// `facestudio ask`: questions about a face, answered token by token.
struct AskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask", abstract: "Ask questions about a face (repeat --question for a multi-turn chat).")

    @OptionGroup var common: ModelOptions
    @OptionGroup var chat: ChatArguments

    @Option(help: "A question; repeat for several turns.")
    var question: [String] = []

    struct Turn: Encodable { var question: String; var answer: String }

    func run() throws {
        guard !question.isEmpty else { throw ValidationError("--question: give at least one question") }
        let engine = try common.engine()
        let session = try engine.chat(image: PNGCodec.read(path: chat.image))
        var turns: [Turn] = []
        for q in question {
            if !common.json { print("Q: \(q)\nA: ", terminator: ""); fflush(stdout) }
            let answer = try session.ask(q, options: chat.options, onToken: chat.printer(json: common.json))
            if !common.json { print("") }
            turns.append(Turn(question: q, answer: answer))
        }
        if common.json { try printJSON(turns) }
    }
}

/// `facestudio caption`: a detailed description of a face.
struct CaptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "caption", abstract: "Describe a face in detail.")

    @OptionGroup var common: ModelOptions
    @OptionGroup var chat: ChatArguments

    func run() throws {
        let engine = try common.engine()
        let caption = try engine.caption(image: PNGCodec.read(path: chat.image), options: chat.options,
                                         onToken: chat.printer(json: common.json))
        if common.json { try printJSON(["image": chat.image, "caption": caption]) } else { print("") }
    }
}

