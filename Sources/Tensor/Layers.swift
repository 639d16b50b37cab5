// Small neural-network building blocks that own their parameters. A model is a tree of
// layers; `parameters(prefix:)` names every tensor by its path in that tree
// ("layers.3.attn.wq.weight"), which is also its key in safetensors checkpoints.

/// Anything that owns trainable tensors.
public protocol Layer: AnyObject {
    /// All parameters under this layer, named `prefix` + their path.
    func parameters(prefix: String) -> [Parameter]
}

extension Layer {
    public var allParameters: [Parameter] { parameters(prefix: "") }
    public var parameterCount: Int { allParameters.map(\.tensor.count).reduce(0, +) }
}

@inline(__always) func join(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : prefix + "." + name
}

/// Collects the parameters of child layers under their names.
public func collectParameters(_ prefix: String, _ children: [(String, Layer?)], own: [(String, Tensor?)] = []) -> [Parameter] {
    var out: [Parameter] = []
    for (name, t) in own { if let t { out.append(Parameter(name: join(prefix, name), tensor: t)) } }
    for (name, child) in children { if let child { out += child.parameters(prefix: join(prefix, name)) } }
    return out
}

/// y = x·Wᵀ + b with W [out, in] (PyTorch layout).
public final class Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?

    /// Initialised N(0, std) (default 1/√in), bias zero.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, std: Float? = nil, rng: inout RNG) {
        weight = Tensor.randn([outFeatures, inFeatures], std: std ?? 1 / Float(inFeatures).squareRoot(), rng: &rng)
        self.bias = bias ? Tensor(zeros: [outFeatures]) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight, bias) }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [], own: [("weight", weight), ("bias", bias)])
    }
}

/// LayerNorm over the last axis with gain and bias.
public final class LayerNorm: Layer {
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-5) {
        weight = Tensor(filled: 1, shape: [dim])
        bias = Tensor(zeros: [dim])
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, eps: eps) }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [], own: [("weight", weight), ("bias", bias)])
    }
}

/// RMSNorm over the last axis with a gain.
public final class RMSNorm: Layer {
    public let weight: Tensor
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-6) {
        weight = Tensor(filled: 1, shape: [dim])
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.rmsNorm(weight: weight, eps: eps) }

    public func parameters(prefix: String) -> [Parameter] { collectParameters(prefix, [], own: [("weight", weight)]) }
}

/// A lookup table [count, dim].
public final class Embedding: Layer {
    public let weight: Tensor

    public init(_ count: Int, _ dim: Int, std: Float = 0.02, rng: inout RNG) {
        weight = Tensor.randn([count, dim], std: std, rng: &rng)
    }

    public func callAsFunction(_ ids: [Int]) -> Tensor { weight.embedding(ids) }

    public func parameters(prefix: String) -> [Parameter] { collectParameters(prefix, [], own: [("weight", weight)]) }
}

/// 2-D convolution on NCHW with weight [out, in, k, k].
public final class Conv2d: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    /// He-style initialisation N(0, √(2 / fan_in)) scaled by `gain`.
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int? = nil,
                bias: Bool = true, gain: Float = 1, rng: inout RNG) {
        let fanIn = Float(inChannels * kernel * kernel)
        weight = Tensor.randn([outChannels, inChannels, kernel, kernel], std: gain * (2 / fanIn).squareRoot(), rng: &rng)
        self.bias = bias ? Tensor(zeros: [outChannels]) : nil
        self.stride = stride
        self.padding = padding ?? kernel / 2
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding) }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [], own: [("weight", weight), ("bias", bias)])
    }
}

/// GroupNorm on NCHW with per-channel gain and bias.
public final class GroupNorm: Layer {
    public let groups: Int
    public let weight: Tensor
    public let bias: Tensor

    public init(groups: Int, channels: Int) {
        precondition(channels % groups == 0, "GroupNorm: \(channels) channels in \(groups) groups")
        self.groups = groups
        weight = Tensor(filled: 1, shape: [channels])
        bias = Tensor(zeros: [channels])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.groupNorm(groups: groups, weight: weight, bias: bias) }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [], own: [("weight", weight), ("bias", bias)])
    }
}
