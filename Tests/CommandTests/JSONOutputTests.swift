import Foundation
import Testing
import TestSupport

/// The `--json` outputs scripts read: their keys, and the values that follow from the
/// arguments, pinned as they were before the commands were reorganised.
@Suite struct JSONOutputTests {
    /// Runs the binary in the checkout (so `Models` is the shipped model) and parses its JSON.
    func json(_ arguments: [String]) throws -> Any {
        let out = try Programs.run(["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", Programs.repositoryRoot, try Programs.facestudio()] + arguments,
                                   environment: ["FACESTUDIO_MODEL": "", "FACESTUDIO_THREADS": "1"])
        return try JSONSerialization.jsonObject(with: Data(out.utf8))
    }

    func object(_ arguments: [String]) throws -> [String: Any] { try #require(try json(arguments) as? [String: Any]) }

    @Test func generateCaptionAndAsk() throws {
        let png = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("facestudio-json-\(getpid()).png").path
        defer { try? FileManager.default.removeItem(atPath: png) }
        let g = try object(["generate", "--prompt", "a bald man zorbly zorbly", "--steps", "2", "--out", png, "--json"])
        #expect(Set(g.keys) == ["cfg", "out", "prompt", "prompt_truncated", "revealed_per_step", "sample_temperature", "seconds", "seed",
                                "steps", "t2i_expert_frequencies", "temperature", "unknown_words"])
        #expect(g["prompt"] as? String == "a bald man zorbly zorbly" && g["out"] as? String == png)
        #expect(g["seed"] as? Int == 0 && g["steps"] as? Int == 2 && g["prompt_truncated"] as? Bool == false)
        #expect(g["cfg"] as? Double == 1.75 && g["temperature"] as? Double == 4.5 && g["sample_temperature"] as? Double == 1)
        // Every occurrence, as before (the warning on stderr lists each word once).
        #expect(g["unknown_words"] as? [String] == ["zorbly", "zorbly"])
        let revealed = try #require(g["revealed_per_step"] as? [Int])
        #expect(revealed.count == 2 && revealed.reduce(0, +) == 256)
        let frequencies = try #require(g["t2i_expert_frequencies"] as? [[[Double]]])
        #expect(frequencies.count == 2 && frequencies.allSatisfy { $0.allSatisfy { $0.count == 8 } })

        let caption = try object(["caption", "--image", png, "--max-tokens", "4", "--json"])
        #expect(Set(caption.keys) == ["caption", "image"] && caption["image"] as? String == png && caption["caption"] is String)
        let turns = try #require(try json(["ask", "--image", png, "--question", "is he bald?", "--question", "and happy?",
                                           "--max-tokens", "4", "--json"]) as? [[String: String]])
        #expect(turns.map { Set($0.keys) } == [["answer", "question"], ["answer", "question"]])
        #expect(turns.map { $0["question"] } == ["is he bald?", "and happy?"])
    }

    @Test func modelInfo() throws {
        let info = try object(["model", "info", "--json"])
        #expect(Set(info.keys) == ["active_parameters_per_token", "config", "directory", "image_codebook_size", "image_tokens",
                                   "parameters", "text_vocab_size"])
        let config = try #require(info["config"] as? [String: Any])
        #expect(info["directory"] as? String == "Models")
        #expect(info["image_tokens"] as? Int == config["image_tokens"] as? Int && info["text_vocab_size"] as? Int == config["text_vocab_size"] as? Int)
        #expect((info["parameters"] as? Int ?? 0) > (info["active_parameters_per_token"] as? Int ?? .max))
    }

    @Test func benchKernels() throws {
        let figures = try object(["bench", "--kernels-only", "--size", "64", "--json"])
        #expect(Set(figures.keys) == ["attention_gflops", "conv2d_gflops", "conv2d_train_gflops", "gemv_gflops", "gemv_speedup_over_1row_sgemm",
                                      "matmul_gflops", "matmul_over_sgemm", "matmul_transformer_shapes_gflops",
                                      "matmul_transformer_shapes_over_sgemm_same_shape", "sgemm_gflops_256", "sgemm_gflops_64",
                                      "sgemm_peak_gflops", "sixel_encode_ms", "ui_frame_ms_p99"])
        #expect(figures.values.allSatisfy { $0 is Double || $0 is Int })
    }
}
