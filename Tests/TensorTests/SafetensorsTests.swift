import Foundation
import Testing
@testable import Tensor

/// A fresh directory under the system temp dir, removed by `cleanup()`.
private struct ScratchDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// A file made of a length prefix, `header` (as given, unpadded) and `dataBytes` zero bytes.
private func rawFile(header: String, dataBytes: Int) -> [UInt8] {
    let json = Array(header.utf8)
    var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
    bytes += json
    bytes += [UInt8](repeating: 0, count: dataBytes)
    return bytes
}

/// The description of the error opening `bytes` as a file, or "no error".
private func openError(_ bytes: [UInt8], in dir: ScratchDirectory, name: String = "x.safetensors") -> String {
    let path = dir.path + "/" + name
    do {
        try AtomicFile.write(bytes, to: path)
        _ = try SafetensorsFile(path: path)
        return "no error"
    } catch {
        return String(describing: error)
    }
}

private func sampleTensors(seed: UInt64) -> [(name: String, tensor: Tensor)] {
    var rng = RNG(seed: seed)
    return [
        ("layers.0.attn.wq.weight", Tensor.randn([4, 6], rng: &rng)),
        ("layers.0.norm.bias", Tensor.randn([6], std: 1e-3, rng: &rng)),
        ("layers.10.moe.experts.5.fc1.weight", Tensor.randn([3, 2, 5], std: 30, rng: &rng)),
        ("embed.weight", Tensor.randn([7, 3], rng: &rng)),
        ("scale", Tensor(scalar: -2.5)),
        ("empty", Tensor(zeros: [0, 3])),
        ("naïve.ünïcode", Tensor(shape: [3], values: [1, 2, 3])),
    ]
}

@Suite struct SafetensorsTests {
    @Test func float32RoundTripIsBitExact() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        var tensors = sampleTensors(seed: 1)
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, Float(bitPattern: 0x7FC0_1234), .leastNonzeroMagnitude,
                                 .greatestFiniteMagnitude, -.leastNormalMagnitude, 1e-40]
        tensors.append(("specials", Tensor(shape: [specials.count], values: specials)))
        let path = dir.path + "/w.safetensors"
        try SafetensorsFile.write(tensors, metadata: ["format": "test", "note": "ünï \"quoted\"\n"], to: path)

        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "test", "note": "ünï \"quoted\"\n"])
        #expect(file.names == tensors.map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for (name, tensor) in tensors {
            #expect(file.shape(name) == tensor.shape)
            #expect(file.dtype(name) == .f32)
            let loaded = try file.tensor(name)
            #expect(loaded.shape == tensor.shape)
            #expect(loaded.values.map(\.bitPattern) == tensor.values.map(\.bitPattern), "\(name)")
        }
        #expect(file.shape("nope") == nil)
        #expect(throws: SafetensorsError.self) { try file.tensor("nope") }
        #expect(try dir.contents() == ["w.safetensors"])  // no temporary file left behind
    }

    @Test(arguments: [SafetensorsDType.f16, .bf16])
    func halfPrecisionRoundTripsWithinPrecision(dtype: SafetensorsDType) throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let tensors = sampleTensors(seed: 2)
        let path = dir.path + "/w.safetensors"
        try SafetensorsFile.write(tensors, dtype: dtype, to: path)
        let file = try SafetensorsFile(path: path)
        // Relative spacing of the format: 2^-10 (F16, 10 mantissa bits) or 2^-7 (BF16).
        let relative: Float = dtype == .f16 ? 1.0 / 2048 : 1.0 / 256
        for (name, tensor) in tensors {
            #expect(file.dtype(name) == dtype)
            let loaded = try file.tensor(name).values
            for (a, b) in zip(tensor.values, loaded) {
                // F16 subnormals (below 6.1e-5) have an absolute spacing of 2^-24.
                #expect(Swift.abs(a - b) <= Swift.abs(a) * relative + (dtype == .f16 ? 3e-8 : 0), "\(name): \(a) read back as \(b)")
            }
        }
    }

    @Test func halfConversionsRoundToNearestEven() {
        // Ties go to the even neighbour; just above a tie goes up.
        #expect(HalfPrecision.half(from: 1 + 1.0 / 2048) == 0x3C00)                     // tie → 1.0
        #expect(HalfPrecision.half(from: 1 + 3.0 / 2048) == 0x3C02)                     // tie → even 1+2/1024
        #expect(HalfPrecision.half(from: Float(bitPattern: (1 as Float).bitPattern + 0x1001)) == 0x3C01)
        #expect(HalfPrecision.half(from: 65504) == 0x7BFF)
        #expect(HalfPrecision.half(from: 65520) == 0x7C00)                              // halfway to 2^16 → infinity
        #expect(HalfPrecision.half(from: 65519) == 0x7BFF)
        #expect(HalfPrecision.half(from: 0x1p-24) == 0x0001)                            // smallest subnormal
        #expect(HalfPrecision.half(from: 0x1p-25) == 0x0000)                            // tie → even (zero)
        #expect(HalfPrecision.half(from: 0x1.8p-25) == 0x0001)
        #expect(HalfPrecision.half(from: -0.0) == 0x8000)
        #expect(HalfPrecision.float(fromHalf: 0x0001) == 0x1p-24)
        #expect(HalfPrecision.float(fromHalf: 0x03FF) == 0x1.ff8p-15)
        #expect(HalfPrecision.float(fromHalf: 0xFC00) == -.infinity)
        #expect(HalfPrecision.float(fromHalf: HalfPrecision.half(from: .nan)).isNaN)

        #expect(HalfPrecision.bfloat(from: 1 + 1.0 / 256) == 0x3F80)                    // tie → 1.0
        #expect(HalfPrecision.bfloat(from: 1 + 3.0 / 256) == 0x3F82)                    // tie → even
        #expect(HalfPrecision.bfloat(from: .greatestFiniteMagnitude) == 0x7F80)         // rounds past the largest bf16
        #expect(HalfPrecision.float(fromBFloat: HalfPrecision.bfloat(from: .nan)).isNaN)
        #expect(HalfPrecision.float(fromBFloat: HalfPrecision.bfloat(from: -.infinity)) == -.infinity)
    }

    #if !(os(macOS) && arch(x86_64))
    @Test func halfConversionsAgreeWithFloat16() {
        for bits in 0...UInt16.max {
            let ours = HalfPrecision.float(fromHalf: bits), reference = Float(Float16(bitPattern: bits))
            #expect(ours.bitPattern == reference.bitPattern || (ours.isNaN && reference.isNaN))
        }
        var rng = RNG(seed: 3)
        var samples: [Float] = (0..<200_000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        // Dense around the subnormal and overflow edges too.
        samples += (0..<20_000).map { _ in Float(bitPattern: 0x3300_0000 + UInt32(rng.int(0x0400_0000))) }
        samples += (0..<20_000).map { _ in Float(bitPattern: 0x4770_0000 + UInt32(rng.int(0x0020_0000))) }
        for x in samples where !x.isNaN {
            #expect(HalfPrecision.half(from: x) == Float16(x).bitPattern, "\(x)")
        }
    }
    #endif

    @Test func layoutMatchesTheReferenceWriter() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.path + "/w.safetensors"
        try SafetensorsFile.write([("b", Tensor(shape: [2], values: [1, 2])), ("a", Tensor(shape: [1, 1], values: [3]))],
                                  metadata: ["k": "v"], dtype: .f16, to: path)
        let bytes = try AtomicFile.read(path: path)
        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect((8 + headerLength) % 8 == 0)  // data section 8-byte aligned
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.trimmingCharacters(in: .whitespaces) ==
            #"{"__metadata__":{"k":"v"},"a":{"dtype":"F16","shape":[1,1],"data_offsets":[0,2]},"b":{"dtype":"F16","shape":[2],"data_offsets":[2,6]}}"#)
        #expect(header.hasSuffix(" ") || (8 + header.utf8.count) % 8 == 0)
        // 3.0, 1.0, 2.0 in binary16, little-endian, in name order.
        #expect(Array(bytes[(8 + headerLength)...]) == [0x00, 0x42, 0x00, 0x3C, 0x00, 0x40])
    }

    @Test func readsUnalignedDataAndEmptyFiles() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        // A header of odd length (no padding) leaves the data unaligned: still readable.
        var bytes = rawFile(header: #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 0)
        bytes += withUnsafeBytes(of: Float(1.5).bitPattern.littleEndian) { Array($0) }
        bytes += withUnsafeBytes(of: Float(-4).bitPattern.littleEndian) { Array($0) }
        try AtomicFile.write(bytes, to: dir.path + "/odd.safetensors")
        #expect(try SafetensorsFile(path: dir.path + "/odd.safetensors").tensor("t").values == [1.5, -4])

        // No tensors at all is a valid file.
        try SafetensorsFile.write([], to: dir.path + "/none.safetensors")
        let none = try SafetensorsFile(path: dir.path + "/none.safetensors")
        #expect(none.names.isEmpty && none.metadata.isEmpty)
    }

    @Test func strictLoadIntoParameters() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        var rng = RNG(seed: 4)
        func model() -> [Parameter] {
            [Parameter(name: "fc1.weight", tensor: Tensor.randn([3, 4], rng: &rng)),
             Parameter(name: "fc1.bias", tensor: Tensor.randn([3], rng: &rng)),
             Parameter(name: "norm.weight", tensor: Tensor.randn([4], rng: &rng))]
        }
        let source = model()
        let path = dir.path + "/model.safetensors"
        try source.save(to: path, metadata: ["format": "test"])
        let file = try SafetensorsFile(path: path)

        let target = model()
        try target.load(from: file)
        for (a, b) in zip(source, target) { #expect(a.tensor.values == b.tensor.values) }

        func loadError(_ parameters: [Parameter], allowUnused: Set<String> = []) -> String {
            do { try parameters.load(from: file, allowUnused: allowUnused); return "no error" } catch { return "\(error)" }
        }
        let extra = Parameter(name: "head.weight", tensor: Tensor(zeros: [2, 2]))
        #expect(loadError(target + [extra]) == "\(path): head.weight: missing from the file")
        #expect(loadError(target + [extra, Parameter(name: "head.bias", tensor: Tensor(zeros: [2]))])
            == "\(path): head.weight: missing from the file (2 tensors the model needs are missing)")
        #expect(loadError(Array(target.prefix(2))) == "\(path): norm.weight: in the file but not used by the model")
        #expect(loadError(Array(target.prefix(1))) == "\(path): fc1.bias: in the file but not used by the model (2 unused tensors)")
        #expect(loadError(Array(target.prefix(2)), allowUnused: ["norm.weight"]) == "no error")
        let misshaped = [target[0], target[1], Parameter(name: "norm.weight", tensor: Tensor(zeros: [2, 2]))]
        #expect(loadError(misshaped) == "\(path): norm.weight: shape [4] in the file, the model expects [2, 2]")
        #expect(loadError([target[0], target[0]]) == "\(path): fc1.weight: two parameters of the model have this name")

        // A failed load leaves every tensor as it was, even those checked before the problem.
        let untouched = model()
        let before = untouched.map(\.tensor.values)
        #expect(throws: SafetensorsError.self) { try (untouched + [extra]).load(from: file) }
        #expect(untouched.map(\.tensor.values) == before)
    }

    @Test func corruptFilesGiveOneLineErrorsNamingTheProblem() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let p = dir.path + "/x.safetensors"
        let entry = { (name: String, fields: String) in "\"\(name)\":{\(fields)}" }
        let good = #""dtype":"F32","shape":[2,3],"data_offsets":[0,24]"#
        let cases: [([UInt8], String)] = [
            ([], "header: file is 0 bytes, too short for the 8-byte header length"),
            ([1, 2, 3, 4, 5], "header: file is 5 bytes, too short for the 8-byte header length"),
            (rawFile(header: "{}", dataBytes: 0).dropLast(1).map { $0 }, "header: header length 2 runs past the end of the file (9 bytes; truncated?)"),
            ([0, 0, 0, 0, 0, 1, 0, 0] + Array("{}".utf8), "header: header length 1099511627776 is over the 100000000-byte limit (not a safetensors file?)"),
            (rawFile(header: "{\"a\u{FF}\":1}", dataBytes: 0).enumerated().map { $0.offset == 11 ? 0xFF : $0.element },
             "header: not valid UTF-8 (header byte 3)"),
            (rawFile(header: "{\"t\":{", dataBytes: 0), "header: invalid JSON at header byte 6: expected a string key"),
            (rawFile(header: "", dataBytes: 0), "header: invalid JSON at header byte 0: unexpected end of data, expected a value"),
            (rawFile(header: "[1, 2]", dataBytes: 0), "header: expected a JSON object, found an array"),
            (rawFile(header: "{\(entry("t", good)),\(entry("t", good))}", dataBytes: 48), "header: invalid JSON at header byte 57: duplicate key \"t\""),
            (rawFile(header: "{\(entry("t", #""shape":[2,3],"data_offsets":[0,24]"#))}", dataBytes: 24), "t: missing dtype"),
            (rawFile(header: "{\(entry("t", #""dtype":"F32","data_offsets":[0,24]"#))}", dataBytes: 24), "t: missing shape"),
            (rawFile(header: "{\(entry("t", #""dtype":"F32","shape":[2,3]"#))}", dataBytes: 24), "t: missing data_offsets"),
            (rawFile(header: "{\(entry("t", #""dtype":"F64","shape":[2,3],"data_offsets":[0,48]"#))}", dataBytes: 48),
             "t: unsupported dtype \"F64\" (expected F32, F16 or BF16)"),
            (rawFile(header: "{\(entry("t", #""dtype":7,"shape":[2,3],"data_offsets":[0,24]"#))}", dataBytes: 24),
             "t: dtype: expected a string, found a number"),
            (rawFile(header: "{\(entry("t", #""dtype":"F32","shape":[2,-3],"data_offsets":[0,24]"#))}", dataBytes: 24),
             "t: shape[1]: expected a non-negative integer, found -3"),
            (rawFile(header: "{\(entry("t", #""dtype":"F32","shape":[2.5],"data_offsets":[0,24]"#))}", dataBytes: 24),
             "t: shape[0]: expected a non-negative integer, found 2.5"),
            (rawFile(header: "{\(entry("t", #""dtype":"F32","shape":"2x3","data_offsets":[0,24]"#))}", dataBytes: 24),
             "t: shape: expected an array, found a string"),
            (rawFile(header: "{\(entry("t", #""dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,24]"#))}", dataBytes: 24),
             "t: shape [4294967296, 4294967296] has too many elements"),
            (rawFile(header: "{\(entry("t", #""dtype":"F32","shape":[2,3],"data_offsets":[0,20]"#))}", dataBytes: 20),
             "t: data_offsets [0, 20] hold 20 bytes, shape [2, 3] of F32 needs 24"),
            (rawFile(header: "{\(entry("t", #""dtype":"F32","shape":[2,3],"data_offsets":[0]"#))}", dataBytes: 24),
             "t: data_offsets: expected [begin, end] with two non-negative integers, found [0]"),
            (rawFile(header: "{\(entry("t", #""dtype":"F32","shape":[2,3],"data_offsets":[24,0]"#))}", dataBytes: 24),
             "t: data_offsets [24, 0] end before they begin"),
            (rawFile(header: "{\(entry("t", good))}", dataBytes: 16),
             "t: data_offsets [0, 24] run past the end of the data section (16 bytes; truncated?)"),
            (rawFile(header: "{\(entry("a", good)),\(entry("b", #""dtype":"F32","shape":[2,3],"data_offsets":[16,40]"#))}", dataBytes: 40),
             "b: data_offsets [16, 40] overlap a [0, 24]"),
            (rawFile(header: "{\(entry("a", good)),\(entry("b", #""dtype":"F16","shape":[2],"data_offsets":[28,32]"#))}", dataBytes: 32),
             "b: data_offsets [28, 32] leave a gap: a ends at 24"),
            (rawFile(header: "{\(entry("a", #""dtype":"F32","shape":[2,3],"data_offsets":[8,32]"#))}", dataBytes: 32),
             "a: data_offsets [8, 32] leave a gap: the data section starts at 0"),
            (rawFile(header: "{\(entry("a", good))}", dataBytes: 30), "data: 6 bytes after the tensors: the last tensor (a) ends at 24, the data section is 30 bytes"),
            (rawFile(header: "{\(entry("a", good + #","extra":1"#))}", dataBytes: 24), "a: unexpected field \"extra\""),
            (rawFile(header: "{\(entry("", good))}", dataBytes: 24), "header: a tensor has an empty name"),
            (rawFile(header: "{\"a\":[1]}", dataBytes: 0), "a: expected an object with dtype, shape and data_offsets, found an array"),
            (rawFile(header: "{\"__metadata__\":{\"step\":3}}", dataBytes: 0), "__metadata__.step: expected a string, found a number"),
            (rawFile(header: "{\"__metadata__\":[\"x\"]}", dataBytes: 0), "__metadata__: expected an object of strings, found an array"),
            (rawFile(header: "{\"bad\\nname\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}", dataBytes: 1),
             "bad\\u{a}name: unsupported dtype \"U8\" (expected F32, F16 or BF16)"),
        ]
        for (bytes, expected) in cases {
            let message = openError(bytes, in: dir)
            #expect(message == "\(p): \(expected)")
            #expect(!message.contains("\n"))
        }
        #expect(openError(rawFile(header: "{\(entry("a", good))}   ", dataBytes: 24), in: dir) == "no error")

        #expect("\(try #require(throws: SafetensorsError.self) { try SafetensorsFile(path: dir.path + "/missing.safetensors") })"
            == "\(dir.path)/missing.safetensors: file: cannot open: No such file or directory")
        #expect("\(try #require(throws: SafetensorsError.self) { try SafetensorsFile(path: dir.path) })"
            == "\(dir.path): file: cannot open: Is a directory")
    }

    @Test func randomDamageNeverCrashes() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.path + "/w.safetensors"
        try SafetensorsFile.write(sampleTensors(seed: 5), metadata: ["step": "12"], dtype: .bf16, to: path)
        let original = try AtomicFile.read(path: path)
        let headerEnd = 8 + original[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        var rng = RNG(seed: 6)
        var rejected = 0, attempts = 0
        func tryOpen(_ bytes: [UInt8]) throws {
            attempts += 1
            let damaged = dir.path + "/damaged.safetensors"
            try AtomicFile.write(bytes, to: damaged)
            do {
                let file = try SafetensorsFile(path: damaged)
                for name in file.names { _ = try file.tensor(name) }  // whatever opens must read in bounds
            } catch let error as SafetensorsError {
                rejected += 1
                #expect(!error.description.contains("\n"))
            }
        }
        // Every truncation of the header, and a sample of truncations in the data.
        for length in 0..<min(original.count, headerEnd + 1) { try tryOpen(Array(original.prefix(length))) }
        for _ in 0..<50 { try tryOpen(Array(original.prefix(headerEnd + 1 + rng.int(original.count - headerEnd - 1)))) }
        #expect(rejected == attempts)  // any cut is noticed
        // Byte flips anywhere (mostly in the header, where they matter).
        for _ in 0..<400 {
            var bytes = original
            for _ in 0...rng.int(3) {
                let position = rng.int(10) < 8 ? rng.int(headerEnd) : rng.int(bytes.count)
                bytes[position] = UInt8(truncatingIfNeeded: rng.next())
            }
            try tryOpen(bytes)
        }
        #expect(rejected > 50)
    }

    @Test func writingIsAtomicAndValidatesNames() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.path + "/w.safetensors"
        let first = sampleTensors(seed: 7)
        try SafetensorsFile.write(first, to: path)
        let before = try AtomicFile.read(path: path)

        func writeError(_ tensors: [(name: String, tensor: Tensor)], to target: String) -> String {
            do { try SafetensorsFile.write(tensors, to: target); return "no error" } catch { return "\(error)" }
        }
        let t = Tensor(zeros: [1])
        #expect(writeError([("a", t), ("a", t)], to: path) == "\(path): a: listed twice")
        #expect(writeError([("", t)], to: path) == "\(path): header: a tensor has an empty name")
        #expect(writeError([("__metadata__", t)], to: path) == "\(path): __metadata__: reserved name, cannot be a tensor")
        #expect(writeError([("a", t)], to: dir.path + "/no/such/dir/w.safetensors")
            == "\(dir.path)/no/such/dir/w.safetensors: file: cannot write: No such file or directory")
        #expect(try AtomicFile.read(path: path) == before)  // failed writes left the file alone

        try SafetensorsFile.write(sampleTensors(seed: 8), to: path)  // replaces it in one step
        #expect(try SafetensorsFile(path: path).tensor("scale").values == [-2.5])
        #expect(try dir.contents() == ["w.safetensors"])
    }

    @Test func anOpenFileSurvivesReplacement() throws {
        // The reader maps the file; an atomic replacement makes a new file, so the old mapping
        // (and any tensor read from it later) still sees the old data.
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.path + "/w.safetensors"
        try SafetensorsFile.write([("x", Tensor(shape: [2], values: [1, 2]))], to: path)
        let file = try SafetensorsFile(path: path)
        try SafetensorsFile.write([("x", Tensor(shape: [2], values: [3, 4]))], to: path)
        #expect(try file.tensor("x").values == [1, 2])
        #expect(try SafetensorsFile(path: path).tensor("x").values == [3, 4])
    }
}
