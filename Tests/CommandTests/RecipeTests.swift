import Foundation
import Testing
import TestSupport

/// The model recipe end to end through the real binary, at toy sizes: data set → image tokenizer
/// → encoders → the ablation rows (each a `train` run and an `eval`) → a model card.
@Suite struct RecipeTests {
    @Test func theRecipeRunsEndToEndAtToySize() throws {
        let bin = try Programs.facestudio()
        let dir = NSTemporaryDirectory() + "/facestudio-recipe-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["FACESTUDIO_THREADS": "1"]
        func run(_ args: [String]) throws -> String { try Programs.run([bin] + args, environment: env) }

        try run(["dataset", "make", "--count", "40", "--size", "16", "--test-fraction", "0.3", "--out", dir + "/data", "--quiet"])
        try #"{"image_size": 16, "bits": 3, "channels": [8, 8, 8], "res_blocks": [0, 0, 0], "groups": 4, "training": {"steps": 2, "batch_size": 4}}"#
            .write(toFile: dir + "/tok.json", atomically: true, encoding: .utf8)
        try run(["tokenizer", "train", "--data", dir + "/data", "--out", dir + "/tok", "--config", dir + "/tok.json", "--eval-images", "0", "--json"])
        let encodersReport = try run(["encoders", "train", "--data", dir + "/data", "--out", dir + "/enc", "--steps", "2", "--batch", "8", "--json"])
        let stage = dir + "/stage"
        try FileManager.default.createDirectory(atPath: stage, withIntermediateDirectories: true)
        for d in [dir + "/tok/model", dir + "/enc"] {
            for f in try FileManager.default.contentsOfDirectory(atPath: d) where f.hasPrefix("image_tokenizer") || (f.hasPrefix("encoder_") && !f.contains("checkpoint")) {
                try FileManager.default.copyItem(atPath: d + "/" + f, toPath: stage + "/" + f)
            }
        }
        // The tokenizer's round trips judged by the face encoder: the claims regroup by key.
        let judged = try #require(try JSONSerialization.jsonObject(with: Data(try run(["tokenizer", "eval", "--data", dir + "/data", "--model", stage,
                                                                                     "--judge", stage, "--json"]).utf8)) as? [String: Any])
        let claims = try #require(judged["claims"] as? [String: Any]), byClaim = try #require(claims["by_claim"] as? [String: [String: Double]])
        #expect(judged["psnr_db"] is Double && (claims["checked"] as? Int ?? 0) > 0)
        #expect(Int(byClaim.values.map { $0["checked"]! }.reduce(0, +)) == claims["checked"] as? Int)
        #expect([claims["real"], claims["reconstructed"]].allSatisfy { ($0 as? Double).map { (0...1).contains($0) } == true })
        // … and by kind: every checked claim falls in exactly one of the four kinds.
        let byKind = try #require(claims["by_kind"] as? [String: [String: Double]])
        #expect(Set(byKind.keys).isSubset(of: ["appearance", "details", "action", "emotion"]) && byKind["appearance"] != nil)
        #expect(Int(byKind.values.map { $0["checked"]! }.reduce(0, +)) == claims["checked"] as? Int)
        // A sheet of the faces with an expression or an action, originals above round trips.
        try run(["tokenizer", "eval", "--data", dir + "/data", "--model", stage, "--sheet", dir + "/sheet.png", "--sheet-expressive", "--json"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/sheet.png")).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        // … and the round trip's Fréchet distance beside the real faces' own.
        #expect([claims["fd_real_baseline"], claims["fd_reconstructed"]].allSatisfy { ($0 as? Double).map { $0.isFinite && $0 >= 0 } == true })
        try #"""
        {"layers": 1, "d_model": 32, "image_tokens": 16, "image_codebook_size": 8, "heads": 2, "rotary_dims": 8, "expert_hidden": 32, "routed_experts": 4, "text_vocab_size": 300,
         "max_prompt_tokens": 24, "max_sequence_length": 160, "resampler_dim": 16, "resampler_heads": 2, "resampler_depth": 1,
         "noise_embedding_dim": 8, "training": {"steps": 2, "t2i_batch": 2, "mmu_batch": 2, "warmup_steps": 1}}
        """#.write(toFile: dir + "/tiny.json", atomically: true, encoding: .utf8)

        let out = try run(["eval", "--ablation", "--data", dir + "/data", "--model", stage, "--config", dir + "/tiny.json",
                           "--ablation-steps", "2", "--limit", "4", "--out", dir + "/ablation", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]])
        #expect(rows.count == 8)
        for row in rows {
            let report = try #require(row["report"] as? [String: Any])
            let generation = try #require(report["generation"] as? [String: Any])
            #expect((generation["attribute_accuracy"] as? Double).map { (0...1).contains($0) } == true)
            #expect(report["understanding"] != nil)
        }
        let tables = try String(contentsOfFile: dir + "/ablation/tables.md", encoding: .utf8)
        for label in ["α = 0.001", "score entropy only", "token MoE ✗, sequence MoE ✗", "token MoE ✓, sequence MoE ✓ (default)"] {
            #expect(tables.contains(label), "tables.md lacks \(label)")
        }
        // A row trained with the sequence-level MoE off still carries the encoders (eval's judge).
        #expect(FileManager.default.fileExists(atPath: dir + "/ablation/moe_none/model/encoder_face.safetensors"))

        // Running it again re-uses the trained rows and their evals.
        let again = try run(["eval", "--ablation", "--data", dir + "/data", "--model", stage, "--config", dir + "/tiny.json",
                             "--ablation-steps", "2", "--limit", "4", "--out", dir + "/ablation", "--json"])
        #expect(again == out)

        let row = dir + "/ablation/alpha_0.01"
        // The face encoder's fine-tunes are described from their reports, the last one as the shipped encoder.
        for name in ["encoders-ft.json", "encoders-ft2.json", "encoders-ft3.json"] { try encodersReport.write(toFile: row + "/" + name, atomically: true, encoding: .utf8) }
        try run(["model", "card", "--model", row + "/model", "--eval", row + "/eval.json", "--config", dir + "/tiny.json",
                 "--runs", row, "--out", dir + "/MODEL_CARD.md"])
        let card = try String(contentsOfFile: dir + "/MODEL_CARD.md", encoding: .utf8)
        #expect(card.contains("generation.attribute_accuracy") && card.contains("understanding.vqa_accuracy"))
        #expect(card.contains("d_model 32, 1 layers"))
        // The ablation row's eval generated faces, so the card breaks its claims down by key.
        #expect(card.contains("### Generated faces by claim") && card.contains("| claim key | claims | real | round trip | generated |"))
        #expect(card.contains("Face-attribute encoder: fine-tuned from the first one"))
        let later = card.split(separator: "\n").filter { $0.hasPrefix("- Face-attribute encoder, fine-tune ") }
        #expect(later.count == 2 && later[0].contains("fine-tune 2") && later[1].contains("fine-tune 3"))
        #expect(!later[0].contains("the one in `Models/`") && later[1].contains("the one in `Models/`"))
    }

    @Test func evalRejectsAModelDirectoryThatIsMissing() throws {
        let bin = try Programs.facestudio()
        #expect(throws: Programs.Failure.self) { try Programs.run([bin, "eval", "--data", "/nonexistent", "--model", "/nonexistent/model"]) }
    }
}
