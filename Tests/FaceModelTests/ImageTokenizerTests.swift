import Foundation
import Testing
import Imaging
@testable import FaceModel
@testable import Tensor
import TestSupport

/// A tokenizer small enough to train inside a test: 16×16 images → 8×8 codes of 8 bits.
private func tinyConfig() -> ImageTokenizerConfig {
    var c = ImageTokenizerConfig()
    c.imageSize = 16
    c.bits = 8
    c.channels = [8, 16]
    c.resBlocks = [0, 1]
    c.groups = 4
    return c
}

/// A smooth two-colour gradient with a disc: structure a tokenizer can learn quickly.
private func testImage(side: Int, seed: UInt64) -> RGBImage {
    var rng = RNG(seed: seed)
    let a = (0..<3).map { _ in rng.uniform() }, b = (0..<3).map { _ in rng.uniform() }, disc = (0..<3).map { _ in rng.uniform() }
    let cx = Float(side) * (0.3 + 0.4 * rng.uniform()), cy = Float(side) * (0.3 + 0.4 * rng.uniform()), r = Float(side) * 0.25
    var image = RGBImage(width: side, height: side)
    for y in 0..<side {
        for x in 0..<side {
            let t = Float(y) / Float(side - 1)
            let inside = (Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy) < r * r
            let c = (0..<3).map { inside ? disc[$0] : a[$0] + (b[$0] - a[$0]) * t }
            image.setPixel(x: x, y: y, (UInt8(c[0] * 255), UInt8(c[1] * 255), UInt8(c[2] * 255)))
        }
    }
    return image
}

private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "image-tokenizer-tests-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct ImageTokenizerTests {
    @Test func indexAndBitsRoundTripMostSignificantBitFirst() throws {
        for bits in [1, 4, 10] {
            for code in 0..<(1 << bits) {
                let values = LFQ.bitValues(of: code, bits: bits)
                #expect(values.count == bits)
                #expect(LFQ.code(ofBits: values) == code)
            }
        }
        // Channel 0 is the most significant bit.
        #expect(LFQ.bitValues(of: 512, bits: 10) == [1] + [Float](repeating: -1, count: 9))
        #expect(LFQ.bitValues(of: 1, bits: 10) == [Float](repeating: -1, count: 9) + [1])

        // Grids → ±1 latents → codes gives the grids back.
        var rng = RNG(seed: 4)
        let grids = (0..<3).map { _ in (0..<16).map { _ in rng.int(1024) } }
        let latents = try LFQ.latents(codes: grids, bits: 10, side: 4)
        #expect(latents.shape == [3, 10, 4, 4])
        #expect(LFQ.codes(latents) == grids)
    }

    @Test func codesFollowTheSignOfEachChannel() {
        // One position, 3 bits: z = (+0.2, −3, 0) → bits 1, 0, 1 (sign(0) counts as +1) → 0b101.
        let z = Tensor(shape: [1, 3, 1, 1], values: [0.2, -3, 0])
        #expect(LFQ.codes(z) == [[5]])
        #expect(GradMode.withoutGrad { LFQ.quantize(z) }.values == [1, -1, 1])
    }

    @Test func encodeIsDeterministic() throws {
        let image = testImage(side: 64, seed: 1)
        let a = try ImageTokenizer(config: ImageTokenizerConfig(), seed: 7)
        let b = try ImageTokenizer(config: ImageTokenizerConfig(), seed: 7)
        let first = try a.encode(image)
        #expect(first.count == 256)
        #expect(first.allSatisfy { (0..<1024).contains($0) })
        #expect(try a.encode(image) == first)
        #expect(try b.encode(image) == first)
        #expect(try a.encode([image, testImage(side: 64, seed: 2), image])[2] == first)
        // Decoding is deterministic too.
        #expect(try a.decode(first) == (try b.decode(first)))
    }

    @Test func inferencePathMatchesTheAutogradLayers() throws {
        let tokenizer = try ImageTokenizer(config: ImageTokenizerConfig(), seed: 3)
        let x = try ImageTensor.tensor(from: [testImage(side: 64, seed: 5), testImage(side: 64, seed: 6)], side: 64)
        let slow = GradMode.withoutGrad { tokenizer.encodeLatents(x) }
        #expect(maxDiff(slow, tokenizer.inferLatents(x)) < 1e-4)
        let q = GradMode.withoutGrad { LFQ.quantize(slow) }
        #expect(maxDiff(GradMode.withoutGrad { tokenizer.decodeLatents(q) }, tokenizer.inferImages(q)) < 1e-4)
    }

    /// A decoder of its own widths and depths, without norms: the fast path computes the same
    /// function, the weights carry no decoder norm, and a flat image's colour survives the
    /// decoder's output layer (GroupNorm would centre it away).
    @Test func decoderWithItsOwnShapeAndNoNorms() throws {
        var c = ImageTokenizerConfig()
        c.decoderChannels = [24, 48, 80]; c.decoderResBlocks = [1, 1, 2]; c.decoderNorm = .none
        let tokenizer = try ImageTokenizer(config: c, seed: 4)
        let names = tokenizer.allParameters.map(\.name)
        #expect(!names.contains { $0.hasPrefix("decoder.") && $0.contains("norm") })
        #expect(names.contains("encoder.norm_out.weight"))
        #expect(tokenizer.decoder.convOut.weight.shape == [3, 24, 3, 3])
        let x = try ImageTensor.tensor(from: [testImage(side: 64, seed: 7)], side: 64)
        let q = GradMode.withoutGrad { LFQ.quantize(tokenizer.encodeLatents(x)) }
        #expect(maxDiff(GradMode.withoutGrad { tokenizer.decodeLatents(q) }, tokenizer.inferImages(q)) < 1e-4)
        // Round trip of the settings through JSON; the defaults write no decoder keys at all.
        let back = try JSONDecoder().decode(ImageTokenizerConfig.self, from: try c.jsonData())
        #expect(back == c && back.decoderWidths == [24, 48, 80])
        let plain = String(decoding: try ImageTokenizerConfig().jsonData(), as: UTF8.self)
        #expect(!plain.contains("decoder_channels") && plain.contains("\"decoder_norm\" : \"group\""))
        var bad = c
        bad.decoderChannels = [24, 48]
        #expect(throws: ModelConfigError.self) { try bad.validate() }
    }

    @Test func pixelShuffleMovesChannelsToSubpixels() {
        // [1, 4, 1, 1] → [1, 1, 2, 2]: channel 2·dy + dx lands at (dy, dx).
        let x = Tensor(shape: [1, 4, 1, 2], values: [0, 1, 10, 11, 20, 21, 30, 31])
        let y = x.pixelShuffle2()
        #expect(y.shape == [1, 1, 2, 4])
        #expect(y.values == [0, 10, 1, 11, 20, 30, 21, 31])
    }

    @Test func straightThroughGradientIsTheIdentity() {
        let z = rand([2, 3, 2, 2], seed: 8)
        z.requiresGrad = true
        let r = rand([2, 3, 2, 2], seed: 9)
        (LFQ.quantize(z) * r).sum().backward()
        #expect(z.grad?.values == r.values)
    }

    @Test func entropyTermsMatchFiniteDifferences() {
        // Latents away from the clamp (|4z| < 3) so every element has a gradient.
        let z = rand([3, 4, 2, 2], seed: 11, scale: 0.3)
        GradCheck(eps: 1e-2, maxNMSE: 1e-3).run([z]) { inputs in
            let q = GradMode.withoutGrad { inputs[0].sign() }
            return LFQ.losses(z: inputs[0], q: q, beta: 0.25, temperature: 4).sampleEntropy.reshape([1])
        }
        GradCheck(eps: 1e-2, maxNMSE: 1e-3).run([z]) { inputs in
            let q = GradMode.withoutGrad { inputs[0].sign() }
            return LFQ.losses(z: inputs[0], q: q, beta: 0.25, temperature: 4).codebookEntropy.reshape([1])
        }
    }

    @Test func entropyTermsHaveTheirClosedForms() {
        // Undecided bits (z = 0): per-sample entropy is log 2. Bits fixed at +1 for every
        // sample: the batch mean is certain, so the codebook entropy is ~0.
        let zero = Tensor(zeros: [2, 3, 2, 2])
        let l0 = LFQ.losses(z: zero, q: GradMode.withoutGrad { zero.sign() }, beta: 0.25, temperature: 4)
        #expect(abs(l0.sampleEntropy.item - logf(2)) < 1e-5)
        let sure = Tensor(filled: 5, shape: [2, 3, 2, 2])
        let l1 = LFQ.losses(z: sure, q: GradMode.withoutGrad { sure.sign() }, beta: 0.25, temperature: 4)
        #expect(l1.codebookEntropy.item < 1e-4)
        // Half the batch +1, half −1 on every bit: the codebook entropy is log 2.
        let values = [Float](repeating: 5, count: 12) + [Float](repeating: -5, count: 12)
        let mixed = Tensor(shape: [2, 3, 2, 2], values: values)
        let l2 = LFQ.losses(z: mixed, q: GradMode.withoutGrad { mixed.sign() }, beta: 0.25, temperature: 4)
        #expect(abs(l2.codebookEntropy.item - logf(2)) < 1e-4)
    }

    @Test func jointCodebookEntropySeesCorrelatedBits() {
        // Two positions whose 3 bits are all +1 or all −1: every bit is balanced (per-bit
        // entropy log 2) but only 2 of 8 codes occur (joint entropy log 2 over 3 bits).
        let z = Tensor(shape: [2, 3, 1, 1], values: [5, 5, 5, -5, -5, -5])
        let q = GradMode.withoutGrad { z.sign() }
        let perBit = LFQ.losses(z: z, q: q, beta: 0.25, temperature: 4, codebookEntropy: .perBit).codebookEntropy.item
        let joint = LFQ.losses(z: z, q: q, beta: 0.25, temperature: 4, codebookEntropy: .joint).codebookEntropy.item
        #expect(abs(perBit - logf(2)) < 1e-4)
        #expect(abs(joint - logf(2) / 3) < 1e-4)
        // Undecided bits spread over all codes: log 2 per bit either way.
        let zero = Tensor(zeros: [2, 3, 2, 2])
        let uniform = LFQ.losses(z: zero, q: GradMode.withoutGrad { zero.sign() }, beta: 0.25, temperature: 4, codebookEntropy: .joint)
        #expect(abs(uniform.codebookEntropy.item - logf(2)) < 1e-4)
        let w = rand([3, 4, 2, 2], seed: 13, scale: 0.3)
        GradCheck(eps: 1e-2, maxNMSE: 1e-3).run([w]) { inputs in
            let q = GradMode.withoutGrad { inputs[0].sign() }
            return LFQ.losses(z: inputs[0], q: q, beta: 0.25, temperature: 4, codebookEntropy: .joint).codebookEntropy.reshape([1])
        }
    }

    @Test func commitmentGradientsFollowTheStopGradients() {
        // L = mean((sg(q) − z)²) + β·mean((q − sg(z))²): dL/dz = −2(q − z)/n, dL/dq = 2β(q − z)/n.
        let z = rand([1, 2, 2, 2], seed: 12)
        let q = GradMode.withoutGrad { z.sign() }
        z.requiresGrad = true
        q.requiresGrad = true
        let beta: Float = 0.25, n = Float(z.count)
        LFQ.losses(z: z, q: q, beta: beta, temperature: 4).commitment.backward()
        for i in 0..<z.count {
            let d = q.data[i] - z.data[i]
            #expect(abs(z.grad!.data[i] - (-2 * d / n)) < 1e-5)
            #expect(abs(q.grad!.data[i] - 2 * beta * d / n) < 1e-5)
        }
    }

    @Test func tinyTokenizerOverfitsAFewImages() throws {
        let config = tinyConfig()
        let tokenizer = try ImageTokenizer(config: config, seed: 1)
        let images = (0..<4).map { testImage(side: 16, seed: 100 + UInt64($0)) }
        let x = try ImageTensor.tensor(from: images, side: 16)
        func meanPSNR() throws -> Double {
            try images.map { ImageOps.psnr($0, try tokenizer.reconstruct($0)) }.reduce(0, +) / Double(images.count)
        }
        let before = try meanPSNR()
        let optimizer = AdamW(parameters: tokenizer.allParameters, learningRate: 3e-3, beta2: 0.99, weightDecay: 0)
        for _ in 0..<300 {
            let z = tokenizer.encodeLatents(x)
            let q = LFQ.quantize(z)
            let lfq = LFQ.losses(z: z, q: q, beta: config.commitmentBeta, temperature: config.entropyTemperature)
            let loss = (tokenizer.decodeLatents(q) - x).square().mean() + lfq.commitment * config.commitmentWeight
                + lfq.entropy * config.entropyWeight
            loss.backward()
            clipGradNorm(optimizer.parameters, maxNorm: 1)
            optimizer.update()
            optimizer.zeroGrad()
        }
        let after = try meanPSNR()
        #expect(after > before + 10, "PSNR \(before) dB → \(after) dB")
        #expect(after > 24, "PSNR after overfitting: \(after) dB")
    }

    @Test func saveThenLoadGivesTheSameTokenizer() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tokenizer = try ImageTokenizer(config: tinyConfig(), seed: 2)
        try tokenizer.save(directory: dir)
        let loaded = try ImageTokenizer.load(directory: dir)
        #expect(loaded.config == tokenizer.config)
        let image = testImage(side: 16, seed: 3)
        #expect(try loaded.encode(image) == (try tokenizer.encode(image)))
        for (a, b) in zip(loaded.allParameters, tokenizer.allParameters) {
            #expect(a.name == b.name && a.tensor.values == b.tensor.values)
        }
    }

    @Test func loadingWeightsOfTheWrongShapeNamesTheTensor() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ImageTokenizer(config: tinyConfig(), seed: 2).save(directory: dir)
        // Same names, wider second level: the first mismatch is the encoder's downsampling conv.
        var wider = tinyConfig()
        wider.channels = [8, 24]
        try AtomicFile.write(Array(try wider.jsonData()), to: dir + "/" + ImageTokenizer.configFileName)
        do {
            _ = try ImageTokenizer.load(directory: dir)
            Issue.record("loading mis-shaped weights succeeded")
        } catch {
            let message = "\(error)"
            #expect(message.contains("encoder.levels.0.down.weight"), "\(message)")
            #expect(message.contains("image_tokenizer.safetensors"), "\(message)")
        }
    }

    @Test func badConfigsAndFilesAreOneLineErrorsNamingTheField() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: (any Error).self) { _ = try ImageTokenizer.load(directory: dir + "/missing") }
        let path = dir + "/" + ImageTokenizer.configFileName
        try AtomicFile.write(text: #"{"channels": [16, 30, 64]}"#, to: path)
        do { _ = try ImageTokenizerConfig.load(path: path); Issue.record("accepted groups that do not divide 30") } catch {
            #expect("\(error)".contains("groups"), "\(error)")
        }
        try AtomicFile.write(text: #"{"bits": "ten"}"#, to: path)
        do { _ = try ImageTokenizerConfig.load(path: path); Issue.record("accepted a string for bits") } catch {
            #expect("\(error)".contains("bits"), "\(error)")
        }
        // Missing keys take their defaults; the JSON round-trips.
        try AtomicFile.write(text: #"{"bits": 12}"#, to: path)
        var expected = ImageTokenizerConfig()
        expected.bits = 12
        #expect(try ImageTokenizerConfig.load(path: path) == expected)
        #expect(try JSONDecoder().decode(ImageTokenizerConfig.self, from: expected.jsonData()) == expected)
    }

    @Test func badImagesAndCodesAreRejectedWithTheirPosition() throws {
        let tokenizer = try ImageTokenizer(config: tinyConfig(), seed: 1)
        #expect(throws: ImageTokenizerError.imageSize(image: 0, width: 20, height: 16, expected: 16)) {
            _ = try tokenizer.encode(RGBImage(width: 20, height: 16))
        }
        #expect(throws: ImageTokenizerError.codeCount(image: 0, got: 3, expected: 64)) {
            _ = try tokenizer.decode([1, 2, 3])
        }
        var codes = [Int](repeating: 0, count: 64)
        codes[17] = 256
        #expect(throws: ImageTokenizerError.codeOutOfRange(image: 0, position: 17, code: 256, codebookSize: 256)) {
            _ = try tokenizer.decode(codes)
        }
    }
}
