// AdamW with decoupled weight decay, clipping by global norm, and the warmup + cosine schedule.

/// A named trainable tensor and whether weight decay applies to it.
public struct Parameter {
    public let name: String
    public let tensor: Tensor
    /// Norm gains, biases and embeddings are not decayed by default (see `defaultDecay`).
    public let decay: Bool

    public init(name: String, tensor: Tensor, decay: Bool? = nil) {
        self.name = name
        self.tensor = tensor
        self.decay = decay ?? Parameter.defaultDecay(name: name, shape: tensor.shape)
        tensor.name = name
        tensor.requiresGrad = true
    }

    /// Decay matrices only: not 1-D tensors (biases, norm gains) nor embedding tables.
    public static func defaultDecay(name: String, shape: [Int]) -> Bool {
        if shape.count < 2 { return false }
        let lower = name.lowercased()
        return !(lower.contains("embed") || lower.contains("norm") || lower.hasSuffix("bias"))
    }
}

/// AdamW (Loshchilov & Hutter): moments per parameter, bias correction, decoupled decay.
public final class AdamW {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    public private(set) var step: Int = 0
    public let parameters: [Parameter]
    /// Per parameter, a factor on the learning rate (and so on its decay); 1 by default.
    public var rateScales: [Float]
    /// First and second moments, one buffer per parameter (checkpointed with the weights).
    public private(set) var m: [Tensor]
    public private(set) var v: [Tensor]

    public init(parameters: [Parameter], learningRate: Float = 3e-4, beta1: Float = 0.9, beta2: Float = 0.95,
                eps: Float = 1e-8, weightDecay: Float = 0.1) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        rateScales = [Float](repeating: 1, count: parameters.count)
        m = parameters.map { Tensor(zeros: $0.tensor.shape) }
        v = parameters.map { Tensor(zeros: $0.tensor.shape) }
    }

    /// Restores the step count and moments (from a checkpoint).
    public func restore(step: Int, m: [Tensor], v: [Tensor]) {
        precondition(m.count == parameters.count && v.count == parameters.count, "optimizer state does not match the parameters")
        self.step = step
        for i in parameters.indices { self.m[i].copyValues(from: m[i]); self.v[i].copyValues(from: v[i]) }
    }

    /// One update with the current gradients (parameters without a gradient are skipped).
    public func update(learningRate lr: Float? = nil) {
        precondition(rateScales.count == parameters.count, "AdamW: \(rateScales.count) rate scales for \(parameters.count) parameters")
        step += 1
        let lr = lr ?? learningRate
        let bc1 = 1 - powf(beta1, Float(step)), bc2 = 1 - powf(beta2, Float(step))
        let b1 = beta1, b2 = beta2, eps = eps
        for (i, p) in parameters.enumerated() {
            guard let g = p.tensor.grad else { continue }
            let w = p.tensor.data, gd = g.data, md = m[i].data, vd = v[i].data
            let lr = lr * rateScales[i]
            let decay = p.decay ? lr * weightDecay : 0
            Threading.parallelChunks(p.tensor.count, minChunk: 1 << 14) { lo, hi in
                for j in lo..<hi {
                    let gj = gd[j]
                    md[j] = b1 * md[j] + (1 - b1) * gj
                    vd[j] = b2 * vd[j] + (1 - b2) * gj * gj
                    let mhat = md[j] / bc1, vhat = vd[j] / bc2
                    w[j] -= lr * mhat / (vhat.squareRoot() + eps) + decay * w[j]
                }
            }
        }
    }

    public func zeroGrad() { for p in parameters { p.tensor.zeroGrad() } }

    /// One training step's tail, shared by every trainer: backward from `loss`, clip the global
    /// gradient norm, update at the schedule's rate for `step`, clear the gradients.
    public func minimize(_ loss: Tensor, clipNorm: Float, schedule: WarmupCosine, step: Int) -> (gradNorm: Float, learningRate: Float) {
        loss.backward()
        let norm = clipGradNorm(parameters, maxNorm: clipNorm)
        let lr = schedule.rate(at: step)
        update(learningRate: lr)
        zeroGrad()
        return (norm, lr)
    }
}

/// Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before.
@discardableResult
public func clipGradNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in parameters {
        guard let g = p.tensor.grad else { continue }
        let gd = g.data
        total += Threading.parallelSum(g.count, minChunk: 1 << 15) { lo, hi in
            var squares = SIMD8<Float>(repeating: 0)
            var j = lo
            while j < hi { let v = load8(gd + j, hi - j); squares = fma8(v, v, squares); j += 8 }
            return Double(squares.sum())
        }
    }
    let norm = Float(total.squareRoot())
    if norm > maxNorm && norm.isFinite {
        let scale = maxNorm / (norm + 1e-6)
        for p in parameters {
            guard let g = p.tensor.grad else { continue }
            let gd = g.data
            Threading.parallelChunks(g.count, minChunk: 1 << 15) { lo, hi in
                for j in lo..<hi { gd[j] *= scale }
            }
        }
    }
    return norm
}

/// Linear warmup to `peak`, then cosine decay to `minLR` at `totalSteps`.
public struct WarmupCosine: Codable, Sendable {
    public var peak: Float
    public var minLR: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Float, minLR: Float = 0, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak; self.minLR = minLR; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }

    /// Learning rate for the 0-based `step`.
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(max(warmupSteps, 1)) }
        let span = max(totalSteps - warmupSteps, 1)
        let progress = min(Float(step - warmupSteps) / Float(span), 1)
        return minLR + 0.5 * (peak - minLR) * (1 + cosf(Float.pi * progress))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
