import ArgumentParser
import Foundation
import Tensor
import FaceModel
import Studio

/// `facestudio bench`: performance figures, as ratios against OpenBLAS sgemm measured in the
/// same run (the machines are shared and noisy, so absolute times alone mislead).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure engine performance against OpenBLAS sgemm in the same run.")

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @Option(name: .long, help: "Matrix size for the matmul figures.")
    var size = 1024

    @Option(name: .long, help: "Model directory for the model figures (a random model of the default size when it does not load).")
    var model: String?

    @Flag(name: .long, help: "Only the matmul figures.")
    var kernelsOnly = false

    func run() throws {
        let figures = Figures(printing: !json)
        matmulFigures(figures)
        operatorFigures(figures)
        if !kernelsOnly { try modelFigures(figures, peakSize: size) }
        // The studio's own cost per frame (rendering every pane and repainting) and per preview.
        let studio = try StudioBench.run()
        figures.record("ui_frame_ms_p99", studio.uiFrameMsP99)
        figures.record("sixel_encode_ms", studio.sixelEncodeMs)
        if json { try printJSON(figures.rounded) }
    }

    /// Figures in the order measured; printed as they come unless the output is JSON.
    final class Figures {
        let printing: Bool
        private(set) var all: [(String, Double)] = []
        init(printing: Bool) { self.printing = printing }

        func record(_ key: String, _ value: Double) {
            all.append((key, value))
            if printing { print(String(format: "%-36@ %10.3f", key as NSString, value)) }
        }

        /// Every figure to three decimals, for `--json`.
        var rounded: [String: Double] { Dictionary(all.map { ($0.0, ($0.1 * 1000).rounded() / 1000) }, uniquingKeysWith: { $1 }) }
    }

    /// sgemm's peak and the engine's matmul beside it, at the peak's shape and the model's; returns the peak.
    @discardableResult
    func matmulFigures(_ figures: Figures) -> Double {
        let record = figures.record
        let n = size
        let peak = Bench.sgemmGFLOPS(n: n)
        record("sgemm_peak_gflops", peak)

        // The engine's matmul op (allocation, dispatch and autograd bookkeeping included) at the
        // peak's own shape: what the engine adds on top of sgemm.
        do {
            let x = Tensor(filled: 0.5, shape: [n, n]), w = Tensor(filled: 0.25, shape: [n, n])
            let engine = 2 * Double(n * n * n) / Bench.time { _ = GradMode.withoutGrad { x.matmul(w, transposeW: true) } } / 1e9
            record("matmul_gflops", engine)
            record("matmul_over_sgemm", engine / peak)
        }
        // And at the transformer's shapes [rows, in] x [out, in]^T: the lowest of them, alone and
        // compared with raw sgemm at the same shape (small shapes run below the peak in sgemm too).
        var lowest = Double.infinity, lowestRatio = Double.infinity
        for (m, k, o) in [(512, 256, 256), (512, 256, 1024), (512, 1024, 256)] {
            let x = Tensor(filled: 0.5, shape: [m, k]), w = Tensor(filled: 0.25, shape: [o, k])
            let flops = 2 * Double(m * k * o)
            let engine = flops / Bench.time { _ = GradMode.withoutGrad { x.matmul(w, transposeW: true) } } / 1e9
            let out = Tensor(zeros: [m, o])
            let raw = flops / Threading.withOpenBLASThreading {
                Bench.time { gemmForcedSgemm(out.data, x.data, w.data, M: m, N: o, K: k, transB: true) }
            } / 1e9
            lowest = min(lowest, engine)
            lowestRatio = min(lowestRatio, engine / raw)
        }
        record("matmul_transformer_shapes_gflops", lowest)
        record("matmul_transformer_shapes_over_sgemm_same_shape", lowestRatio)
        return peak
    }

    /// Attention, convolution, small sgemms and the one-row (gemv) path.
    func operatorFigures(_ figures: Figures) {
        let record = figures.record
        let n = size

        // Attention at the T2I shape (2 sequences for CFG, 355 tokens, 8 heads of 32).
        do {
            let B = 2, T = 355, E = 256, H = 8
            var rng = RNG(seed: 1)
            let q = Tensor.randn([B, T, E], rng: &rng), k = Tensor.randn([B, T, E], rng: &rng), v = Tensor.randn([B, T, E], rng: &rng)
            let mask = Tensor(zeros: [T, T])
            let t = Bench.time { _ = GradMode.withoutGrad { q.attention(k: k, v: v, heads: H, mask: mask) } }
            record("attention_gflops", 4 * Double(B * T * T * E) / t / 1e9)
        }
        // A 3×3 convolution at the image tokenizer's 32×32 stage.
        do {
            var rng = RNG(seed: 2)
            let x = Tensor.randn([4, 32, 32, 32], rng: &rng), w = Tensor.randn([32, 32, 3, 3], rng: &rng)
            let t = Bench.time { _ = GradMode.withoutGrad { x.conv2d(weight: w, padding: 1) } }
            record("conv2d_gflops", 2 * Double(4 * 32 * 32 * 32 * 32 * 9) / t / 1e9)
            // Training: forward and backward (input and weight gradients) at an encoder's batch.
            let xb = Tensor.randn([32, 32, 32, 32], rng: &rng), wb = Tensor.randn([32, 32, 3, 3], rng: &rng)
            xb.requiresGrad = true; wb.requiresGrad = true
            let tt = Bench.time { xb.conv2d(weight: wb, padding: 1).sum().backward(); xb.zeroGrad(); wb.zeroGrad() }
            record("conv2d_train_gflops", 3 * 2 * Double(32 * 32 * 32 * 32 * 32 * 9) / tt / 1e9)
        }

        // Small-size behaviour: what a d=256 transformer's projections see.
        for m in [64, 256] {
            record("sgemm_gflops_\(m)", Bench.sgemmGFLOPS(n: m))
        }

        let w = Tensor(filled: 0.25, shape: [n, n])
        // One-row products: gemv path vs a one-row sgemm.
        let x = Tensor(filled: 0.1, shape: [1, n])
        let y = Tensor(zeros: [1, n])
        let tGemv = Bench.time { _ = GradMode.withoutGrad { x.matmul(w, transposeW: true) } }
        let tRow = Bench.time { gemmOneRowSgemm(y, x, w, n) }
        record("gemv_gflops", 2 * Double(n * n) / tGemv / 1e9)
        record("gemv_speedup_over_1row_sgemm", tRow / tGemv)

    }

    /// Generation, decoding, training and tokenizer figures on the model (a random one of the
    /// default size when none loads).
    func modelFigures(_ figures: Figures, peakSize n: Int) throws {
        let record = figures.record
        let model = (try? ModelDirectory.locate(explicit: self.model)) ?? "Models"
        do {
            let bench = try ModelBench(directory: model)
            if !json { print("model figures on: \(bench.source)") }
            let (stepMs, imageMs) = try bench.generation()
            record("maskgit_step_ms", stepMs)
            record("image_ms", imageMs)
            // The step time above includes decoding a preview image; utilisation is the network's,
            // each image timed beside its own sgemm peak (the VM's speed drifts within a run).
            let network = try bench.generation(previews: false)
            record("maskgit_step_ms_without_preview", network.stepMs)
            record("maskgit_step_flop_utilisation", try bench.maskgitShareOfPeak(peakSize: n))
            let decode = try bench.decoding(context: 256)
            record("decode_tokens_per_s_kv", decode.kv)
            record("decode_tokens_per_s_nokv", decode.noKV)
            let train = try bench.training(peakSize: n)
            record("train_tokens_per_s", train.tokensPerS)
            record("train_mfu", train.mfu)
            for (key, value) in try tokenizerBenchFigures(directory: model) { record(key, value) }
        }
    }
}

/// A one-row product forced through sgemm (what gemv replaces), for the comparison above.
private func gemmOneRowSgemm(_ y: Tensor, _ x: Tensor, _ w: Tensor, _ n: Int) {
    gemmForcedSgemm(y.data, x.data, w.data, M: 1, N: n, K: n, transB: true)
}
