import Tensor

// Sequence-level MoE (docs/DESIGN.md "Sequence-level MoE"; MoE++ zero/copy experts plus experts
// that inject conditioning through the resampler). After the token-level MoE of every block,
// one router per task group scores the group's three experts on the mean-pooled hidden state of
// each sequence; the top 2 run with their softmax gates renormalised to sum to 1:
//
//   out = Σ_{e ∈ top2} ĝ_e · E_e(h)
//   copy:  E(h) = h            zero: E(h) = 0
//   noise / clip / face: E(h) = β·h + (1−β)·R(c) on the image positions, h elsewhere,
//   β = σ(trainable logit), R(c) the resampled conditioning [image tokens, d_model].
//
// Written as h plus corrections, so experts that change nothing cost nothing:
//   out = h − ĝ_zero·h + Σ_cond ĝ_c·(1−β_c)·(R_c − h)|image rows.
//
// Pooling. T2I pools every non-pad position. MMU pools the image prefix `<|mmu|> <|soi|> img
// <|eoi|>` only: that prefix attends only to itself, so its hidden states — and with them the
// routing — do not depend on the conversation. A KV-cached chat can therefore decide the
// routing once at prefill and reuse it for every later token, and a full recompute of the
// longer sequence reaches the same decision. (In the MMU group every expert leaves text rows
// unchanged, so the reused decision only matters for the routing trace there.)

/// A whole-sequence expert.
public enum SequenceExpert: String, Sendable, Codable, CaseIterable {
    case copy, zero, noise, clip, face

    /// The experts of a task group, in router order.
    public static func group(_ task: SequenceLayout.Task) -> [SequenceExpert] {
        task == .t2i ? [.copy, .zero, .noise] : [.copy, .clip, .face]
    }

    /// Whether the expert blends resampled conditioning into the image positions.
    public var isConditioning: Bool { self == .noise || self == .clip || self == .face }
}

/// The frozen encoders' view of one image: CLIP tokens [clip_tokens × clip_dim] and face tokens
/// [face_tokens × face_dim], row-major; and the face encoder's readout of its own embedding
/// (`FaceEncoder.readout`: attribute and detail probabilities), which `mmu_face_readout` reads.
public struct ImageEmbeddings: Sendable, Equatable {
    public var clip: [Float]
    public var face: [Float]
    public var readout: [Float]
    public init(clip: [Float], face: [Float], readout: [Float] = []) { self.clip = clip; self.face = face; self.readout = readout }

    /// All-zero embeddings of the configured shape (benchmarks, synthetic corpora).
    public static func zeros(for config: ModelConfig) -> ImageEmbeddings {
        ImageEmbeddings(clip: [Float](repeating: 0, count: config.clipTokens * config.clipDim),
                        face: [Float](repeating: 0, count: config.faceTokens * config.faceDim),
                        readout: [Float](repeating: 0, count: config.mmuFaceReadout ? config.faceReadoutDim : 0))
    }
}

/// What the conditioning experts of one sequence read.
public enum SequenceConditioning: Sendable, Equatable {
    /// T2I: the fraction of image tokens that are masked in the input.
    case maskRatio(Float)
    /// MMU: the embeddings of the conversation's image.
    case image(ImageEmbeddings)
}

/// One layer's sequence-level decisions for a batch.
public struct SequenceRouting: Sendable, Equatable {
    /// The group's experts, in router order (indices below point into this).
    public var experts: [SequenceExpert]
    public var sequences: Int
    /// Per sequence, its two experts (highest gate first).
    public var chosen: [Int]
    /// Per sequence, the renormalised gates of `chosen` (sum to 1).
    public var gates: [Float]
    /// Per sequence, the router's softmax over all experts.
    public var scores: [Float]

    public static let k = 2

    /// Per expert of the group: its gate in sequence `b`, 0 when not chosen.
    public func weights(sequence b: Int) -> [Float] {
        var w = [Float](repeating: 0, count: experts.count)
        for s in 0..<SequenceRouting.k { w[chosen[b * SequenceRouting.k + s]] += gates[b * SequenceRouting.k + s] }
        return w
    }
}

/// Where one sequence's rows sit in the flattened batch and which of them are image positions.
struct SequenceRows {
    /// Every row of the sequence in the batch's B·T rows.
    var rows: Range<Int>
    /// (row, image slot) for the rows that are image positions.
    var image: [(row: Int, slot: Int)]
}

/// The sequence-level mixture of one task group in one block.
public final class SequenceMoE: Layer {
    public let experts: [SequenceExpert]
    public let router: Linear
    /// β logit per conditioning expert (the same order as `experts`, copy/zero skipped).
    public let betaLogits: [SequenceExpert: Tensor]

    /// Initial β = σ(2) ≈ 0.88: a fresh conditioning expert mostly passes the stream on.
    static let initialBetaLogit: Float = 2

    init(task: SequenceLayout.Task, dim: Int, rng: inout RNG) {
        experts = SequenceExpert.group(task)
        router = Linear(dim, experts.count, bias: false, std: 0.02, rng: &rng)
        var betas: [SequenceExpert: Tensor] = [:]
        for e in experts where e.isConditioning { betas[e] = Tensor(filled: SequenceMoE.initialBetaLogit, shape: [1]) }
        betaLogits = betas
    }

    /// β of a conditioning expert.
    public func beta(_ expert: SequenceExpert) -> Float { 1 / (1 + expf(-(betaLogits[expert]?.item ?? 0))) }

    /// Mixes `h` [B·T, d] per sequence.
    ///
    /// - `pooling`: [B, B·T] averaging each sequence's routing rows (nil when `forced`).
    /// - `forced`: decisions to reuse (KV-cached decoding); gates are then constants.
    /// - `resampled(e)`: the conditioning of expert `e` for the whole batch, [B, P, d] (called
    ///   only when some sequence chose `e`).
    /// Returns the output, the decisions and the router's scores [B, E] (nil when forced).
    func callAsFunction(_ h: Tensor, sequences: [SequenceRows], pooling: Tensor?, forced: SequenceRouting?,
                        resampled: (SequenceExpert) -> Tensor) -> (out: Tensor, routing: SequenceRouting, scores: Tensor?) {
        let B = sequences.count, k = SequenceRouting.k
        let gates: Tensor, chosen: [Int]
        var scores: Tensor? = nil
        if let forced {
            precondition(forced.sequences == B && forced.experts == experts, "sequence MoE: cached routing does not match the batch")
            gates = Tensor(shape: [B, k], values: forced.gates)
            chosen = forced.chosen
        } else {
            guard let pooling else { preconditionFailure("sequence MoE: pooling matrix needed without forced routing") }
            let s = router(pooling.matmul(h)).softmax()
            let (top, picked) = s.topK(k)
            gates = top / top.sum(axes: [1], keepDims: true)
            chosen = picked
            scores = s
        }
        let flatGates = gates.reshape([B * k, 1])
        var parts: [(rows: [Int], src: Tensor)] = []
        for expert in experts where expert != .copy {
            // (sequence, gate slot) pairs that chose this expert.
            let users = (0..<(B * k)).filter { experts[chosen[$0]] == expert }
            if users.isEmpty { continue }
            var rows: [Int] = [], gateRows: [Int] = [], images: [(sequence: Int, slot: Int)] = []
            for slot in users {
                let b = slot / k
                if expert == .zero {
                    rows += sequences[b].rows
                    gateRows += [Int](repeating: slot, count: sequences[b].rows.count)
                } else {
                    for (row, image) in sequences[b].image {
                        rows.append(row); gateRows.append(slot); images.append((b, image))
                    }
                }
            }
            if rows.isEmpty { continue }
            let g = flatGates.indexSelect(rows: gateRows)  // [n, 1]
            let hRows = h.indexSelect(rows: rows)
            if expert == .zero {
                parts.append((rows, hRows * g * -1))
            } else {
                let r = resampled(expert)  // [B, P, d]
                let P = r.shape[1], d = r.shape[2]
                let target = r.reshape([B * P, d]).indexSelect(rows: images.map { $0.sequence * P + $0.slot })
                let keep = (betaLogits[expert]!.sigmoid() * -1) + 1  // 1 − β
                parts.append((rows, (target - hRows) * (g * keep)))
            }
        }
        let out = parts.isEmpty ? h : h.indexAdd(parts)
        let routing = SequenceRouting(experts: experts, sequences: B, chosen: chosen, gates: gates.values,
                                      scores: scores?.values ?? forced?.scores ?? [])
        return (out, routing, scores)
    }

    /// MoE++-style balance over the sequences of a batch: λ·Σ_i f_i·P_i.
    static func balanceLoss(scores: Tensor, routing: SequenceRouting, weight: Float) -> Tensor {
        let asTokens = TokenRouting(tokens: routing.sequences, chosen: routing.chosen, gates: routing.gates,
                                    experts: routing.experts.count, k: SequenceRouting.k)
        return TokenMoE.balanceLoss(scores: scores, routing: asTokens, rows: Array(0..<routing.sequences), weight: weight)
    }

    public func parameters(prefix: String) -> [Parameter] {
        let betas = experts.compactMap { e in betaLogits[e].map { ("\(e.rawValue).beta_logit", Optional($0)) } }
        return collectParameters(prefix, [("router", router)], own: betas)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
