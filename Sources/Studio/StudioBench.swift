import Foundation
import Imaging
import Inference

/// Figures for `facestudio bench`: how long a full studio redraw takes during generation, and
/// how long one sixel preview takes to encode.
public enum StudioBench {
    public struct Result: Sendable {
        /// 99th percentile of a full redraw (render all panes + curses full repaint), ms.
        public var uiFrameMsP99: Double
        public var uiFrameMsMedian: Double
        /// Mean time to encode a 256×256 preview to sixel with the fixed palette, ms.
        public var sixelEncodeMs: Double
    }

    /// Discards jobs: the bench feeds the core synthetic step events itself.
    private final class DiscardJobs: JobSink {
        func submit(_ job: Job) {}
        func cancelAll() {}
    }

    /// Runs `frames` redraws at 120×40 into a curses screen writing to /dev/null (xterm-256color
    /// terminfo), each one a full repaint after a new step event, like a generation in progress.
    public static func run(frames: Int = 200, theme: Theme? = nil) throws -> Result {
        let theme = try theme ?? ThemeLibrary.standard().load("dark")
        guard let devNull = fopen("/dev/null", "w"), let input = fopen("/dev/null", "r") else {
            throw StudioError("cannot open /dev/null")
        }
        defer { fclose(devNull); fclose(input) }
        let screen = try CursesScreen(termName: "xterm-256color", output: devNull, input: input, mouse: false)
        defer { screen.close() }
        let core = StudioCore(theme: theme, depth: .palette256, graphics: .blocks, jobs: DiscardJobs(), unknownWords: { _ in [] })
        core.resize(width: 120, height: 40)
        let side = 16, slots = side * side, layers = 8
        core.handle(.loaded(ModelInfo(name: "bench", layers: layers, dModel: 256, sharedExperts: 1, routedExperts: 8, gridSide: side,
                                      sequenceExperts: ["t2i": ["copy", "zero", "noise"], "mmu": ["copy", "clip", "face"]])))
        core.handle(.char("a"))
        core.run(.generate)
        var rng = SystemRandomNumberGenerator()
        var times: [Double] = []
        for k in 0..<frames {
            let steps = 12, step = k % steps
            let preview = RGBImage(width: 64, height: 64, pixels: (0..<64 * 64 * 3).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let masked = (0..<slots).map { _ in Double.random(in: 0...1, using: &rng) > Double(step + 1) / Double(steps) }
            let routing = RoutingTrace(group: "t2i", layers: (0..<layers).map { _ in
                LayerRouting(frequencies: (0..<8).map { _ in Double.random(in: 0...0.5, using: &rng) },
                             topExpert: (0..<slots).map { _ in Int.random(in: 0..<8, using: &rng) })
            })
            let frame = StepEvent(step: step, steps: steps, codes: Array(repeating: 0, count: slots), masked: masked,
                                  confidence: (0..<slots).map { _ in Float.random(in: 0...1, using: &rng) },
                                  revealed: Array(0..<8), routing: routing, preview: preview, elapsed: Double(k))
            core.handle(.frame(id: 1, frame))
            let t0 = DispatchTime.now().uptimeNanoseconds
            screen.invalidate()
            screen.draw(core.render())
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        times.sort()
        let p99 = times[min(Int(Double(times.count) * 0.99), times.count - 1)]

        let encoder = SixelEncoder(palette: .general)
        let preview = ImageOps.nearestUpscale(RGBImage(width: 64, height: 64, pixels: (0..<64 * 64 * 3).map { i in UInt8((i * 37) & 255) }), factor: 4)
        _ = try encoder.encode(preview)
        let runs = 20
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<runs { _ = try encoder.encode(preview) }
        let sixelMs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(runs)
        return Result(uiFrameMsP99: p99, uiFrameMsMedian: times[times.count / 2], sixelEncodeMs: sixelMs)
    }
}
