import Foundation
import Tensor
import Imaging
import FaceData
import FaceModel

/// The face-attribute encoder as a judge of faces against the claims of their captions: eval
/// checks generated faces with it, and `tokenizer eval --judge` checks a tokenizer's round trips.
public struct ClaimJudge {
    let encoders: ImageEncoders
    let matcher = PhraseMatcher.shared

    public init(encoders: ImageEncoders) { self.encoders = encoders }

    /// Claims checked and confirmed, in all and per claim key.
    public struct Tally: Sendable {
        public var confirmed = 0, checked = 0
        public var byKey: [String: (confirmed: Int, checked: Int)] = [:]
        public var share: Double { checked == 0 ? 0 : Double(confirmed) / Double(checked) }
        public func share(_ key: String) -> Double {
            guard let k = byKey[key], k.checked > 0 else { return 0 }
            return Double(k.confirmed) / Double(k.checked)
        }
        /// Claims checked and confirmed per kind (`ClaimJudge.claimKinds`), summed over its keys.
        public var byKind: [String: (confirmed: Int, checked: Int)] {
            var out: [String: (confirmed: Int, checked: Int)] = [:]
            for (key, k) in byKey {
                guard let kind = ClaimJudge.claimKind(ofKey: key) else { continue }
                out[kind, default: (0, 0)].confirmed += k.confirmed
                out[kind, default: (0, 0)].checked += k.checked
            }
            return out
        }
    }

    /// The kinds a claim key falls into, for per-kind summaries: "appearance", "details" (a
    /// multi-valued field such as eye colour or hat colour), "action" and "emotion".
    public static let claimKinds = ["appearance", "details", "action", "emotion"]

    /// The kind of a claim key (an attribute name or a detail field name); nil for a key the
    /// schema does not know.
    public static func claimKind(ofKey key: String) -> String? {
        if DetailField(rawValue: key) != nil { return "details" }
        return FaceAttribute.all.first { $0.name == key }?.group.rawValue
    }

    /// How many claims of each record's caption the judge confirms on its face, of those it can check.
    public func claimsConfirmed(_ records: [CaptionRecord], _ predictions: [FacePrediction]) -> Tally {
        var tally = Tally()
        for (record, prediction) in zip(records, predictions) {
            for claim in matcher.claims(in: record.caption) {
                guard let verdict = verify(claim, prediction) else { continue }
                tally.checked += 1
                tally.byKey[claim.key, default: (0, 0)].checked += 1
                if verdict {
                    tally.confirmed += 1
                    tally.byKey[claim.key, default: (0, 0)].confirmed += 1
                }
            }
        }
        return tally
    }

    /// The face encoder's predictions and penultimate features for `images`.
    public func judge(_ images: [RGBImage]) throws -> (predictions: [FacePrediction], features: [Float]) {
        var predictions: [FacePrediction] = [], features: [Float] = []
        let side = encoders.config.imageSize
        for start in stride(from: 0, to: images.count, by: 100) {
            let chunk = images[start..<min(start + 100, images.count)].map {
                $0.width == side && $0.height == side ? $0 : ImageOps.resize($0, width: side, height: side)
            }
            let x = try ImageTensor.tensor(from: chunk, side: side)
            predictions += encoders.face.predict(x)
            features += GradMode.withoutGrad { encoders.face.embedding(x) }.values
        }
        return (predictions, features)
    }

    /// Whether the judge sees `claim` in a face (nil: the judge has no head for it).
    func verify(_ claim: Claim, _ p: FacePrediction) -> Bool? {
        let config = encoders.face.config
        switch claim {
        case .present(let a), .absent(let a):
            guard let i = config.attributes.firstIndex(of: a.name) else { return nil }
            let present = p.attributeProbabilities[i] >= 0.5
            if case .present = claim { return present }
            return !present
        case .detail(let field, let value):
            guard let d = config.details.firstIndex(where: { $0.field == field.rawValue }),
                  let v = config.details[d].values.firstIndex(of: value) else { return nil }
            return p.details[d] == v
        }
    }

    /// A tokenizer's round trips as the judge sees them: the claims confirmed on the real faces
    /// and on their reconstructions, and Fréchet distances in the judge's feature space to the
    /// second half of the real faces, from the first half as it is (the baseline) and after the
    /// round trip (nil below 4 faces).
    public struct RoundTripVerdict {
        public var real: Tally
        public var reconstructed: Tally
        public var fdRealBaseline: Double?
        public var fdReconstructed: Double?
        /// Faces on each side of the distances.
        public var fdImages: Int
    }

    /// `realFaces` and their round trips `reconstructed` are in the same order as `records`.

    public func roundTrip(_ records: [CaptionRecord], realFaces: [RGBImage], reconstructed: [RGBImage]) throws -> RoundTripVerdict {
        let real = try judge(realFaces), trip = try judge(reconstructed)
        let m = realFaces.count / 2, dim = encoders.face.config.embedDim
        var verdict = RoundTripVerdict(real: claimsConfirmed(records, real.predictions),
                                       reconstructed: claimsConfirmed(records, trip.predictions), fdImages: m)
        if m >= 2 {
            let secondHalf = Array(real.features[(m * dim)..<(2 * m * dim)])
            verdict.fdRealBaseline = Frechet.distance(Array(real.features.prefix(m * dim)), secondHalf, dim: dim)
            verdict.fdReconstructed = Frechet.distance(Array(trip.features.prefix(m * dim)), secondHalf, dim: dim)
        }
        return verdict
    }
}
