import Foundation
import Imaging

/// Contact sheets for people to look at: samples of a data set on disk, and every attribute
/// switched off and on.
public enum DatasetPreview {
    /// The first `count` images of the data set in `directory` (from `captions.jsonl`, or else its
    /// first LLaVA file), labelled with their ids.
    public static func sheet(directory: String, count: Int = 32, columns: Int = 8, scale: Int = 2) throws -> RGBImage {
        var entries: [(id: String, image: String)] = []
        let captions = FaceDataset.join(directory, FaceDataset.captionsFile)
        if FileManager.default.fileExists(atPath: captions) {
            entries = try FaceDataset.loadCaptions(directory: directory).prefix(count).map { ($0.id, $0.image) }
        } else {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
            for name in names {
                guard let records = try? FaceDataset.loadLLaVA(path: FaceDataset.join(directory, name)) else { continue }
                entries = records.prefix(count).map { ($0.id, $0.image) }
                break
            }
        }
        if entries.isEmpty { throw DatasetError("\(directory): no captions.jsonl or LLaVA records with images to preview") }
        let images = try entries.map { e -> RGBImage in
            do { return try PNGCodec.read(path: DatasetChecker.resolve(e.image, base: directory, root: nil)) }
            catch { throw DatasetError("\(error)") }
        }
        return ContactSheet.make(images: images, labels: entries.map(\.id), columns: columns, cellScale: scale)
    }

    /// For each of the 46 attributes: a face without it and the same face with it (same nuisance),
    /// labelled "-name" / "+name". Bases are drawn from `seed` with a neutral expression so that
    /// each pair differs in that attribute only (plus what it implies, e.g. facial hair needs male).
    public static func attributeSheet(seed: UInt64 = 1, size: Int = 64, scale: Int = 2) -> RGBImage {
        var images: [RGBImage] = []
        var labels: [String] = []
        for (k, attr) in FaceAttribute.all.enumerated() {
            let (off, on, nuisance) = AttributePair.make(attr, seed: seed &+ UInt64(k))
            images.append(FaceRenderer.render(off, nuisanceSeed: nuisance, size: size))
            images.append(FaceRenderer.render(on, nuisanceSeed: nuisance, size: size))
            labels += ["-" + attr.name, "+" + attr.name]
        }
        return ContactSheet.make(images: images, labels: labels, columns: 10, cellScale: scale)
    }
}

/// Two records that differ in one attribute, for visibility tests and the attribute sheet.
public enum AttributePair {
    /// A base face (neutral, no action, from `seed`) with `attr` switched off and on, and the
    /// nuisance seed to render both with.
    public static func make(_ attr: FaceAttribute, seed: UInt64) -> (off: FaceAttributes, on: FaceAttributes, nuisanceSeed: UInt64) {
        var rng = FaceRNG(seed: seed)
        var base = FaceSampler.sample(&rng)
        base.actions = []
        base.emotion = .neutral
        // Facial hair shows on men; everything else on whoever was drawn.
        if case .appearance(let a) = attr, Appearance.facialHair.contains(a) { base = base.setting(.appearance(.male), true) }
        let off = base.setting(attr, false)
        return (off, off.setting(attr, true), FaceRNG.derive(seed, 0, stream: 1))
    }
}
