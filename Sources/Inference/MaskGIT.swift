import Foundation
import Tensor
import Imaging
import FaceModel

/// How many slots stay masked after each step.
public enum MaskSchedule: String, Codable, Sendable, CaseIterable {
    case cosine, linear

    /// The fraction still masked after `r` of the steps (r in (0, 1]).
    func maskedFraction(_ r: Double) -> Double {
        switch self {
        case .cosine: return cos(Double.pi * r / 2)
        case .linear: return 1 - r
        }
    }
}

/// Settings of `generate` (docs/DESIGN.md "Sampling"). Defaults: 12 steps, CFG 1.75, T0 4.5, the
/// one place those numbers are written (the CLI's options and the studio start from them).
public struct GenerateOptions: Codable, Sendable, Equatable {
    public var steps: Int = 12
    /// Classifier-free guidance weight w in `(1+w)·ℓ_cond − w·ℓ_uncond` (0 turns CFG off).
    public var cfg: Float = 1.75
    /// T0: the Gumbel noise scale on the confidences, annealed as `T0·(1−r)`.
    public var temperature: Float = 4.5
    /// Temperature of the softmax the codes are sampled from.
    public var sampleTemperature: Float = 1.0
    public var schedule: MaskSchedule = .cosine
    public var seed: UInt64 = 0
    /// Decode a preview image at every step.
    public var previews: Bool = true

    public init() {}

    /// Every field may be missing and takes its default (a studio session from before the
    /// sampler's later fields were stored holds only seed, steps, cfg and temperature).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GenerateOptions()
        steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? d.steps
        cfg = try c.decodeIfPresent(Float.self, forKey: .cfg) ?? d.cfg
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? d.temperature
        sampleTemperature = try c.decodeIfPresent(Float.self, forKey: .sampleTemperature) ?? d.sampleTemperature
        schedule = try c.decodeIfPresent(MaskSchedule.self, forKey: .schedule) ?? d.schedule
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        previews = try c.decodeIfPresent(Bool.self, forKey: .previews) ?? d.previews
    }

    func validate() throws {
        if !(1...256).contains(steps) { throw InferenceError.invalidOption("steps: \(steps) is outside 1…256") }
        if !(cfg >= 0 && cfg <= 50) { throw InferenceError.invalidOption("cfg: \(cfg) is outside 0…50") }
        if !(temperature >= 0 && temperature <= 100) { throw InferenceError.invalidOption("temperature: \(temperature) is outside 0…100") }
        if !(sampleTemperature > 0 && sampleTemperature <= 10) { throw InferenceError.invalidOption("sample temperature: \(sampleTemperature) is outside (0, 10]") }
    }
}

/// What `generate` produced.
public struct GenerationResult: Sendable {
    public var codes: [Int]
    public var image: RGBImage
    /// Slots revealed at each step.
    public var revealedPerStep: [Int]
    /// Routing of the image slots at each step.
    public var routing: [RoutingTrace]
    public var seconds: Double
    /// Prompt tokens beyond the model's prompt length (dropped).
    public var promptTruncated: Bool
}

/// MaskGIT's bookkeeping, independent of the network: which slots are known, how many stay
/// masked after each step, and which to re-mask. `logits` are the guided logits of the
/// unknown slots only, [unknownSlots.count, C] in slot order (known slots need none).
struct MaskGITState {
    let slots: Int
    let codebook: Int
    var known: [Int?]
    var rng: RNG

    init(slots: Int, codebook: Int, seed: UInt64) {
        self.slots = slots
        self.codebook = codebook
        known = Array(repeating: nil, count: slots)
        rng = RNG(seed: seed)
    }

    var unknownCount: Int { known.reduce(0) { $0 + ($1 == nil ? 1 : 0) } }
    /// The slots still masked, ascending: the rows `step` expects logits for.
    var unknownSlots: [Int] { known.indices.filter { known[$0] == nil } }

    /// Samples every unknown slot, keeps the most confident, and returns the guesses, the
    /// probability of each guess, and the slots revealed.
    mutating func step(_ k: Int, of steps: Int, logits: [Float], options: GenerateOptions)
        -> (codes: [Int], probability: [Float], revealed: [Int]) {
        let C = codebook
        var codes = [Int](repeating: 0, count: slots)
        var probability = [Float](repeating: 1, count: slots)
        var confidence = [Float](repeating: .infinity, count: slots)
        let r = Double(k + 1) / Double(steps)
        let noise = options.temperature * Float(1 - r)
        let unknown = unknownSlots
        precondition(logits.count == unknown.count * C, "MaskGIT step: \(logits.count) logits for \(unknown.count) unknown slots")
        for i in 0..<slots { if let code = known[i] { codes[i] = code } }
        let invT = 1 / options.sampleTemperature
        // The random draws first, in slot order (a uniform for the categorical draw, then the
        // Gumbel noise), so the slots can be sampled on every worker and a seed still gives
        // the same image.
        var uniforms = [Float](repeating: 0, count: unknown.count), gumbels = uniforms
        for n in unknown.indices { uniforms[n] = rng.uniform(); gumbels[n] = rng.gumbel() }
        logits.withUnsafeBufferPointer { logits in
        codes.withUnsafeMutableBufferPointer { codes in
        probability.withUnsafeMutableBufferPointer { probability in
        confidence.withUnsafeMutableBufferPointer { confidence in
            Threading.parallelChunks(unknown.count, minChunk: 16) { lo, hi in
                let row = UnsafeMutablePointer<Float>.allocate(capacity: C)
                defer { row.deallocate() }
                for n in lo..<hi {
                    // Softmax at the sampling temperature, then one categorical draw.
                    for c in 0..<C { row[c] = logits[n * C + c] * invT }
                    softmaxRow(row, C)
                    var u = uniforms[n]
                    var pick = C - 1
                    for c in 0..<C { u -= row[c]; if u < 0 { pick = c; break } }
                    let i = unknown[n]
                    codes[i] = pick
                    probability[i] = row[pick]
                    confidence[i] = logf(max(row[pick], 1e-30)) + noise * gumbels[n]
                }
            }
        }
        }
        }
        }
        // Keep-masked count from the schedule; the initial unknown count is every slot.
        var stayMasked = 0
        if k < steps - 1 {
            let n = Int(floor(Double(slots) * options.schedule.maskedFraction(r)))
            stayMasked = min(max(n, 1), unknown.count - 1)
            stayMasked = max(stayMasked, 0)
        }
        let order = unknown.sorted { confidence[$0] < confidence[$1] || (confidence[$0] == confidence[$1] && $0 < $1) }
        let revealed = Array(order[stayMasked...]).sorted()
        for i in revealed { known[i] = codes[i] }
        return (codes, probability, revealed)
    }
}

extension Engine {
    /// Generates a face for `prompt` by MaskGIT unmasking, calling `onStep` after every step.
    /// Deterministic for a seed. Throws `InferenceError.cancelled` when cancelled between steps.
    public func generate(prompt: String, options: GenerateOptions = GenerateOptions(), cancel: Cancellation? = nil,
                         onStep: ((StepEvent) -> Void)? = nil) throws -> GenerationResult {
        try options.validate()
        let started = Date()
        let model = directory.model, v = model.vocab
        let N = model.config.imageTokens, C = model.config.imageCodebookSize
        let promptIDs = directory.textTokenizer.encode(prompt)
        var state = MaskGITState(slots: N, codebook: C, seed: options.seed)
        var revealedPerStep: [Int] = [], traces: [RoutingTrace] = []
        var codes = [Int](repeating: 0, count: N)
        var truncated = false
        var mask: Tensor? = nil  // the layouts keep their shape from step to step: built once
        for k in 0..<options.steps {
            if cancel?.isCancelled == true { throw InferenceError.cancelled }
            let ids = state.known.map { $0.map { v.imageOffset + $0 } ?? v.mask }
            // The text segment only as long as the prompt needs (no rows of padding to compute).
            let slots = builder.promptSlots([promptIDs])
            let (cond, cut) = builder.t2i(text: promptIDs, imageIDs: ids, promptSlots: slots)
            truncated = cut
            var layouts = [cond]
            if options.cfg > 0 { layouts.append(builder.t2i(text: [], imageIDs: ids, promptSlots: slots).0) }
            let T = cond.count
            let imageRows = Array(cond.imageRange)
            // Logits only where a code is still to be drawn.
            let unknownRows = state.unknownSlots.map { cond.imageRange.lowerBound + $0 }
            // The noise expert reads the current mask ratio; both CFG rows share it, so its
            // resampler runs once per step.
            let ratio = SequenceConditioning.maskRatio(Float(state.unknownCount) / Float(N))
            let (logits, record) = GradMode.withoutGrad { () -> ([Float], ForwardRecord) in
                if mask == nil { mask = Tensor(shape: [layouts.count, T, T], values: layouts.flatMap(SequenceBuilder.attentionMask)) }
                let (hidden, record) = model.forward(layouts, mask: mask, conditioning: layouts.map { _ in ratio })
                let rows = unknownRows + (layouts.count > 1 ? unknownRows.map { $0 + T } : [])
                let all = model.imageLogits(hidden.indexSelect(rows: rows))
                guard layouts.count > 1 else { return (all.values, record) }
                // ℓ = (1+w)·ℓ_cond − w·ℓ_uncond
                let w = options.cfg, half = unknownRows.count * C, both = all.data
                var guided = [Float](repeating: 0, count: half)
                guided.withUnsafeMutableBufferPointer { guided in
                    Threading.parallelChunks(half, minChunk: 1 << 15) { lo, hi in
                        for j in lo..<hi { guided[j] = (1 + w) * both[j] - w * both[half + j] }
                    }
                }
                return (guided, record)
            }
            let (stepCodes, probability, revealed) = state.step(k, of: options.steps, logits: logits, options: options)
            codes = stepCodes
            let trace = RoutingTrace(group: .t2i, record: record, rows: imageRows)
            revealedPerStep.append(revealed.count)
            traces.append(trace)
            if let onStep {
                let preview = options.previews ? try directory.imageTokenizer.decode(codes) : nil
                onStep(StepEvent(step: k, steps: options.steps, codes: codes, masked: state.known.map { $0 == nil },
                                 confidence: probability, revealed: revealed, routing: trace, preview: preview,
                                 elapsed: Date().timeIntervalSince(started)))
            }
        }
        let image = try directory.imageTokenizer.decode(codes)
        return GenerationResult(codes: codes, image: image, revealedPerStep: revealedPerStep, routing: traces,
                                seconds: Date().timeIntervalSince(started), promptTruncated: truncated)
    }
}
