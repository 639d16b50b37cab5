import Tensor
import Imaging

// The face-attribute encoder: a conv trunk, a fully connected layer over the flattened final
// grid (faces are centred, so where a feature sits matters), and heads for the binary
// attributes and the multi-valued details. The penultimate activations are the face
// embedding the MMU face expert reads; the heads make it the judge `eval` uses on generated
// images.

/// Labels of one image in the encoder's terms.
public struct FaceLabels: Sendable, Equatable {
    /// 0/1 per attribute.
    public var attributes: [Int]
    /// Per detail head: the value index, or nil when the detail does not apply to this face.
    public var details: [Int?]
    public init(attributes: [Int], details: [Int?]) { self.attributes = attributes; self.details = details }
}

/// What the encoder sees in one image.
public struct FacePrediction: Sendable, Equatable {
    /// Probability of each attribute.
    public var attributeProbabilities: [Float]
    /// Per detail head: the most likely value index.
    public var details: [Int]
}

public final class FaceEncoder: Layer {
    public let config: FaceEncoderConfig
    public let trunk: ConvTrunk
    public let embedLayer: Linear
    public let head: Linear

    init(config full: EncoderConfig, rng: inout RNG) {
        config = full.face
        trunk = ConvTrunk(channels: full.face.channels, rng: &rng)
        let side = full.gridSide(stages: full.face.channels.count)
        let flat = full.face.channels.last! * side * side
        embedLayer = Linear(flat, full.face.embedDim, std: (2 / Float(flat)).squareRoot(), rng: &rng)
        head = Linear(full.face.embedDim, max(full.face.outputs, 1), std: 1 / Float(full.face.embedDim).squareRoot(), rng: &rng)
    }

    /// Face embeddings [B, embed] of images [B, 3, S, S] in [-1, 1].
    public func embedding(_ images: Tensor) -> Tensor {
        let grid = trunk(images)
        let B = grid.shape[0]
        return embedLayer(grid.reshape([B, grid.count / B])).relu()
    }

    /// Head logits [B, outputs]: attributes first, then each detail's values.
    public func logits(_ images: Tensor) -> Tensor { head(embedding(images)) }

    /// What the heads read off embeddings [B, embed] → [B, outputs]: each attribute's
    /// probability, then each detail's softmax over its values. The unified model's
    /// `mmu_face_readout` gets these rather than the raw embedding: the labels the encoder was
    /// trained on are already separated and sharpened there, so an answer word maps onto a few
    /// columns instead of a direction the model must first learn to find.
    public func readout(embeddings: Tensor) -> Tensor {
        GradMode.withoutGrad {
            let l = head(embeddings)
            let attributes = l.slice(axis: 1, 0..<config.attributes.count).sigmoid()
            return Tensor.concat([attributes] + detailRanges.map { l.slice(axis: 1, $0).softmax() }, axis: 1)
        }
    }

    /// Column range of each detail head in the logits.
    public var detailRanges: [Range<Int>] {
        var start = config.attributes.count
        return config.details.map { d in defer { start += d.values.count }; return start..<(start + d.values.count) }
    }

    /// Mean binary cross-entropy over the attributes plus `detailWeight` × the mean over detail
    /// heads of their cross-entropy on the faces where the detail applies.
    /// `positiveWeights` (one per attribute, nil: all 1) scales the term of faces that have the
    /// attribute, so a rare one (a wink on 5% of faces) is not learned as "never".
    /// Returns the total and the two parts (for logging).
    public func loss(logits: Tensor, labels: [FaceLabels], detailWeight: Float = 0.5,
                     positiveWeights: [Float]? = nil) -> (total: Tensor, attributes: Tensor, details: Tensor?) {
        let B = labels.count, A = config.attributes.count
        precondition(positiveWeights == nil || positiveWeights!.count == A, "one positive weight per attribute")
        let z = logits.slice(axis: 1, 0..<A)
        let labelValues = labels.flatMap { $0.attributes.map(Float.init) }
        // BCE with logits, stably: softplus(z) − z·y, softplus(z) = max(z, 0) + log(1 + e^−|z|).
        // With weight w on positives: y·w·softplus(−z) + (1 − y)·softplus(z)
        //                            = softplus(z)·(1 − y + w·y) − z·(w·y).
        let weights = positiveWeights ?? [Float](repeating: 1, count: A)
        let wy = Tensor(shape: [B, A], values: labelValues.enumerated().map { i, y in y * weights[i % A] })
        let scale = Tensor(shape: [B, A], values: labelValues.enumerated().map { i, y in 1 - y + y * weights[i % A] })
        let softplus = z.relu() + ((z.abs() * -1).exp() + 1).log()
        let bce = (softplus * scale - z * wy).mean()
        var detailLoss: Tensor? = nil
        for (h, range) in detailRanges.enumerated() {
            let targets = labels.map { $0.details[h] ?? -100 }
            if targets.allSatisfy({ $0 == -100 }) { continue }
            let ce = logits.slice(axis: 1, range).crossEntropy(targets: targets, ignoreIndex: -100)
            detailLoss = detailLoss.map { $0 + ce } ?? ce
        }
        let details = detailLoss.map { $0 * (1 / Float(max(config.details.count, 1))) }
        return (details.map { bce + $0 * detailWeight } ?? bce, bce, details)
    }

    /// Predictions for images [B, 3, S, S] (no gradients).
    public func predict(_ images: Tensor) -> [FacePrediction] {
        let l = GradMode.withoutGrad { logits(images) }
        let B = images.shape[0], n = l.shape[1], A = config.attributes.count, values = l.values
        return (0..<B).map { b in
            let row = Array(values[(b * n)..<((b + 1) * n)])
            let probabilities = row.prefix(A).map { 1 / (1 + expf(-$0)) }
            let details = detailRanges.map { r in r.max { row[$0] < row[$1] }! - r.lowerBound }
            return FacePrediction(attributeProbabilities: probabilities, details: details)
        }
    }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("trunk", trunk), ("fc", embedLayer), ("head", head)])
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
