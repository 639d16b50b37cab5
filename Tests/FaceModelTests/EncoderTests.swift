import Foundation
import Testing
import Tensor
import Imaging
import TestSupport
@testable import FaceModel

/// Encoders small enough for finite differences: 16×16 images, two stages, 3 attributes.
func tinyEncoders(seed: UInt64 = 0) throws -> ImageEncoders {
    let texts = ["a smiling woman with red hair", "a man with a hat and glasses", "a sad child with blue eyes"]
    let tokenizer = try TextTokenizer.train(texts: texts, vocabSize: 280, specialTokens: ["<|pad|>"])
    var c = EncoderConfig()
    c.imageSize = 16
    c.clip.channels = [4, 8]
    c.clip.tokenDim = 5
    c.clip.embedDim = 6
    c.clip.textVocabSize = tokenizer.vocabSize
    c.clip.textDim = 8
    c.clip.textHeads = 2
    c.clip.textLayers = 1
    c.clip.maxTextTokens = 12
    c.face.channels = [4, 8]
    c.face.embedDim = 6
    c.face.attributes = ["a", "b", "c"]
    c.face.details = [DetailHead(field: "x", values: ["p", "q"]), DetailHead(field: "y", values: ["r", "s", "t"])]
    try c.validate()
    return ImageEncoders(config: c, textTokenizer: tokenizer, seed: seed)
}

func tinyImages(_ n: Int, side: Int = 16, seed: UInt64 = 1) -> [RGBImage] {
    var rng = RNG(seed: seed)
    return (0..<n).map { _ in RGBImage(width: side, height: side, pixels: (0..<(side * side * 3)).map { _ in UInt8(rng.int(256)) }) }
}

@Suite struct EncoderTests {
    func temporaryDirectory(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fs-encoders-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    @Test func saveAndLoadRoundTripStrictly() throws {
        let encoders = try tinyEncoders(seed: 3)
        let dir = temporaryDirectory("roundtrip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try encoders.save(directory: dir, dtype: .f32)
        let loaded = try ImageEncoders.load(directory: dir)
        #expect(loaded.config == encoders.config)
        for kind in EncoderKind.allCases {
            #expect(zip(loaded.parameters(kind), encoders.parameters(kind)).allSatisfy { $0.name == $1.name && $0.tensor.values == $1.tensor.values })
        }
        let images = tinyImages(2)
        #expect(try loaded.embeddings(images) == encoders.embeddings(images))

        // An extra tensor is refused by name.
        var extra = encoders.face.allParameters.map { (name: $0.name, tensor: $0.tensor) }
        extra.append((name: "stray.weight", tensor: Tensor(zeros: [2])))
        try SafetensorsFile.write(extra, to: dir + "/" + ImageEncoders.faceFile)
        #expect { try ImageEncoders.load(directory: dir) } throws: { "\($0)".contains("stray.weight") }
        // A missing file names it.
        try encoders.saveWeights(.face, directory: dir, dtype: .f32)
        try FileManager.default.removeItem(atPath: dir + "/" + ImageEncoders.clipFile)
        #expect { try ImageEncoders.load(directory: dir) } throws: { "\($0)".contains(ImageEncoders.clipFile) }
        // A config that disagrees with the weights names the tensor.
        try encoders.saveWeights(.clip, directory: dir, dtype: .f32)
        var other = encoders.config
        other.face.embedDim = 7
        try AtomicFile.write(Array(try other.jsonData()), to: dir + "/" + ImageEncoders.configFile)
        #expect { try ImageEncoders.load(directory: dir) } throws: { "\($0)".contains("face") && "\($0)".contains("shape") }
        // A bad config names the field.
        other = encoders.config
        other.clip.textHeads = 3
        try AtomicFile.write(Array(try other.jsonData()), to: dir + "/" + ImageEncoders.configFile)
        #expect { try ImageEncoders.load(directory: dir) } throws: { "\($0)".contains("clip.text_heads") }
    }

    @Test func embeddingsHaveTheConfiguredShapes() throws {
        let encoders = try tinyEncoders()
        let c = encoders.config
        #expect(c.clipTokens == 16 && c.clipDim == 5 && c.faceTokens == 1 && c.faceDim == 6)
        let e = try encoders.embeddings(tinyImages(3))
        #expect(e.count == 3 && e.allSatisfy { $0.clip.count == 16 * 5 && $0.face.count == 6 })
        #expect(e[0] != e[1])
        // Other sizes are resized first.
        #expect(try encoders.embeddings(tinyImages(1, side: 20))[0].clip.count == 16 * 5)
    }

    /// The readout is what the heads predict: attribute probabilities and one distribution
    /// per detail, in the logits' column order, and the same whether computed with the
    /// embeddings or later from them.
    @Test func readoutHoldsTheHeadsProbabilities() throws {
        let encoders = try tinyEncoders(seed: 4)
        #expect(encoders.config.faceReadoutDim == 3 + 2 + 3)
        let images = tinyImages(2, seed: 9)
        let e = try encoders.embeddings(images)
        let x = try ImageTensor.tensor(from: images, side: 16)
        let predictions = encoders.face.predict(x)
        for (b, emb) in e.enumerated() {
            let r = emb.readout
            #expect(r.count == 8)
            for a in 0..<3 { #expect(Swift.abs(r[a] - predictions[b].attributeProbabilities[a]) < 1e-5) }
            for (h, range) in encoders.face.detailRanges.enumerated() {
                let p = range.map { r[$0] }
                #expect(Swift.abs(p.reduce(0, +) - 1) < 1e-5 && p.allSatisfy { $0 > 0 })
                #expect(p.firstIndex(of: p.max()!) == predictions[b].details[h])
            }
            let again = encoders.face.readout(embeddings: Tensor(shape: [1, 6], values: emb.face))
            #expect(maxDiff(again, Tensor(shape: [1, 8], values: r)) < 1e-6)
        }
        #expect(e[0].readout != e[1].readout)
    }

    @Test func clipTrunkStartsFromTheFaceTrunkOnlyWhenTheWidthsMatch() throws {
        let encoders = try tinyEncoders(seed: 8)
        #expect(encoders.clip.trunk.allParameters[0].tensor.values != encoders.face.trunk.allParameters[0].tensor.values)
        #expect(encoders.initializeClipTrunkFromFace())
        #expect(zip(encoders.clip.trunk.allParameters, encoders.face.trunk.allParameters).allSatisfy { $0.tensor.values == $1.tensor.values })
        var c = encoders.config
        c.clip.channels = [4, 6]
        let narrow = ImageEncoders(config: c, textTokenizer: encoders.textTokenizer)
        let before = narrow.clip.trunk.allParameters.map(\.tensor.values)
        #expect(!narrow.initializeClipTrunkFromFace())
        #expect(narrow.clip.trunk.allParameters.map(\.tensor.values) == before)
    }

    @Test func faceLossGradientsMatchFiniteDifferences() throws {
        let face = try tinyEncoders(seed: 5).face
        let images = try ImageTensor.tensor(from: tinyImages(3, seed: 9), side: 16)
        let labels = [FaceLabels(attributes: [1, 0, 1], details: [0, nil]), FaceLabels(attributes: [0, 0, 1], details: [1, 2]),
                      FaceLabels(attributes: [1, 1, 0], details: [nil, 1])]
        let picked = [face.head.weight, face.embedLayer.weight, face.trunk.stages[1].conv.weight, face.trunk.stages[0].downNorm.weight]
        GradCheck(eps: 1e-3, maxNMSE: 1e-3, samplesPerInput: 16).run(picked) { _ in
            face.loss(logits: face.logits(images), labels: labels).total.reshape([1])
        }
    }

    @Test func positiveWeightsScaleOnlyTheTermsOfFacesWithTheAttribute() throws {
        let face = try tinyEncoders(seed: 5).face
        let images = try ImageTensor.tensor(from: tinyImages(2, seed: 3), side: 16)
        let labels = [FaceLabels(attributes: [1, 0, 0], details: [nil, nil]), FaceLabels(attributes: [0, 0, 1], details: [nil, nil])]
        let z = GradMode.withoutGrad { face.logits(images) }.values, n = z.count / 2
        func softplus(_ x: Float) -> Float { max(x, 0) + log1pf(expf(-Swift.abs(x))) }
        // By hand: −log σ(z) = softplus(−z) for a face with the attribute, softplus(z) without.
        let weights: [Float] = [4, 1, 9]
        var expected: Float = 0
        for (b, l) in labels.enumerated() {
            for a in 0..<3 { let x = z[b * n + a]; expected += l.attributes[a] == 1 ? weights[a] * softplus(-x) : softplus(x) }
        }
        expected /= 6
        let weighted = GradMode.withoutGrad { face.loss(logits: face.logits(images), labels: labels, positiveWeights: weights).attributes }.item
        #expect(Swift.abs(weighted - expected) < 1e-5, "\(weighted) vs \(expected)")
        let plain = GradMode.withoutGrad { face.loss(logits: face.logits(images), labels: labels).attributes }.item
        let ones = GradMode.withoutGrad { face.loss(logits: face.logits(images), labels: labels, positiveWeights: [1, 1, 1]).attributes }.item
        #expect(Swift.abs(plain - ones) < 1e-6)
        let picked = [face.head.weight, face.embedLayer.weight]
        GradCheck(eps: 1e-3, maxNMSE: 1e-3, samplesPerInput: 16).run(picked) { _ in
            face.loss(logits: face.logits(images), labels: labels, positiveWeights: weights).total.reshape([1])
        }
    }

    @Test func contrastiveLossGradientsMatchFiniteDifferences() throws {
        let encoders = try tinyEncoders(seed: 6)
        let clip = encoders.clip
        let images = try ImageTensor.tensor(from: tinyImages(3, seed: 4), side: 16)
        let texts = ["a smiling woman", "a man with a hat", "a sad child with blue eyes"].map { encoders.textTokenizer.encode($0) }
        let picked = [clip.logitScale, clip.imageProjection.weight, clip.tokenProjection.weight, clip.textProjection.weight, clip.textBlocks[0].wq.weight,
                      clip.positionEmbedding, clip.tokenEmbedding.weight, clip.trunk.stages[1].down.weight]
        GradCheck(eps: 1e-3, maxNMSE: 1e-3, samplesPerInput: 16).run(picked) { _ in
            clip.contrastiveLoss(image: clip.imageEmbedding(images), text: clip.textEmbedding(texts)).reshape([1])
        }
        // Embeddings are unit vectors.
        let e = GradMode.withoutGrad { clip.textEmbedding(texts) }.values
        #expect(Swift.abs(e.prefix(6).map { $0 * $0 }.reduce(0, +) - 1) < 1e-4)
    }

    @Test func textEmbeddingIgnoresPadding() throws {
        let encoders = try tinyEncoders(seed: 7)
        let clip = encoders.clip
        let short = encoders.textTokenizer.encode("a man"), long = encoders.textTokenizer.encode("a sad child with blue eyes and a hat")
        let alone = GradMode.withoutGrad { clip.textEmbedding([short]) }
        let batched = GradMode.withoutGrad { clip.textEmbedding([short, long]) }
        #expect(maxDiff(alone, batched.slice(axis: 0, 0..<1)) < 1e-5)
    }
}
