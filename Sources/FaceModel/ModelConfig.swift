import Foundation
import Support

/// The unified model's configuration (`config.json`, snake_case keys, every field defaulted).
public struct ModelConfig: Codable, Equatable, Sendable {
    /// Text BPE vocabulary size (without specials).
    public var textVocabSize: Int = 2048
    /// Image codebook size (2^bits of the LFQ tokenizer).
    public var imageCodebookSize: Int = 1024
    /// Image tokens per image (16×16 for 64×64 images).
    public var imageTokens: Int = 256
    public var dModel: Int = 256
    public var layers: Int = 8
    public var heads: Int = 8
    /// Rotary dimensions per head (partial rotary when smaller than the head size).
    public var rotaryDims: Int = 32
    public var ropeBase: Float = 10000
    /// Fixed text length of the T2I prompt segment (`<|bos|> text <|eos|>` plus padding).
    public var maxPromptTokens: Int = 48
    /// Longest MMU sequence (image prefix plus chat).
    public var maxSequenceLength: Int = 400
    /// Token-level MoE, per group (T2I and MMU): shared experts (always on) + routed experts.
    public var sharedExperts: Int = 1
    public var routedExperts: Int = 8
    public var expertsPerToken: Int = 2
    public var expertHidden: Int = 256
    /// Renormalise the top-k gates to sum to 1 (DeepSeekMoE leaves them unnormalised).
    public var renormalizeGates: Bool = false
    /// Balance-loss weight λ.
    public var balanceLossWeight: Float = 0.01
    /// Switches for the Tab. 4 ablation.
    public var tokenMoE: Bool = true
    public var sequenceMoE: Bool = true
    /// Sequence-level MoE (docs/DESIGN.md "Sequence-level MoE"): balance-loss weight over the
    /// sequences of a batch (0 turns it off).
    public var sequenceBalanceLossWeight: Float = 0.01
    /// Perceiver resampler shared by every layer's conditioning experts: attention+FFN layers,
    /// its own width and heads (narrower than the model keeps it cheap), and the width of the
    /// sinusoidal mask-ratio embedding the noise expert reads.
    public var resamplerDepth: Int = 2
    public var resamplerDim: Int = 64
    public var resamplerHeads: Int = 4
    public var noiseEmbeddingDim: Int = 64
    /// Adds log(positions / input tokens) to the resampler's attention scores on the input keys,
    /// so the conditioning weighs as much as all the latents together when training starts.
    /// Without it a one-token conditioning (the face embedding, the mask ratio) is one key among
    /// 257, and training settles on ignoring it: the shipped resamplers' outputs barely depend
    /// on their input (false there, for compatibility with models trained before).
    public var resamplerBalancedKeys: Bool = false
    /// Shape of the frozen encoders' outputs the CLIP and face experts read: tokens × width
    /// (checked against the encoder files when a model directory loads).
    public var clipTokens: Int = 16
    public var clipDim: Int = 128
    public var faceTokens: Int = 1
    public var faceDim: Int = 256
    /// Adds the face embedding, through a LayerNorm and a zero-initialised linear map, to the
    /// `<|eoi|>` embedding of MMU sequences: the answer then reads the face encoder in one
    /// attention hop instead of through the resampler's 256 image slots (false in models
    /// trained before; zero-initialised, so switching it on in a warm start changes nothing
    /// until training moves it).
    public var mmuFaceToken: Bool = false
    /// Adds the face embedding, through its own LayerNorm and zero-initialised linear map, to
    /// every text row of MMU sequences (question and answer tokens, after `<|eoi|>`): the row
    /// that predicts an answer word then holds the face itself, so reading it takes no
    /// attention hop at all, as an image-conditioned captioner feeds its image at every step
    /// (false in models trained before; neutral at a warm start like `mmu_face_token`).
    public var mmuFaceContext: Bool = false
    /// Adds the face encoder's readout of the image (each attribute's probability, each
    /// detail's distribution over its values: `face_readout_dim` columns, checked against the
    /// encoder files), through its own LayerNorm and zero-initialised linear map, to the same
    /// text rows as `mmu_face_context`. The encoder was trained on exactly the facts the
    /// answers state, so an answer word needs only the few columns that name it (false in
    /// models trained before; neutral at a warm start like the other face paths).
    public var mmuFaceReadout: Bool = false
    public var faceReadoutDim: Int = 0
    /// Answers every chat question on its own after the image, as if the chat had been cleared
    /// (`ChatSession`); the earlier turns are still shown but not in the model's context. `train`
    /// sets it from `training.mmu_isolated_turns`: a model trained that way never saw an earlier
    /// turn, and one in its context only misleads it ("Is her hair black?" after "Is her hair
    /// blond?" copied the first verdict).
    public var chatIsolatedTurns: Bool = false
    public var layerNormEps: Float = 1e-5
    public var initStd: Float = 0.02

    public init() {}

    enum CodingKeys: String, CodingKey {
        case textVocabSize = "text_vocab_size", imageCodebookSize = "image_codebook_size", imageTokens = "image_tokens"
        case dModel = "d_model", layers, heads, rotaryDims = "rotary_dims", ropeBase = "rope_base"
        case maxPromptTokens = "max_prompt_tokens", maxSequenceLength = "max_sequence_length"
        case sharedExperts = "shared_experts", routedExperts = "routed_experts", expertsPerToken = "experts_per_token"
        case expertHidden = "expert_hidden", renormalizeGates = "renormalize_gates", balanceLossWeight = "balance_loss_weight"
        case tokenMoE = "token_moe", sequenceMoE = "sequence_moe", layerNormEps = "layer_norm_eps", initStd = "init_std"
        case sequenceBalanceLossWeight = "sequence_balance_loss_weight", resamplerDepth = "resampler_depth"
        case resamplerDim = "resampler_dim", resamplerHeads = "resampler_heads", noiseEmbeddingDim = "noise_embedding_dim"
        case resamplerBalancedKeys = "resampler_balanced_keys"
        case clipTokens = "clip_tokens", clipDim = "clip_dim", faceTokens = "face_tokens", faceDim = "face_dim"
        case mmuFaceToken = "mmu_face_token", mmuFaceContext = "mmu_face_context"
        case mmuFaceReadout = "mmu_face_readout", faceReadoutDim = "face_readout_dim"
        case chatIsolatedTurns = "chat_isolated_turns"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ModelConfig()
        func v<T: Decodable>(_ k: CodingKeys, _ def: T) throws -> T { try c.decodeIfPresent(T.self, forKey: k) ?? def }
        textVocabSize = try v(.textVocabSize, d.textVocabSize)
        imageCodebookSize = try v(.imageCodebookSize, d.imageCodebookSize)
        imageTokens = try v(.imageTokens, d.imageTokens)
        dModel = try v(.dModel, d.dModel)
        layers = try v(.layers, d.layers)
        heads = try v(.heads, d.heads)
        rotaryDims = try v(.rotaryDims, d.rotaryDims)
        ropeBase = try v(.ropeBase, d.ropeBase)
        maxPromptTokens = try v(.maxPromptTokens, d.maxPromptTokens)
        maxSequenceLength = try v(.maxSequenceLength, d.maxSequenceLength)
        sharedExperts = try v(.sharedExperts, d.sharedExperts)
        routedExperts = try v(.routedExperts, d.routedExperts)
        expertsPerToken = try v(.expertsPerToken, d.expertsPerToken)
        expertHidden = try v(.expertHidden, d.expertHidden)
        renormalizeGates = try v(.renormalizeGates, d.renormalizeGates)
        balanceLossWeight = try v(.balanceLossWeight, d.balanceLossWeight)
        tokenMoE = try v(.tokenMoE, d.tokenMoE)
        sequenceMoE = try v(.sequenceMoE, d.sequenceMoE)
        layerNormEps = try v(.layerNormEps, d.layerNormEps)
        initStd = try v(.initStd, d.initStd)
        sequenceBalanceLossWeight = try v(.sequenceBalanceLossWeight, d.sequenceBalanceLossWeight)
        resamplerDepth = try v(.resamplerDepth, d.resamplerDepth)
        resamplerDim = try v(.resamplerDim, d.resamplerDim)
        resamplerHeads = try v(.resamplerHeads, d.resamplerHeads)
        noiseEmbeddingDim = try v(.noiseEmbeddingDim, d.noiseEmbeddingDim)
        resamplerBalancedKeys = try v(.resamplerBalancedKeys, d.resamplerBalancedKeys)
        clipTokens = try v(.clipTokens, d.clipTokens)
        clipDim = try v(.clipDim, d.clipDim)
        faceTokens = try v(.faceTokens, d.faceTokens)
        faceDim = try v(.faceDim, d.faceDim)
        mmuFaceToken = try v(.mmuFaceToken, d.mmuFaceToken)
        mmuFaceContext = try v(.mmuFaceContext, d.mmuFaceContext)
        mmuFaceReadout = try v(.mmuFaceReadout, d.mmuFaceReadout)
        faceReadoutDim = try v(.faceReadoutDim, d.faceReadoutDim)
        chatIsolatedTurns = try v(.chatIsolatedTurns, d.chatIsolatedTurns)
    }

    public var headDim: Int { dModel / heads }

    /// Whether MMU sequences read the frozen encoders' embeddings of their image: the
    /// sequence-level MoE's CLIP and face experts, or any of the direct face paths.
    public var readsImageEmbeddings: Bool { sequenceMoE || mmuFaceToken || mmuFaceContext || mmuFaceReadout }

    /// Problems that make the configuration unusable, as one-line messages naming the field.
    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ why: String) throws {
            if !ok { throw ModelConfigError(field: field, message: "\(field): \(why)") }
        }
        try check(textVocabSize > 0, "text_vocab_size", "must be positive")
        try check(imageCodebookSize > 1, "image_codebook_size", "must be at least 2")
        try check(imageTokens > 0, "image_tokens", "must be positive")
        try check(dModel > 0 && heads > 0 && dModel % heads == 0, "heads", "d_model \(dModel) must be a multiple of heads \(heads)")
        try check(layers > 0, "layers", "must be positive")
        try check(rotaryDims >= 0 && rotaryDims % 2 == 0 && rotaryDims <= headDim, "rotary_dims", "must be even and at most the head size \(headDim)")
        try check(maxPromptTokens >= 2, "max_prompt_tokens", "must leave room for <|bos|> and <|eos|>")
        try check(maxSequenceLength > imageTokens + 3, "max_sequence_length", "must exceed the image segment (\(imageTokens + 3) tokens)")
        try check(sharedExperts >= 0, "shared_experts", "must not be negative")
        try check(routedExperts >= 1, "routed_experts", "must be at least 1")
        try check(expertsPerToken >= 1 && expertsPerToken <= routedExperts, "experts_per_token", "must be between 1 and routed_experts")
        try check(expertHidden > 0, "expert_hidden", "must be positive")
        try check(balanceLossWeight >= 0, "balance_loss_weight", "must not be negative")
        try check(sequenceBalanceLossWeight >= 0, "sequence_balance_loss_weight", "must not be negative")
        try check(resamplerDepth >= 1, "resampler_depth", "must be at least 1")
        try check(resamplerDim > 0 && resamplerHeads > 0 && resamplerDim % resamplerHeads == 0, "resampler_heads",
                  "resampler_dim \(resamplerDim) must be a positive multiple of resampler_heads \(resamplerHeads)")
        try check(noiseEmbeddingDim >= 2 && noiseEmbeddingDim % 2 == 0, "noise_embedding_dim", "must be even and at least 2")
        try check(clipTokens > 0 && clipDim > 0, "clip_tokens", "clip_tokens and clip_dim must be positive")
        try check(faceTokens > 0 && faceDim > 0, "face_tokens", "face_tokens and face_dim must be positive")
        try check(!mmuFaceReadout || faceReadoutDim > 0, "face_readout_dim", "must be positive with mmu_face_readout (the face encoder's head outputs)")
    }

    /// Reads and validates a config file.
    public static func load(path: String) throws -> ModelConfig {
        try loadConfigFile(ModelConfig.self, path: path) { try $0.validate() }
    }

    /// Decodes and validates config JSON held elsewhere (a checkpoint's metadata); errors name `source`.
    public static func decode(json: Data, source: String) throws -> ModelConfig {
        try decodeConfig(ModelConfig.self, bytes: Array(json), source: source) { try $0.validate() }
    }

    /// Deterministic pretty JSON.
    public func jsonData() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(self)
    }
}

/// A configuration problem, naming the field.
public struct ModelConfigError: Error, CustomStringConvertible {
    public let field: String?
    public let message: String
    public var description: String { message }
}

/// Reads a JSON configuration file, decodes it and validates it; errors name the file and, where
/// known, the field.
func loadConfigFile<T: Decodable>(_ type: T.Type, path: String, validate: (T) throws -> Void) throws -> T {
    // Configuration files are small: a bound keeps a wrong path (a weights file) from being read whole.
    let bytes: [UInt8]
    do { bytes = try AtomicFile.read(path: path, maxBytes: 1 << 20) } catch {
        throw ModelConfigError(field: nil, message: "\(error)")
    }
    return try decodeConfig(type, bytes: bytes, source: path, validate: validate)
}

/// Decodes and validates configuration JSON; errors name `source` and, where known, the field.
func decodeConfig<T: Decodable>(_ type: T.Type, bytes: [UInt8], source path: String, validate: (T) throws -> Void) throws -> T {
    let config: T
    do {
        config = try JSONDecoder().decode(T.self, from: Data(bytes))
    } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
        let field = ctx.codingPath.map(\.stringValue).joined(separator: ".")
        throw ModelConfigError(field: field, message: "\(path): \(field): \(ctx.debugDescription)")
    } catch {
        throw ModelConfigError(field: nil, message: "\(path): not valid JSON (\(error.localizedDescription))")
    }
    do { try validate(config) } catch let e as ModelConfigError {
        throw ModelConfigError(field: e.field, message: "\(path): \(e.message)")
    }
    return config
}
