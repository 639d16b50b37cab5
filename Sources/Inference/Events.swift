import Foundation
import Imaging
import FaceModel

/// Which experts one layer's token-level MoE chose, summarised for display: per routed expert,
/// the fraction of the counted tokens that chose it (sums to k), and per token its top choice.
public struct LayerRouting: Sendable, Codable, Equatable {
    /// Fraction of tokens choosing each routed expert.
    public var frequencies: [Double]
    /// For each counted token (e.g. each image slot), its highest-gated expert.
    public var topExpert: [Int]
    /// The gate of that choice.
    public var topGate: [Float]

    public init(frequencies: [Double], topExpert: [Int] = [], topGate: [Float] = []) {
        self.frequencies = frequencies; self.topExpert = topExpert; self.topGate = topGate
    }
}

/// Which whole-sequence experts one layer's sequence-level MoE chose for one sequence.
public struct SequenceLayerRouting: Sendable, Codable, Equatable {
    /// The group's experts in router order ("copy", "zero", "noise" or "copy", "clip", "face").
    public var experts: [String]
    /// The two chosen experts, highest gate first.
    public var chosen: [String]
    /// Their renormalised gates (sum to 1).
    public var gates: [Float]
    /// Per expert of `experts`: its gate, 0 when not chosen (a heatmap row).
    public var weights: [Float]

    public init(experts: [String], chosen: [String], gates: [Float], weights: [Float]) {
        self.experts = experts; self.chosen = chosen; self.gates = gates; self.weights = weights
    }

    /// The gate of the expert named `name` (0 when it was not chosen or is not in this group).
    public func weight(of name: String) -> Float {
        experts.firstIndex(of: name).flatMap { $0 < weights.count ? weights[$0] : nil } ?? 0
    }
}

/// The routing of one forward pass, for the studio's heatmaps and `--json` output.
public struct RoutingTrace: Sendable, Codable, Equatable {
    /// "t2i" or "mmu": the expert group that ran.
    public var group: String
    /// Per layer; empty when the token-level MoE is off.
    public var layers: [LayerRouting]
    /// Per layer, the sequence-level choice for the traced sequence; empty when the
    /// sequence-level MoE is off.
    public var sequenceLayers: [SequenceLayerRouting]

    public init(group: String, layers: [LayerRouting], sequenceLayers: [SequenceLayerRouting] = []) {
        self.group = group; self.layers = layers; self.sequenceLayers = sequenceLayers
    }

    /// Per layer, the share of counted tokens choosing each routed expert (heatmap rows).
    public var frequencies: [[Double]] { layers.map(\.frequencies) }

    /// Summarises `record` over the given rows (row indices within the batch's B·T rows); the
    /// sequence level is reported for batch element `sequence`.
    init(group: SequenceLayout.Task, record: ForwardRecord, rows: [Int], sequence: Int = 0) {
        self.group = group == .t2i ? "t2i" : "mmu"
        sequenceLayers = record.sequenceRouting.map { r in
            let k = SequenceRouting.k
            let slots = (sequence * k)..<((sequence + 1) * k)
            return SequenceLayerRouting(experts: r.experts.map(\.rawValue),
                                        chosen: slots.map { r.experts[r.chosen[$0]].rawValue },
                                        gates: slots.map { r.gates[$0] },
                                        weights: r.weights(sequence: sequence))
        }
        layers = record.tokenRouting.compactMap { routing in
            guard let routing else { return nil }
            var top: [Int] = [], gate: [Float] = []
            for r in rows {
                var best = 0
                for s in 1..<routing.k where routing.gates[r * routing.k + s] > routing.gates[r * routing.k + best] { best = s }
                top.append(routing.chosen[r * routing.k + best])
                gate.append(routing.gates[r * routing.k + best])
            }
            return LayerRouting(frequencies: routing.frequencies(counting: rows), topExpert: top, topGate: gate)
        }
    }
}

/// One MaskGIT step of `generate`. Codable without its preview (decoded again from `codes`),
/// so a studio session can keep every step.
public struct StepEvent: Sendable, Codable {
    /// 0-based step and the number of steps.
    public var step: Int
    public var steps: Int
    /// The code at every slot: final for revealed slots, the current guess for masked ones.
    public var codes: [Int]
    /// Slots still masked after this step.
    public var masked: [Bool]
    /// The model's probability of each slot's code at this step (1 for slots revealed earlier).
    public var confidence: [Float]
    /// Slots revealed in this step.
    public var revealed: [Int]
    /// Token-level routing of the image slots (conditional row) at this step.
    public var routing: RoutingTrace
    /// The decoded image of `codes` (nil when previews are off).
    public var preview: RGBImage?
    /// Seconds since generation started.
    public var elapsed: Double

    enum CodingKeys: String, CodingKey { case step, steps, codes, masked, confidence, revealed, routing, elapsed }

    public init(step: Int, steps: Int, codes: [Int], masked: [Bool], confidence: [Float], revealed: [Int],
                routing: RoutingTrace, preview: RGBImage? = nil, elapsed: Double) {
        self.step = step; self.steps = steps; self.codes = codes; self.masked = masked; self.confidence = confidence
        self.revealed = revealed; self.routing = routing; self.preview = preview; self.elapsed = elapsed
    }
}

/// One decoded token of `ask` / `caption`.
public struct TokenEvent: Sendable {
    /// Text that became complete with this token (may be "" mid-character).
    public var text: String
    public var tokenID: Int
    /// Routing of this token's position.
    public var routing: RoutingTrace

    public init(text: String, tokenID: Int, routing: RoutingTrace) { self.text = text; self.tokenID = tokenID; self.routing = routing }
}

/// Lets a caller stop `generate` / `ask` between steps or tokens, from any thread.
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    public init() {}
    public func cancel() { lock.lock(); cancelled = true; lock.unlock() }
    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }
}

public enum InferenceError: Error, CustomStringConvertible {
    case cancelled
    case invalidOption(String)
    case image(String)

    public var description: String {
        switch self {
        case .cancelled: return "cancelled"
        case let .invalidOption(m): return m
        case let .image(m): return m
        }
    }
}
