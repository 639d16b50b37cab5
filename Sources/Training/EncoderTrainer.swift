import Foundation
import Tensor
import Imaging
import FaceData
import FaceModel

// Training and evaluation of the two frozen image encoders (Encoders.swift): the face-attribute
// CNN on the 46 labels and the multi-valued details, and the small CLIP on image–caption pairs.
// Both read one `EncoderDataset` (every image decoded once into memory) and train with AdamW,
// warmup + cosine, gradient clipping, and resumable checkpoints (`TrainingCheckpoint`).

/// A data set's images, captions and labels in memory, in `captions.jsonl` order.
public struct EncoderDataset: Sendable {
    public let ids: [String]
    public let isTest: [Bool]
    public let captions: [String]
    public let labels: [FaceLabels]
    /// Attribute names and detail heads, from `schema.json`.
    public let attributes: [String]
    public let details: [DetailHead]
    public let side: Int
    /// HWC bytes, image after image.
    let pixels: [UInt8]

    public var count: Int { ids.count }
    public var trainIndices: [Int] { (0..<count).filter { !isTest[$0] } }
    public var testIndices: [Int] { (0..<count).filter { isTest[$0] } }

    public init(ids: [String], isTest: [Bool], captions: [String], labels: [FaceLabels], attributes: [String],
                details: [DetailHead], side: Int, pixels: [UInt8]) {
        precondition(pixels.count == ids.count * side * side * 3, "EncoderDataset: pixel buffer does not hold \(ids.count) images")
        self.ids = ids; self.isTest = isTest; self.captions = captions; self.labels = labels
        self.attributes = attributes; self.details = details; self.side = side; self.pixels = pixels
    }

    /// Reads `captions.jsonl`, `attributes.jsonl`, `schema.json` and every image (in parallel),
    /// or only those of `split`. Errors name the file and the record.
    public static func load(directory dir: String, side: Int, split: String? = nil, limit: Int? = nil,
                            showProgress: Bool = false) throws -> EncoderDataset {
        let schema = try FaceDataset.loadSchema(directory: dir)
        var captions = try FaceDataset.loadCaptions(directory: dir)
        if let split { captions = captions.filter { $0.split == split } }
        if let limit { captions = Array(captions.prefix(limit)) }
        let attributeRecords = try FaceDataset.loadAttributes(directory: dir)
        let byID = Dictionary(attributeRecords.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let heads = schema.details.map { DetailHead(field: $0.field, values: $0.values) }
        var labels: [FaceLabels] = []
        labels.reserveCapacity(captions.count)
        for (line, record) in captions.enumerated() {
            guard let a = byID[record.id] else {
                throw TrainingError.data("\(dir)/\(FaceDataset.attributesFile): no record for \(record.id) (captions.jsonl line \(line + 1))")
            }
            guard a.vector.count == schema.attributes.count else {
                throw TrainingError.data("\(dir)/\(FaceDataset.attributesFile): \(record.id): \(a.vector.count) attributes, schema.json has \(schema.attributes.count)")
            }
            let details = try heads.map { head -> Int? in
                guard let value = a.details[head.field] else { return nil }
                guard let index = head.values.firstIndex(of: value) else {
                    throw TrainingError.data("\(dir)/\(FaceDataset.attributesFile): \(record.id): \(head.field) \"\(value)\" is not in schema.json")
                }
                return index
            }
            labels.append(FaceLabels(attributes: a.vector, details: details))
        }
        let plane = side * side * 3
        let buffer = PixelBuffer(count: captions.count * plane)
        let failures = FailureBox()
        let progress = ProgressLine(label: "read images", total: captions.count, unit: "img", enabled: showProgress)
        let counter = FailureBox()
        Threading.parallelFor(captions.count) { i in
            do {
                var image = try PNGCodec.read(path: dir + "/" + captions[i].image)
                if image.width != side || image.height != side { image = ImageOps.resize(image, width: side, height: side) }
                buffer.write(image.pixels, at: i * plane)
            } catch {
                failures.record("\(dir)/\(captions[i].image): \(error)")
            }
            progress.update(counter.tick())
        }
        progress.finish()
        if let first = failures.first { throw TrainingError.data(first) }
        return EncoderDataset(ids: captions.map(\.id), isTest: captions.map { $0.split == "test" }, captions: captions.map(\.caption),
                              labels: labels, attributes: schema.attributes.map(\.name), details: heads, side: side,
                              pixels: buffer.values)
    }

    /// A random augmentation per image: flipped left–right half the time and shifted by up to
    /// 2 pixels (edges repeated). Nothing the labels or captions describe depends on either.
    public static func randomTransforms(count: Int, rng: inout RNG) -> [ImageTransform] {
        (0..<count).map { _ in ImageTransform(flip: rng.uniform() < 0.5, dx: rng.int(5) - 2, dy: rng.int(5) - 2) }
    }

    /// Images `indices` as [B, 3, S, S] in [-1, 1], each moved by its transform when given.
    public func batch(_ indices: [Int], transforms: [ImageTransform]? = nil) -> Tensor {
        precondition(transforms == nil || transforms!.count == indices.count, "batch: one transform per image")
        let S = side, plane = S * S
        let out = Tensor(uninitialized: [indices.count, 3, S, S])
        pixels.withUnsafeBufferPointer { px in
            for (b, index) in indices.enumerated() {
                let t = transforms?[b] ?? ImageTransform(flip: false, dx: 0, dy: 0)
                let src = index * plane * 3, dst = out.data + b * 3 * plane
                for y in 0..<S {
                    let sy = min(max(y + t.dy, 0), S - 1)
                    for x in 0..<S {
                        var sx = min(max(x + t.dx, 0), S - 1)
                        if t.flip { sx = S - 1 - sx }
                        let p = src + (sy * S + sx) * 3
                        for c in 0..<3 { dst[c * plane + y * S + x] = Float(px[p + c]) * (2 / 255) - 1 }
                    }
                }
            }
        }
        return out
    }

    /// Image `index` as an RGBImage.
    public func image(_ index: Int) -> RGBImage {
        let n = side * side * 3
        return RGBImage(width: side, height: side, pixels: Array(pixels[(index * n)..<((index + 1) * n)]))
    }
}

/// A training-time image augmentation.
public struct ImageTransform: Sendable, Equatable {
    public var flip: Bool
    public var dx: Int
    public var dy: Int
    public init(flip: Bool, dx: Int, dy: Int) { self.flip = flip; self.dx = dx; self.dy = dy }
}

/// Thread-safe byte buffer for parallel decoding.
final class PixelBuffer: @unchecked Sendable {
    private(set) var values: [UInt8]
    private let lock = NSLock()
    init(count: Int) { values = [UInt8](repeating: 0, count: count) }
    func write(_ bytes: [UInt8], at offset: Int) {
        lock.lock(); values.replaceSubrange(offset..<(offset + bytes.count), with: bytes); lock.unlock()
    }
}

/// The first failure of a parallel loop, and a shared counter.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var first: String?
    private var count = 0
    func record(_ message: String) { lock.lock(); if first == nil { first = message }; lock.unlock() }
    func tick() -> Int { lock.lock(); defer { lock.unlock() }; count += 1; return count }
}

/// Settings of one encoder's training run.
public struct EncoderTrainSettings: Codable, Equatable, Sendable {
    public var steps: Int
    public var batch: Int
    public var learningRate: Float
    public var warmupSteps: Int
    public var weightDecay: Float = 0.05
    public var clipNorm: Float = 1.0
    public var checkpointEvery: Int = 100
    public var seed: UInt64 = 0
    /// Face encoder: each attribute's positive term is weighted by (negatives/positives)^power on
    /// the train split, capped at `maxPositiveWeight`. 0 is plain BCE; 0.5 lifts rare attributes
    /// (actions, most emotions) that plain BCE learns as "never".
    public var positiveWeightPower: Float = 0
    public var maxPositiveWeight: Float = 10

    public init(steps: Int, batch: Int, learningRate: Float, warmupSteps: Int) {
        self.steps = steps; self.batch = batch; self.learningRate = learningRate; self.warmupSteps = warmupSteps
    }

    /// Defaults measured to train in about half an hour on two cores (see the encoders command).
    public static let face = EncoderTrainSettings(steps: 1500, batch: 64, learningRate: 2e-3, warmupSteps: 100)
    public static let clip = EncoderTrainSettings(steps: 500, batch: 128, learningRate: 1e-3, warmupSteps: 50)

    public func validate() throws {
        if steps <= 0 { throw TrainingError.config("steps: \(steps) must be positive") }
        if batch < 2 { throw TrainingError.config("batch: \(batch) must be at least 2") }
        if !(learningRate > 0) { throw TrainingError.config("learning rate: \(learningRate) must be positive") }
        if !(0...2).contains(positiveWeightPower) { throw TrainingError.config("positive weight power: \(positiveWeightPower) must be in [0, 2]") }
        if !(maxPositiveWeight >= 1) { throw TrainingError.config("max positive weight: \(maxPositiveWeight) must be at least 1") }
    }

    var schedule: WarmupCosine { WarmupCosine(peak: learningRate, minLR: learningRate * 0.02, warmupSteps: warmupSteps, totalSteps: steps) }
}

/// One step of an encoder's training, for the progress line and the JSONL log.
public struct EncoderStepMetrics: Codable, Sendable {
    public var step: Int
    public var loss: Float
    /// Face: the attribute BCE and the detail CE; CLIP: the inverse temperature.
    public var attributeLoss: Float?
    public var detailLoss: Float?
    public var logitScale: Float?
    public var learningRate: Float
    public var gradNorm: Float
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case step, loss, attributeLoss = "attribute_loss", detailLoss = "detail_loss", logitScale = "logit_scale"
        case learningRate = "lr", gradNorm = "grad_norm", seconds
    }
}

/// Trains one of the two encoders of `encoders` on `data`'s train split.
public final class EncoderTrainer {
    public typealias Kind = EncoderKind

    public let kind: Kind
    public let encoders: ImageEncoders
    public let data: EncoderDataset
    public let settings: EncoderTrainSettings
    public let optimizer: AdamW
    public private(set) var step = 0
    private(set) var rng: RNG
    private let train: [Int]
    /// Caption token ids, by image index (CLIP only).
    private let captionTokens: [[Int]]
    /// Face only: the weight of each attribute's positive BCE term (nil: plain BCE).
    public let positiveWeights: [Float]?

    public init(kind: Kind, encoders: ImageEncoders, data: EncoderDataset, settings: EncoderTrainSettings) throws {
        try settings.validate()
        guard data.side == encoders.config.imageSize else {
            throw TrainingError.data("images are \(data.side)×\(data.side), the encoders take \(encoders.config.imageSize)×\(encoders.config.imageSize)")
        }
        if kind == .face && (data.attributes != encoders.config.face.attributes || data.details != encoders.config.face.details) {
            throw TrainingError.data("the data set's schema does not match the face encoder's attributes and details")
        }
        train = data.trainIndices
        guard train.count >= settings.batch else { throw TrainingError.data("\(train.count) training images, fewer than one batch of \(settings.batch)") }
        self.kind = kind
        self.encoders = encoders
        self.data = data
        self.settings = settings
        optimizer = AdamW(parameters: encoders.parameters(kind), learningRate: settings.learningRate, beta2: 0.98, weightDecay: settings.weightDecay)
        rng = RNG(seed: settings.seed ^ (kind == .face ? 0xFACE : 0xC11F))
        captionTokens = kind == .clip ? data.captions.map { encoders.textTokenizer.encode($0) } : []
        positiveWeights = kind == .face && settings.positiveWeightPower > 0
            ? EncoderTrainer.positiveWeights(labels: train.map { data.labels[$0] }, power: settings.positiveWeightPower, cap: settings.maxPositiveWeight)
            : nil
    }

    /// Per attribute: (negatives / positives)^power among `labels`, clamped to [1, cap]
    /// (an attribute no face has, or more than half have, keeps weight 1).
    public static func positiveWeights(labels: [FaceLabels], power: Float, cap: Float) -> [Float] {
        guard let A = labels.first?.attributes.count else { return [] }
        var positives = [Int](repeating: 0, count: A)
        for l in labels { for a in 0..<A where l.attributes[a] != 0 { positives[a] += 1 } }
        return positives.map { p in
            guard p > 0 else { return 1 }
            return min(max(powf(Float(labels.count - p) / Float(p), power), 1), cap)
        }
    }

    /// One optimiser step on a random batch of the train split.
    public func trainStep() -> EncoderStepMetrics {
        let started = Date()
        // Distinct images per batch: CLIP's other captions are the negatives.
        var picked = Set<Int>()
        while picked.count < settings.batch { picked.insert(train[rng.int(train.count)]) }
        let indices = picked.sorted()
        var shuffled = indices
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, rng.int(i + 1)) }
        let images = data.batch(shuffled, transforms: EncoderDataset.randomTransforms(count: shuffled.count, rng: &rng))
        var metrics = EncoderStepMetrics(step: step, loss: 0, learningRate: 0, gradNorm: 0, seconds: 0)
        let loss: Tensor
        switch kind {
        case .face:
            let parts = encoders.face.loss(logits: encoders.face.logits(images), labels: shuffled.map { data.labels[$0] },
                                           positiveWeights: positiveWeights)
            loss = parts.total
            metrics.attributeLoss = parts.attributes.item
            metrics.detailLoss = parts.details?.item
        case .clip:
            let clip = encoders.clip
            loss = clip.contrastiveLoss(image: clip.imageEmbedding(images), text: clip.textEmbedding(shuffled.map { captionTokens[$0] }))
            metrics.logitScale = expf(min(clip.logitScale.item, ClipEncoder.maxLogitScale))
        }
        let lr: Float
        (metrics.gradNorm, lr) = optimizer.minimize(loss, clipNorm: settings.clipNorm, schedule: settings.schedule, step: step)
        step += 1
        metrics.loss = loss.item
        metrics.learningRate = lr
        metrics.seconds = Date().timeIntervalSince(started)
        return metrics
    }

    /// Writes weights, AdamW moments, step and RNG atomically.
    public func save(path: String) throws {
        let configJSON = String(decoding: try encoders.config.jsonData(), as: UTF8.self)
        try TrainingCheckpoint.save(path: path, parameters: optimizer.parameters, optimizer: optimizer,
                                    state: TrainingState(step: step, rng: rng, extra: ["encoder": kind.rawValue]), configJSON: configJSON)
    }

    /// Restores a checkpoint written by `save` for the same encoder and configuration.
    public func restore(path: String) throws {
        let (state, configJSON) = try TrainingCheckpoint.restore(path: path, parameters: optimizer.parameters, optimizer: optimizer)
        guard state.extra["encoder"] == kind.rawValue else {
            throw TrainingError.checkpoint("\(path): a checkpoint of the \(state.extra["encoder"] ?? "unknown") encoder, not the \(kind.rawValue) encoder")
        }
        if let saved = try? JSONDecoder().decode(EncoderConfig.self, from: Data(configJSON.utf8)), saved != encoders.config {
            throw TrainingError.checkpoint("\(path): written for another encoder configuration")
        }
        step = state.step
        rng = state.rng
    }
}

// MARK: - Evaluation

/// Test-split figures of the face-attribute encoder.
public struct FaceEncoderReport: Codable, Sendable {
    public var images: Int
    /// Accuracy per attribute (threshold 0.5), by name.
    public var attributeAccuracy: [String: Double]
    public var meanAttributeAccuracy: Double
    public var worstAttribute: String
    /// Per attribute, the share of the faces that have it on which it is detected. Accuracy
    /// alone hides a blind head: never seeing a wink (5% of faces) scores 0.95.
    public var attributeRecall: [String: Double]
    /// Per attribute, the mean of the recall on faces with it and on faces without it (0.5: blind).
    public var attributeBalancedAccuracy: [String: Double]
    public var meanAttributeBalancedAccuracy: Double
    /// Accuracy per detail on the faces where the detail applies.
    public var detailAccuracy: [String: Double]
    public var meanDetailAccuracy: Double

    enum CodingKeys: String, CodingKey {
        case images, attributeAccuracy = "attribute_accuracy", meanAttributeAccuracy = "mean_attribute_accuracy"
        case worstAttribute = "worst_attribute", detailAccuracy = "detail_accuracy", meanDetailAccuracy = "mean_detail_accuracy"
        case attributeRecall = "attribute_recall", attributeBalancedAccuracy = "attribute_balanced_accuracy"
        case meanAttributeBalancedAccuracy = "mean_attribute_balanced_accuracy"
    }
}

extension FaceEncoderReport {
    /// The `n` attributes with the lowest balanced accuracy, lowest first.
    public func blindest(_ n: Int) -> [(name: String, balancedAccuracy: Double)] {
        attributeBalancedAccuracy.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.prefix(n).map { ($0.key, $0.value) }
    }

    /// One line for the terminal: accuracy, balanced accuracy and where the head is blindest.
    public var summaryLine: String {
        let blind = blindest(4).map { String(format: "%@ %.2f", $0.name, $0.balancedAccuracy) }.joined(separator: ", ")
        return String(format: "face encoder: mean attribute accuracy %.4f, balanced %.4f (lowest: %@); mean detail accuracy %.4f on %d images",
                      meanAttributeAccuracy, meanAttributeBalancedAccuracy, blind, meanDetailAccuracy, images)
    }
}

/// Hits of a binary detector on faces with and without one attribute.
public struct BinaryTally: Sendable, Equatable {
    public var positives = 0, truePositives = 0, negatives = 0, trueNegatives = 0
    public init() {}
    public mutating func add(predicted: Bool, actual: Bool) {
        if actual { positives += 1; if predicted { truePositives += 1 } } else { negatives += 1; if !predicted { trueNegatives += 1 } }
    }
    public var accuracy: Double { Double(truePositives + trueNegatives) / Double(max(positives + negatives, 1)) }
    /// nil when no face has the attribute.
    public var recall: Double? { positives > 0 ? Double(truePositives) / Double(positives) : nil }
    public var specificity: Double? { negatives > 0 ? Double(trueNegatives) / Double(negatives) : nil }
    /// Mean of recall and specificity; the one that exists when the other does not.
    public var balancedAccuracy: Double {
        let parts = [recall, specificity].compactMap { $0 }
        return parts.isEmpty ? 0 : parts.reduce(0, +) / Double(parts.count)
    }
}

/// Test-split retrieval figures of the CLIP encoder.
public struct ClipEncoderReport: Codable, Sendable {
    public var images: Int
    /// Image→caption top-1 among 100 (consecutive groups of 100 test images).
    public var imageToCaptionTop1Of100: Double
    public var captionToImageTop1Of100: Double
    /// Image→caption recall@1 and @5 over the whole test split.
    public var imageToCaptionTop1All: Double
    public var imageToCaptionTop5All: Double

    enum CodingKeys: String, CodingKey {
        case images, imageToCaptionTop1Of100 = "image_to_caption_top1_of_100", captionToImageTop1Of100 = "caption_to_image_top1_of_100"
        case imageToCaptionTop1All = "image_to_caption_top1_all", imageToCaptionTop5All = "image_to_caption_top5_all"
    }
}

public enum EncoderEvaluation {
    /// Per-attribute and per-detail accuracy of `face` on `indices` (default: the test split).
    public static func face(_ encoders: ImageEncoders, data: EncoderDataset, indices: [Int]? = nil) throws -> FaceEncoderReport {
        let face = encoders.face
        guard data.attributes == face.config.attributes, data.details == face.config.details else {
            throw TrainingError.data("the data set's schema does not match the face encoder's attributes and details")
        }
        let indices = indices ?? data.testIndices
        guard !indices.isEmpty else { throw TrainingError.data("no test images to evaluate on") }
        let A = data.attributes.count, D = data.details.count
        var tallies = [BinaryTally](repeating: BinaryTally(), count: A)
        var detailCorrect = [Int](repeating: 0, count: D), detailSeen = [Int](repeating: 0, count: D)
        for start in stride(from: 0, to: indices.count, by: 100) {
            let chunk = Array(indices[start..<min(start + 100, indices.count)])
            let predictions = face.predict(data.batch(chunk))
            for (p, i) in zip(predictions, chunk) {
                let label = data.labels[i]
                for a in 0..<A { tallies[a].add(predicted: p.attributeProbabilities[a] >= 0.5, actual: label.attributes[a] != 0) }
                for d in 0..<D { if let truth = label.details[d] { detailSeen[d] += 1; if p.details[d] == truth { detailCorrect[d] += 1 } } }
            }
        }
        let accuracy = tallies.map(\.accuracy), balanced = tallies.map(\.balancedAccuracy)
        var recall: [String: Double] = [:]
        for a in 0..<A { if let r = tallies[a].recall { recall[data.attributes[a]] = r } }
        var details: [String: Double] = [:]
        for d in 0..<D where detailSeen[d] > 0 { details[data.details[d].field] = Double(detailCorrect[d]) / Double(detailSeen[d]) }
        let worst = accuracy.indices.min { accuracy[$0] < accuracy[$1] }!
        return FaceEncoderReport(images: indices.count,
                                 attributeAccuracy: Dictionary(uniqueKeysWithValues: zip(data.attributes, accuracy)),
                                 meanAttributeAccuracy: accuracy.reduce(0, +) / Double(A), worstAttribute: data.attributes[worst],
                                 attributeRecall: recall,
                                 attributeBalancedAccuracy: Dictionary(uniqueKeysWithValues: zip(data.attributes, balanced)),
                                 meanAttributeBalancedAccuracy: balanced.reduce(0, +) / Double(A),
                                 detailAccuracy: details,
                                 meanDetailAccuracy: details.isEmpty ? 0 : details.values.reduce(0, +) / Double(details.count))
    }

    /// Retrieval accuracy of `clip` on `indices` (default: the test split).
    public static func clip(_ encoders: ImageEncoders, data: EncoderDataset, indices: [Int]? = nil) throws -> ClipEncoderReport {
        let clip = encoders.clip
        let indices = indices ?? data.testIndices
        guard indices.count >= 2 else { throw TrainingError.data("need at least 2 test images for retrieval") }
        let E = clip.config.embedDim
        var imageEmbeddings: [Float] = [], textEmbeddings: [Float] = []
        GradMode.withoutGrad {
            for start in stride(from: 0, to: indices.count, by: 100) {
                let chunk = Array(indices[start..<min(start + 100, indices.count)])
                imageEmbeddings += clip.imageEmbedding(data.batch(chunk)).values
                textEmbeddings += clip.textEmbedding(chunk.map { encoders.textTokenizer.encode(data.captions[$0]) }).values
            }
        }
        let n = indices.count
        // sim[i, t]: image i against caption t.
        let sim = Tensor(shape: [n, E], values: imageEmbeddings).matmul(Tensor(shape: [n, E], values: textEmbeddings), transposeW: true).values
        // Rank of the true match among `candidates` (0 = best).
        func rank(_ query: Int, among candidates: Range<Int>, imageQuery: Bool) -> Int {
            let truth = sim[query * n + query]
            var better = 0
            for c in candidates where c != query && (imageQuery ? sim[query * n + c] : sim[c * n + query]) > truth { better += 1 }
            return better
        }
        let groups = max(n / 100, 1), groupSize = min(100, n)
        var i2t = 0, t2i = 0
        for g in 0..<groups {
            let range = (g * groupSize)..<((g + 1) * groupSize)
            for q in range {
                if rank(q, among: range, imageQuery: true) == 0 { i2t += 1 }
                if rank(q, among: range, imageQuery: false) == 0 { t2i += 1 }
            }
        }
        var top1 = 0, top5 = 0
        for q in 0..<n {
            let r = rank(q, among: 0..<n, imageQuery: true)
            if r == 0 { top1 += 1 }
            if r < 5 { top5 += 1 }
        }
        let queries = Double(groups * groupSize)
        return ClipEncoderReport(images: n, imageToCaptionTop1Of100: Double(i2t) / queries, captionToImageTop1Of100: Double(t2i) / queries,
                                 imageToCaptionTop1All: Double(top1) / Double(n), imageToCaptionTop5All: Double(top5) / Double(n))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
