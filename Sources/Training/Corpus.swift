import Foundation
import Tensor
import Imaging
import FaceData
import FaceModel

/// Turns a data set directory (docs/DESIGN.md "The data set": `captions.jsonl`, `llava_*.json`,
/// `images/`) into a tokenised `TrainingCorpus`, encoding every image once with the image
/// tokenizer and caching the codes.
public enum CorpusBuilder {
    /// Every image of the data set (both splits), as (id, path relative to the directory).
    public static func images(dataDirectory dir: String) throws -> [(id: String, path: String)] {
        try FaceDataset.loadCaptions(directory: dir).map { ($0.id, $0.image) }
    }

    /// Every text a tokenizer for this data set should learn from: captions, conversations and
    /// (data sets that have them) the training prompts in people's words.
    public static func texts(dataDirectory dir: String) throws -> [String] {
        var texts = try FaceDataset.loadCaptions(directory: dir).map(\.caption)
        if FileManager.default.fileExists(atPath: dir + "/" + FaceDataset.promptsFile) {
            texts += try FaceDataset.loadPrompts(directory: dir).filter { $0.split == "train" }.map(\.prompt)
        }
        for record in try FaceDataset.loadLLaVA(path: dir + "/llava_train.json") {
            texts += record.conversations.map { $0.from == "human" ? ChatFormat.question(fromLLaVA: $0.value) : $0.value }
        }
        // The chat scaffolding, so its words are known to the tokenizer.
        return texts + [ChatFormat.userPrefix, ChatFormat.assistantPrefix, ChatFormat.describeQuestion]
    }

    /// Image codes for the images of `records` (id → codes), read from `cachePath` when it was
    /// written for the same images and the same tokenizer (`fingerprint`), otherwise encoded in
    /// parallel and cached atomically.
    public static func imageCodes(dataDirectory dir: String, images: [(id: String, path: String)], tokens: Int,
                                  cachePath: String, fingerprint: String, showProgress: Bool,
                                  encode: @escaping @Sendable (RGBImage) throws -> [Int]) throws -> [String: [Int]] {
        if let cached = try? CodeCache.read(path: cachePath), cached.fingerprint == fingerprint,
           cached.tokens == tokens, Set(images.map(\.id)).isSubset(of: Set(cached.ids)) {
            return Dictionary(uniqueKeysWithValues: zip(cached.ids, cached.codes))
        }
        let progress = ProgressLine(label: "encode images", total: images.count, unit: "img", enabled: showProgress)
        let results = ResultBox(count: images.count)
        Threading.parallelFor(images.count) { i in
            let item = images[i]
            do {
                let image = try PNGCodec.read(path: dir + "/" + item.path)
                let codes = try encode(image)
                if codes.count != tokens { throw TrainingError.data("\(item.path): tokenizer gave \(codes.count) codes, model expects \(tokens)") }
                results.set(i, .success(codes))
            } catch {
                results.set(i, .failure(error))
            }
            progress.update(results.finished)
        }
        progress.finish()
        var codes: [[Int]] = []
        for (i, r) in results.values.enumerated() {
            switch r {
            case .success(let c): codes.append(c)
            case .failure(let e): throw TrainingError.data("\(images[i].path): \(e)")
            case nil: throw TrainingError.data("\(images[i].path): not encoded")
            }
        }
        try CodeCache.write(CodeCache(fingerprint: fingerprint, tokens: tokens, ids: images.map(\.id), codes: codes), path: cachePath)
        return Dictionary(uniqueKeysWithValues: zip(images.map(\.id), codes))
    }

    /// The frozen encoders' embeddings of `images` (id → embeddings), read from `cachePath` when
    /// it was written for the same images and the same encoders (`ImageEncoders.fingerprint`),
    /// otherwise computed once in batches and cached atomically (F16 safetensors: `clip`
    /// [images, clip_tokens·clip_dim], `face` [images, face_tokens·face_dim], ids in the metadata).
    public static func imageEmbeddings(dataDirectory dir: String, images: [(id: String, path: String)], encoders: ImageEncoders,
                                       cachePath: String, fingerprint: String, showProgress: Bool) throws -> [String: ImageEmbeddings] {
        let clipWidth = encoders.config.clipTokens * encoders.config.clipDim
        let faceWidth = encoders.config.faceTokens * encoders.config.faceDim
        if let cached = try? EmbeddingCache.read(path: cachePath, fingerprint: fingerprint, clipWidth: clipWidth, faceWidth: faceWidth),
           Set(images.map(\.id)).isSubset(of: Set(cached.keys)) {
            return withReadouts(cached, face: encoders.face)
        }
        let progress = ProgressLine(label: "embed images", total: images.count, unit: "img", enabled: showProgress)
        var clip: [Float] = [], face: [Float] = []
        clip.reserveCapacity(images.count * clipWidth)
        face.reserveCapacity(images.count * faceWidth)
        let batch = 64
        for start in stride(from: 0, to: images.count, by: batch) {
            let chunk = images[start..<min(start + batch, images.count)]
            let pictures = try chunk.map { item -> RGBImage in
                do { return try PNGCodec.read(path: dir + "/" + item.path) } catch { throw TrainingError.data("\(dir)/\(item.path): \(error)") }
            }
            for e in try encoders.embeddings(pictures) { clip += e.clip; face += e.face }
            progress.update(start + chunk.count)
        }
        progress.finish()
        let ids = images.map(\.id)
        try EmbeddingCache.write(path: cachePath, fingerprint: fingerprint, ids: ids, clip: clip, face: face,
                                 clipWidth: clipWidth, faceWidth: faceWidth)
        var out: [String: ImageEmbeddings] = [:]
        for (i, id) in ids.enumerated() {
            out[id] = ImageEmbeddings(clip: Array(clip[(i * clipWidth)..<((i + 1) * clipWidth)]),
                                      face: Array(face[(i * faceWidth)..<((i + 1) * faceWidth)]))
        }
        return withReadouts(out, face: encoders.face)
    }

    /// Fills each image's face readout from its face embedding (a cheap matrix product, so the
    /// cache keeps only the embeddings).
    static func withReadouts(_ embeddings: [String: ImageEmbeddings], face: FaceEncoder) -> [String: ImageEmbeddings] {
        var out = embeddings
        let ids = Array(embeddings.keys), width = face.config.embedDim, batch = 1024
        for start in stride(from: 0, to: ids.count, by: batch) {
            let chunk = ids[start..<min(start + batch, ids.count)]
            let x = Tensor(shape: [chunk.count, width], values: chunk.flatMap { embeddings[$0]!.face })
            let r = face.readout(embeddings: x), n = r.shape[1], values = r.values
            for (i, id) in chunk.enumerated() { out[id]!.readout = Array(values[(i * n)..<((i + 1) * n)]) }
        }
        return out
    }

    /// T2I examples from the split's captions, MMU examples from `llava_<split>.json`. With
    /// `embeddings` (see `imageEmbeddings`), every MMU example carries its image's.
    public static func corpus(dataDirectory dir: String, split: String, tokenizer: TextTokenizer,
                              codes: [String: [Int]], embeddings: [String: ImageEmbeddings]? = nil) throws -> TrainingCorpus {
        var t2i: [T2IExample] = []
        var mmu: [MMUExample] = []
        func embedding(_ id: String, _ file: String) throws -> ImageEmbeddings? {
            guard let embeddings else { return nil }
            guard let e = embeddings[id] else { throw TrainingError.data("\(file): no image embeddings for \(id)") }
            return e
        }
        let describe = tokenizer.encode(ChatFormat.turnText(ChatFormat.describeQuestion))
        for record in try FaceDataset.loadCaptions(directory: dir) where record.split == split {
            guard let c = codes[record.id] else { throw TrainingError.data("\(dir)/captions.jsonl: no image codes for \(record.id)") }
            t2i.append(T2IExample(prompt: tokenizer.encode(record.caption), codes: c))
            // Captioning is taught as one more conversation: "Describe this face…" → the caption.
            mmu.append(MMUExample(codes: c, turns: [.init(user: describe, assistant: tokenizer.encode(ChatFormat.turnText(record.caption)))],
                                  embeddings: try embedding(record.id, "\(dir)/captions.jsonl")))
        }
        // Prompts in people's words (short lists to full sentences) teach the same faces again.
        if FileManager.default.fileExists(atPath: dir + "/" + FaceDataset.promptsFile) {
            for record in try FaceDataset.loadPrompts(directory: dir) where record.split == split {
                guard let c = codes[record.id] else { throw TrainingError.data("\(dir)/\(FaceDataset.promptsFile): no image codes for \(record.id)") }
                t2i.append(T2IExample(prompt: tokenizer.encode(record.prompt), codes: c))
            }
        }
        let llava = "\(dir)/llava_\(split).json"
        for (index, record) in try FaceDataset.loadLLaVA(path: llava).enumerated() {
            guard let c = codes[record.id] else { throw TrainingError.data("\(llava): record \(index): no image codes for \(record.id)") }
            var turns: [SequenceBuilder.Turn] = []
            var pending: String? = nil
            for turn in record.conversations {
                if turn.from == "human" { pending = ChatFormat.question(fromLLaVA: turn.value) }
                else if let q = pending {
                    turns.append(.init(user: tokenizer.encode(ChatFormat.turnText(q)), assistant: tokenizer.encode(ChatFormat.turnText(turn.value))))
                    pending = nil
                }
            }
            if !turns.isEmpty { mmu.append(MMUExample(codes: c, turns: turns, embeddings: try embedding(record.id, "\(llava): record \(index)"))) }
        }
        return TrainingCorpus(t2i: t2i, mmu: mmu, userPrefix: tokenizer.encode(ChatFormat.userPrefix),
                              assistantPrefix: tokenizer.encode(ChatFormat.assistantPrefix))
    }
}

/// Thread-safe slots for parallel results.
final class ResultBox: @unchecked Sendable {
    private(set) var values: [Result<[Int], Error>?]
    private let lock = NSLock()
    private var done = 0
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<[Int], Error>) { lock.lock(); values[i] = r; done += 1; lock.unlock() }
    var finished: Int { lock.lock(); defer { lock.unlock() }; return done }
}

/// The cached image codes of a data set: a JSON header line, then UInt16 codes, little-endian.
struct CodeCache {
    var fingerprint: String
    var tokens: Int
    var ids: [String]
    var codes: [[Int]]

    private struct Header: Codable { var fingerprint: String; var tokens: Int; var ids: [String] }

    static func write(_ cache: CodeCache, path: String) throws {
        var bytes = Array(try JSONEncoder().encode(Header(fingerprint: cache.fingerprint, tokens: cache.tokens, ids: cache.ids)))
        bytes.append(UInt8(ascii: "\n"))
        bytes.reserveCapacity(bytes.count + cache.ids.count * cache.tokens * 2)
        for row in cache.codes { for c in row { bytes.append(UInt8(c & 0xFF)); bytes.append(UInt8(c >> 8)) } }
        try AtomicFile.write(bytes, to: path)
    }

    static func read(path: String) throws -> CodeCache {
        let bytes = try AtomicFile.read(path: path)
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else { throw TrainingError.data("\(path): no header") }
        let header = try JSONDecoder().decode(Header.self, from: Data(bytes[..<newline]))
        let body = bytes.count - newline - 1
        guard body == header.ids.count * header.tokens * 2 else { throw TrainingError.data("\(path): truncated (\(body) code bytes)") }
        var codes: [[Int]] = []
        codes.reserveCapacity(header.ids.count)
        var p = newline + 1
        for _ in header.ids {
            var row = [Int](repeating: 0, count: header.tokens)
            for j in 0..<header.tokens { row[j] = Int(bytes[p]) | Int(bytes[p + 1]) << 8; p += 2 }
            codes.append(row)
        }
        return CodeCache(fingerprint: header.fingerprint, tokens: header.tokens, ids: header.ids, codes: codes)
    }
}

/// Cached image embeddings: one safetensors file (F16) with the ids and the encoders'
/// fingerprint in its metadata.
enum EmbeddingCache {
    static func write(path: String, fingerprint: String, ids: [String], clip: [Float], face: [Float],
                      clipWidth: Int, faceWidth: Int) throws {
        let n = ids.count
        let idsJSON = "[" + ids.map { JSONWriter.quoted($0) }.joined(separator: ",") + "]"
        try SafetensorsFile.write([(name: "clip", tensor: Tensor(shape: [n, clipWidth], values: clip)),
                                   (name: "face", tensor: Tensor(shape: [n, faceWidth], values: face))],
                                  metadata: ["format": "facestudio-image-embeddings-v1", "fingerprint": fingerprint, "ids": idsJSON],
                                  dtype: .f16, to: path)
    }

    /// The cache as id → embeddings, or nil when it is for other encoders or other shapes.
    static func read(path: String, fingerprint: String, clipWidth: Int, faceWidth: Int) throws -> [String: ImageEmbeddings]? {
        let file = try SafetensorsFile(path: path)
        guard file.metadata["fingerprint"] == fingerprint, let idsText = file.metadata["ids"],
              case let .array(items) = try JSONReader.parse(Array(idsText.utf8)) else { return nil }
        let ids = items.compactMap { item -> String? in if case let .string(s) = item { return s } else { return nil } }
        guard ids.count == items.count, file.shape("clip") == [ids.count, clipWidth], file.shape("face") == [ids.count, faceWidth] else { return nil }
        let clip = try file.tensor("clip"), face = try file.tensor("face")
        var out: [String: ImageEmbeddings] = [:]
        for (i, id) in ids.enumerated() {
            out[id] = ImageEmbeddings(clip: Array(UnsafeBufferPointer(start: clip.data + i * clipWidth, count: clipWidth)),
                                      face: Array(UnsafeBufferPointer(start: face.data + i * faceWidth, count: faceWidth)))
        }
        return out
    }
}
