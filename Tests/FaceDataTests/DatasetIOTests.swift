import Foundation
import Imaging
import Testing
@testable import FaceData

@Suite struct DatasetIOTests {
    /// A fresh temporary directory, removed when `body` returns.
    func withTempDir(_ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("facedata-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(dir)
    }

    func make(_ dir: String, count: Int = 12, seed: UInt64 = 9, fraction: Double = 0.25) throws -> DatasetSummary {
        try DatasetMaker.make(.init(count: count, directory: dir, seed: seed, size: 32, testFraction: fraction))
    }

    @Test func writerAndLoadersRoundTrip() throws {
        try withTempDir { dir in
            let summary = try make(dir)
            #expect(summary.count == 12 && summary.train + summary.test + (summary.validation ?? -1) == 12)
            let captions = try FaceDataset.loadCaptions(directory: dir)
            let attributes = try FaceDataset.loadAttributes(directory: dir)
            let train = try FaceDataset.loadLLaVA(path: dir + "/llava_train.json")
            let test = try FaceDataset.loadLLaVA(path: dir + "/llava_test.json")
            let validation = try FaceDataset.loadLLaVA(path: dir + "/llava_val.json")
            let prompts = try FaceDataset.loadPrompts(directory: dir)
            let schema = try FaceDataset.loadSchema(directory: dir)
            #expect(schema == DatasetSchema.current && schema.version == 5)
            #expect(captions.count == 12 && attributes.count == 12 && train.count + validation.count + test.count == 12)
            for (index, record) in prompts.enumerated() {
                let item = DatasetItem(seed: 9, index: index, testFraction: 0.25)
                #expect(record.prompt == item.prompt.text && record.facts == item.prompt.facts && record.items == item.prompt.items)
                #expect(record.split == item.split && record.heldOut == item.prompt.heldOut && record.frame == item.prompt.frame)
            }
            #expect(train.count == summary.train && test.count == summary.test)
            for (index, record) in captions.enumerated() {
                let item = DatasetItem(seed: 9, index: index, testFraction: 0.25)
                #expect(record.id == item.id && record.caption == item.caption && record.split == item.split)
                #expect(record.image == "images/\(item.id).png")
                #expect(record.attributes == item.attributeNames)
                #expect(record.details == Dictionary(uniqueKeysWithValues: item.detailPairs))
                let vector = attributes[index].vector
                #expect(vector.count == 46)
                #expect(FaceAttribute.all.enumerated().filter { vector[$0.offset] == 1 }.map(\.element.name) == record.attributes)
                let image = try PNGCodec.read(path: dir + "/" + record.image)
                #expect(image == item.render(size: 32))
            }
            for record in train + validation + test {
                let item = DatasetItem(seed: 9, index: Int(record.id.dropFirst(5)) ?? -1, testFraction: 0.25)
                #expect(record.pairs == item.qa)
                #expect(record.truth == item.truthPairs.map(\.truth))
                #expect((item.split == "test") == test.contains(record))
            }
            #expect(DatasetChecker.check(path: dir).ok)
        }
    }

    @Test func sameSeedGivesByteIdenticalFiles() throws {
        try withTempDir { a in
            try withTempDir { b in
                _ = try make(a, count: 6)
                _ = try make(b, count: 6)
                let names = ["captions.jsonl", "attributes.jsonl", "prompts.jsonl", "llava_train.json", "llava_val.json", "llava_test.json", "schema.json",
                             "images/face_000000.png", "images/face_000005.png"]
                for name in names {
                    #expect(try AtomicFile.read(path: a + "/" + name) == AtomicFile.read(path: b + "/" + name), "\(name)")
                }
            }
        }
    }

    @Test func splitIsFixedPerSeedAndIndex() {
        let tests = (0..<4000).filter { DatasetItem.isTest(seed: 1, index: $0, fraction: 0.05) }
        #expect((140...260).contains(tests.count), "\(tests.count) test images of 4000")
        // Independent of how many images are made.
        #expect(DatasetItem.isTest(seed: 1, index: tests[0], fraction: 0.05))
        #expect((0..<100).allSatisfy { !DatasetItem.isTest(seed: 1, index: $0, fraction: 0) })
        #expect((0..<100).allSatisfy { DatasetItem.isTest(seed: 1, index: $0, fraction: 1) })
    }

    @Test func truthThatDoesNotMatchTheConversationIsAnErrorNamingTheRecord() throws {
        try withTempDir { dir in
            _ = try make(dir, count: 4, fraction: 0)
            let path = dir + "/llava_train.json"
            let records = try FaceDataset.loadLLaVA(path: path)
            let text = "[" + records.enumerated().map { i, r in
                let truth = (r.truth ?? []).dropLast(i == 1 ? 1 : 0).map { t in
                    "{\"kind\":\(JSONWriter.quoted(t.kind)),\"key\":\(JSONWriter.quoted(i == 2 && t.kind == "yesno" ? "antlers" : t.key)),\"value\":\(JSONWriter.quoted(t.value)),\"frame\":\(JSONWriter.quoted(t.frame)),\"heldout\":\(t.heldOut)}"
                }
                return "{\"id\":\(JSONWriter.quoted(r.id)),\"image\":\(JSONWriter.quoted(r.image)),\"conversations\":[" +
                    r.conversations.map { "{\"from\":\(JSONWriter.quoted($0.from)),\"value\":\(JSONWriter.quoted($0.value))}" }.joined(separator: ",") +
                    "],\"truth\":[" + truth.joined(separator: ",") + "]}"
            }.joined(separator: ",\n") + "]"
            try AtomicFile.write(text: text, to: path)
            let report = DatasetChecker.check(path: dir, checkImages: false)
            #expect(report.errors.contains { $0.contains("llava_train.json: record 1") && $0.contains("\"truth\" has") }, "\(report.errors)")
            #expect(report.errors.contains { $0.contains("llava_train.json: record 2") && $0.contains("\"antlers\" is no attribute") }, "\(report.errors)")
            #expect(!report.errors.contains { $0.contains("record 0") || $0.contains("record 3") })
            #expect(throws: DatasetError.self) { try FaceDataset.loadLLaVA(path: path) }
        }
    }

    @Test func checkerFindsInjectedErrorsWithFileAndIndex() throws {
        try withTempDir { dir in
            _ = try make(dir, count: 8, fraction: 0)
            let path = dir + "/llava_train.json"
            var records = try FaceDataset.loadLLaVA(path: path)
            records[2].id = records[1].id                                     // duplicate id
            records[3].conversations.swapAt(0, 1)                            // gpt first
            records[4].conversations[0].value = "What is this?"               // no <image>
            records[5].conversations.removeLast()                            // ends with a question
            let text = "[" + records.map { r in
                "{\"id\":\(JSONWriter.quoted(r.id)),\"image\":\(JSONWriter.quoted(r.image)),\"conversations\":[" +
                    r.conversations.map { "{\"from\":\(JSONWriter.quoted($0.from)),\"value\":\(JSONWriter.quoted($0.value))}" }
                    .joined(separator: ",") + "]}"
            }.joined(separator: ",\n") + "]"
            try AtomicFile.write(text: text, to: path)
            // A truncated PNG and a file that is not a PNG at all.
            let png6 = dir + "/" + records[6].image
            let bytes = try AtomicFile.read(path: png6)
            try AtomicFile.write(Array(bytes.prefix(bytes.count / 2)), to: png6)
            try AtomicFile.write(text: "not an image", to: dir + "/" + records[7].image)

            let report = DatasetChecker.check(path: dir)
            #expect(!report.ok)
            func has(_ index: Int, _ words: String) -> Bool {
                report.errors.contains { $0.contains("llava_train.json: record \(index)") && $0.contains(words) }
            }
            #expect(has(2, "duplicate id"), "\(report.errors)")
            #expect(has(3, "expected from \"human\""), "\(report.errors)")
            #expect(has(4, "missing the <image> placeholder"), "\(report.errors)")
            #expect(has(5, "ends with a human turn"), "\(report.errors)")
            #expect(has(6, "truncated"), "\(report.errors)")
            #expect(has(7, "not a PNG"), "\(report.errors)")
            #expect(report.errors.allSatisfy { !$0.contains("\n") })
            #expect(!has(0, "") && !has(1, ""))
        }
    }

    @Test func malformedFilesGiveOneLineErrorsWithThePlace() throws {
        try withTempDir { dir in
            _ = try make(dir, count: 4, fraction: 0)
            // Bad JSON on line 3 of captions.jsonl.
            var lines = try String(decoding: AtomicFile.read(path: dir + "/captions.jsonl"), as: UTF8.self)
                .split(separator: "\n").map(String.init)
            lines[2] = String(lines[2].dropLast(3))
            try AtomicFile.write(text: lines.joined(separator: "\n"), to: dir + "/captions.jsonl")
            #expect(throws: DatasetError.self) { try FaceDataset.loadCaptions(directory: dir) }
            do { _ = try FaceDataset.loadCaptions(directory: dir) } catch {
                #expect("\(error)".contains("captions.jsonl:3"), "\(error)")
            }
            // A record with a missing field in a LLaVA file.
            try AtomicFile.write(text: "[{\"id\":\"a\",\"image\":\"x.png\",\"conversations\":[]},{\"id\":\"b\"}]", to: dir + "/bad.json")
            do { _ = try FaceDataset.loadLLaVA(path: dir + "/bad.json") } catch {
                #expect("\(error)".contains("bad.json: record 1"), "\(error)")
            }
            // Not JSON at all, and a missing file.
            try AtomicFile.write(text: "{oops", to: dir + "/broken.json")
            let report = DatasetChecker.check(path: dir + "/broken.json")
            #expect(report.errors.count == 1 && report.errors[0].contains("broken.json") && report.errors[0].contains("line 1"))
            do { _ = try FaceDataset.loadSchema(directory: dir + "/missing") } catch {
                #expect("\(error)".contains("missing/schema.json"), "\(error)")
            }
        }
    }

    @Test func optionsAreValidated() {
        #expect(throws: DatasetError.self) { try DatasetMaker.Options(count: 0, directory: "/tmp/x").validate() }
        #expect(throws: DatasetError.self) { try DatasetMaker.Options(count: 1, directory: "/tmp/x", size: 8).validate() }
        #expect(throws: DatasetError.self) { try DatasetMaker.Options(count: 1, directory: "/tmp/x", testFraction: 2).validate() }
    }

    @Test func previewSheetsHaveOneCellPerImage() throws {
        try withTempDir { dir in
            _ = try make(dir, count: 5)
            let sheet = try DatasetPreview.sheet(directory: dir, count: 4, columns: 2, scale: 1)
            #expect(sheet.width > 64 && sheet.height > 64)
            #expect(throws: DatasetError.self) { try DatasetPreview.sheet(directory: dir + "/nothing") }
        }
    }
}
