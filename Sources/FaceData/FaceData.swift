// FaceData: the procedural fine-grained face data set and its loaders.
//
// - Schema.swift / Details.swift: the 46 attributes (29 appearance, 10 actions, 7 emotions) and the
//   multi-valued detail fields, exported as `FaceSchema` (schema.json).
// - Attributes.swift / Sampler.swift: the per-image record and constrained sampling.
// - Render*.swift: the deterministic anti-aliased renderer.
// - Vocabulary.swift, Captions.swift, VQA.swift: text derived from the record only, and the phrase
//   matcher that maps free text back to the schema (for eval and prompt completion).
// - LLaVA.swift, DatasetMaker.swift, DatasetChecker.swift: files on disk.
