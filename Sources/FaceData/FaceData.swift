// FaceData: the procedural fine-grained face data set and its loaders.
//
// - Schema.swift / Details.swift: the 46 attributes (29 appearance, 10 actions, 7 emotions) and the
//   multi-valued detail fields; `DatasetSchema` (Records.swift) is their schema.json form.
// - Attributes.swift / Sampler.swift: the per-image record, its consistency rules and sampling.
// - FaceLayout.swift, Expression.swift, Render*.swift, Raster.swift, Palette.swift: the
//   deterministic anti-aliased renderer (`FaceRenderer`).
// - Vocabulary.swift, Captions.swift, VQA.swift: text derived from the record only, and the
//   phrase matcher that maps text back to the schema (tests, eval, prompt completion).
// - Records.swift, DatasetMaker.swift, DatasetChecker.swift, DatasetPreview.swift: files on
//   disk (writing, loading, validating, contact sheets).
