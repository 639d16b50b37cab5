import Foundation
import Imaging
import FaceData

/// The face-attribute judge's verdict on a tokenizer's round trips (`tokenizer eval --judge`,
/// the `"claims"` object of its JSON): the claims of the captions confirmed on the real faces and
/// on their reconstructions, in all, per claim key and per kind, and the Fréchet distances.
/// Confirmed on the round trips is the ceiling of a unified model that draws through this
/// tokenizer; the ratio to the real faces' share is what the tokenizer keeps.
public struct TokenizerJudgement: Encodable {
    public struct Share: Encodable {
        public var checked: Int
        public var real: Double
        public var reconstructed: Double
    }
    public var checked: Int
    public var real: Double
    public var reconstructed: Double
    public var byClaim: [String: Share]
    /// The same per kind of claim (`ClaimJudge.claimKinds`: appearance, details, action, emotion).
    public var byKind: [String: Share]
    /// Fréchet distances in the judge's features to the second half of the real faces: from the
    /// first half (the baseline) and from its round trips; `fdImages` faces on each side.
    public var fdRealBaseline: Double?
    public var fdReconstructed: Double?
    public var fdImages: Int

    enum CodingKeys: String, CodingKey {
        case checked, real, reconstructed, byClaim = "by_claim", byKind = "by_kind"
        case fdRealBaseline = "fd_real_baseline", fdReconstructed = "fd_reconstructed", fdImages = "fd_images"
    }

    /// Judges `reconstructed`, the round trips of `realFaces`, against the captions of
    /// `records` (all three in the same order).
    public static func judge(_ judge: ClaimJudge, records: [CaptionRecord], realFaces: [RGBImage],
                             reconstructed: [RGBImage]) throws -> TokenizerJudgement {
        let verdict = try judge.roundTrip(records, realFaces: realFaces, reconstructed: reconstructed)
        let real = verdict.real, trip = verdict.reconstructed
        func share(_ a: (confirmed: Int, checked: Int), _ b: (confirmed: Int, checked: Int)?) -> Share {
            let b = b ?? (0, 0)
            return Share(checked: a.checked, real: Double(a.confirmed) / Double(max(a.checked, 1)),
                         reconstructed: Double(b.confirmed) / Double(max(b.checked, 1)))
        }
        var byClaim: [String: Share] = [:], byKind: [String: Share] = [:]
        for (key, k) in real.byKey { byClaim[key] = share(k, trip.byKey[key]) }
        let tripKinds = trip.byKind
        for (kind, k) in real.byKind where k.checked > 0 { byKind[kind] = share(k, tripKinds[kind]) }
        return TokenizerJudgement(checked: real.checked, real: real.share, reconstructed: trip.share, byClaim: byClaim, byKind: byKind,
                                  fdRealBaseline: verdict.fdRealBaseline, fdReconstructed: verdict.fdReconstructed,
                                  fdImages: verdict.fdImages)
    }

    /// Text lines: the totals, the distances, and per kind the share kept.
    public var summaryLines: [String] {
        var lines = [String(format: "%d caption claims confirmed by the face encoder: %.3f on the real faces, %.3f after the round trip",
                            checked, real, reconstructed)]
        if let base = fdRealBaseline, let trip = fdReconstructed {
            lines.append(String(format: "Fréchet distance to the other half of the real faces (%d each): %.1f real, %.1f round trip (%.2f× the real one)",
                                fdImages, base, trip, base > 0 ? trip / base : 0))
        }
        for kind in ClaimJudge.claimKinds {
            guard let k = byKind[kind] else { continue }
            // The share of what the judge sees on real faces that survives the round trip.
            lines.append(kind.padding(toLength: 10, withPad: " ", startingAt: 0)
                         + String(format: " %6d claims: %.3f real, %.3f round trip (kept %.3f)", k.checked, k.real,
                                  k.reconstructed, k.real > 0 ? k.reconstructed / k.real : 0))
        }
        return lines
    }

    /// Indices (into `ids`) of up to `count` faces that show an action or an emotion other than
    /// neutral, faces with both first, each group in the given order: the details a tokenizer
    /// is most likely to lose, for a contact sheet.
    public static func expressiveFaces(_ records: [CaptionRecord], ids: [String], count: Int) -> [Int] {
        let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let groups = Dictionary(uniqueKeysWithValues: FaceAttribute.all.map { ($0.name, $0.group) })
        func strength(_ id: String) -> Int {
            let present = byID[id]?.attributes ?? []
            let action = present.contains { groups[$0] == .action }
            let emotion = present.contains { groups[$0] == .emotion && $0 != Emotion.neutral.rawValue }
            return (action ? 1 : 0) + (emotion ? 1 : 0)
        }
        let ranked = ids.indices.map { ($0, strength(ids[$0])) }.filter { $0.1 > 0 }
        return Array(ranked.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(count).map(\.0))
    }
}
