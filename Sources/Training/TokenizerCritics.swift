import Foundation
import Tensor
import FaceModel

// The two learned critics of the image tokenizer beside its pixel loss (docs/DESIGN.md "Image
// tokenizer"): a perceptual distance through a frozen network that knows faces, and a small
// patch discriminator. An L2 loss alone rewards the average of the faces a code could stand
// for, so an open mouth, a frown or an eye colour blurs into a neutral face; both critics
// reward drawing the feature itself.

/// Feature matching through a frozen convolutional trunk (LPIPS-style, without learned
/// weights): at every stage the reconstruction's and the original's features are normalised to
/// unit length per position and compared by squared distance; the stages' means are averaged.
///
/// The trunk is the project's CLIP image tower, not the face-attribute encoder: `eval` and
/// `tokenizer eval --judge` judge round trips with the face encoder, and a tokenizer trained
/// against its judge would learn to please it rather than to draw faces.
public final class PerceptualDistance {
    public let trunk: ConvTrunk
    /// What the trunk is, recorded beside the tokenizer (e.g. "clip").
    public let network: String

    /// Freezes `trunk`: its weights get no gradients, only its input does.
    public init(trunk: ConvTrunk, network: String) {
        self.trunk = trunk
        self.network = network
        for p in trunk.parameters(prefix: "") { p.tensor.requiresGrad = false }
    }

    /// The CLIP image tower of an encoders directory (`encoder_config.json`, `encoder_clip.safetensors` …).
    public static func clip(encoders: ImageEncoders) -> PerceptualDistance {
        PerceptualDistance(trunk: encoders.clip.trunk, network: "clip")
    }

    /// Mean over stages of the mean squared distance between unit-normalised features of
    /// reconstructions `y` (differentiable) and originals `x` (constant), both [B, 3, S, S].
    public func callAsFunction(_ y: Tensor, _ x: Tensor) -> Tensor {
        let targets = GradMode.withoutGrad { stageFeatures(x).map(Self.unitNormalised) }
        var h = y, total: Tensor? = nil
        for (stage, target) in zip(trunk.stages, targets) {
            h = stage(h)
            let d = (Self.unitNormalised(h) - target).square().sum(axes: [1]).mean()
            total = total.map { $0 + d } ?? d
        }
        return total! * (1 / Float(trunk.stages.count))
    }

    private func stageFeatures(_ x: Tensor) -> [Tensor] {
        var h = x
        return trunk.stages.map { stage in h = stage(h); return h }
    }

    /// Each position's channel vector divided by its length (plus a small ε, so a dead position
    /// stays finite): [B, C, H, W] → [B, C, H, W].
    static func unitNormalised(_ f: Tensor) -> Tensor {
        f / (f.square().sum(axes: [1], keepDims: true) + 1e-6).sqrt()
    }
}

/// A small PatchGAN discriminator: stride-2 4×4 convs with leaky ReLUs (GroupNorm after the
/// first), then a 3×3 conv to one logit per patch ([B, 3, 64, 64] → [B, 1, 8, 8] with three
/// widths). Trained with the hinge loss against the tokenizer's reconstructions.
public final class PatchDiscriminator: Layer {
    let downs: [Conv2d]
    let norms: [GroupNorm?]
    let head: Conv2d

    public init(channels: [Int], seed: UInt64) {
        var rng = RNG(seed: seed)
        var downs: [Conv2d] = [], norms: [GroupNorm?] = []
        var cin = 3
        for (i, c) in channels.enumerated() {
            downs.append(Conv2d(cin, c, kernel: 4, stride: 2, padding: 1, rng: &rng))
            norms.append(i == 0 ? nil : GroupNorm(groups: min(8, c), channels: c))
            cin = c
        }
        self.downs = downs
        self.norms = norms
        head = Conv2d(cin, 1, kernel: 3, gain: 0.5, rng: &rng)
    }

    /// Patch logits [B, 1, S/2^n, S/2^n] of images [B, 3, S, S].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (down, norm) in zip(downs, norms) { h = normalized(norm, down(h)).leakyRelu(0.2) }
        return head(h)
    }

    private func normalized(_ norm: GroupNorm?, _ x: Tensor) -> Tensor { norm.map { $0(x) } ?? x }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, downs.enumerated().map { ("downs.\($0.offset)", $0.element as Layer?) }
                          + norms.enumerated().map { ("norms.\($0.offset)", $0.element as Layer?) }
                          + [("head", head)])
    }

    /// Hinge loss of the discriminator: mean relu(1 − D(real)) + mean relu(1 + D(fake)).
    public static func hingeLoss(real: Tensor, fake: Tensor) -> Tensor {
        (real * -1 + 1).relu().mean() + (fake + 1).relu().mean()
    }

    /// The generator's side: −mean D(fake).
    public static func generatorLoss(fake: Tensor) -> Tensor { fake.mean() * -1 }
}
