import Dispatch
import Foundation
import Imaging

/// Validates LLaVA-format data sets, ours or anyone's: every JSON array of records in a
/// directory (or one file), unique ids across files, human/gpt turns alternating from a human
/// turn and ending with an answer, the `<image>` placeholder exactly once in the first human
/// turn of every record with an image, and readable images. Each problem is one line naming
/// the file and the record index.
public enum DatasetChecker {
    public struct Report: Encodable, Sendable {
        public var files: [String] = []
        public var records = 0
        public var turns = 0
        public var images = 0
        /// Images that exist but are not PNG (only their existence is checked).
        public var uncheckedImages = 0
        public var errors: [String] = []
        public var ok: Bool { errors.isEmpty }

        enum CodingKeys: String, CodingKey {
            case files, records, turns, images, ok, errors
            case uncheckedImages = "unchecked_images"
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(files, forKey: .files)
            try c.encode(records, forKey: .records)
            try c.encode(turns, forKey: .turns)
            try c.encode(images, forKey: .images)
            try c.encode(uncheckedImages, forKey: .uncheckedImages)
            try c.encode(ok, forKey: .ok)
            try c.encode(errors, forKey: .errors)
        }
    }

    /// Checks `path` (a directory or a .json file). Images are looked up relative to the JSON
    /// file's directory, then its `images/` folder, or under `imageRoot` when given.
    public static func check(path: String, imageRoot: String? = nil, checkImages: Bool = true) -> Report {
        var report = Report()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            report.errors.append("\(path): no such file or directory")
            return report
        }
        var candidates: [String] = []
        if isDir.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            candidates = names.filter { $0.hasSuffix(".json") }.sorted().map { FaceDataset.join(path, $0) }
        } else {
            candidates = [path]
        }
        // The lexicon and the grammar's frames, slot by slot.
        report.errors += Lexicon.problems() + Frames.problems()
        var seen: [String: String] = [:]
        var imageJobs: [(place: String, path: String)] = []
        for file in candidates {
            let value: JSONValue
            do { value = try FaceDataset.parseFile(file) } catch {
                report.errors.append("\(error)")
                continue
            }
            guard case let .array(items) = value else {
                // Other JSON in a directory (schema.json, configs) is not a conversation file.
                if !isDir.boolValue { report.errors.append("\(file): expected a JSON array of LLaVA records") }
                continue
            }
            report.files.append(file)
            let base = (file as NSString).deletingLastPathComponent
            for (index, item) in items.enumerated() {
                report.records += 1
                let problems = checkRecord(item, file: file, index: index, seen: &seen, report: &report)
                report.errors += problems.errors
                if let image = problems.image, checkImages {
                    imageJobs.append((problems.place, resolve(image, base: base, root: imageRoot)))
                }
            }
        }
        if report.files.isEmpty && report.errors.isEmpty {
            report.errors.append("\(path): no LLaVA JSON files (arrays of records) found")
        }
        // Decode images on all cores; report in record order.
        var results = [String?](repeating: nil, count: imageJobs.count)
        var unchecked = [Bool](repeating: false, count: imageJobs.count)
        results.withUnsafeMutableBufferPointer { out in
            unchecked.withUnsafeMutableBufferPointer { skip in
                DispatchQueue.concurrentPerform(iterations: imageJobs.count) { i in
                    let job = imageJobs[i]
                    if !job.path.lowercased().hasSuffix(".png") {
                        if FileManager.default.fileExists(atPath: job.path) { skip[i] = true }
                        else { out[i] = "\(job.place): image \(job.path) does not exist" }
                        return
                    }
                    do { _ = try PNGCodec.read(path: job.path) } catch { out[i] = "\(job.place): \(error)" }
                }
            }
        }
        report.images = imageJobs.count
        report.uncheckedImages = unchecked.filter { $0 }.count
        report.errors += results.compactMap { $0 }
        return report
    }

    static func resolve(_ image: String, base: String, root: String?) -> String {
        if image.hasPrefix("/") { return image }
        if let root { return FaceDataset.join(root, image) }
        let direct = FaceDataset.join(base, image)
        if FileManager.default.fileExists(atPath: direct) { return direct }
        let nested = FaceDataset.join(FaceDataset.join(base, "images"), image)
        return FileManager.default.fileExists(atPath: nested) ? nested : direct
    }

    /// The problems of one record, and its image path if it names one.
    static func checkRecord(_ item: JSONValue, file: String, index: Int, seen: inout [String: String],
                            report: inout Report) -> (errors: [String], image: String?, place: String) {
        var place = "\(file): record \(index)"
        var errors: [String] = []
        guard case let .object(members) = item else {
            return (["\(place): expected an object, found \(item.kindDescription)"], nil, place)
        }
        var id: String?
        switch item["id"] {
        case .string(let s)?: id = s
        case .integer(let i)?: id = String(i)
        case nil: errors.append("\(place): missing \"id\"")
        case let other?: errors.append("\(place): \"id\" must be a string or an integer, found \(other.kindDescription)")
        }
        if let id {
            place += " (id \(JSONWriter.quoted(id)))"
            if let first = seen[id] { errors.append("\(place): duplicate id, first used in \(first)") }
            else { seen[id] = "\(file): record \(index)" }
        }
        var image: String?
        switch item["image"] {
        case .string(let s)?:
            if s.isEmpty { errors.append("\(place): \"image\" is empty") } else { image = s }
        case nil: break    // a text-only record
        case let other?: errors.append("\(place): \"image\" must be a string, found \(other.kindDescription)")
        }
        guard case let .array(turns)? = item["conversations"] else {
            errors.append("\(place): \"conversations\" must be an array\(members.contains { $0.key == "conversations" } ? "" : " (missing)")")
            return (errors, image, place)
        }
        if turns.isEmpty { errors.append("\(place): \"conversations\" is empty") }
        var placeholders = 0
        for (t, turn) in turns.enumerated() {
            report.turns += 1
            guard case let .string(from)? = turn["from"], case let .string(value)? = turn["value"] else {
                errors.append("\(place): turn \(t): needs string \"from\" and \"value\"")
                continue
            }
            let expected = t % 2 == 0 ? LLaVAFormat.human : LLaVAFormat.gpt
            if from != expected {
                errors.append("\(place): turn \(t): expected from \"\(expected)\", found \"\(from)\" (roles must alternate, human first)")
            }
            let count = value.components(separatedBy: LLaVAFormat.imageToken).count - 1
            placeholders += count
            if count > 0 && t != 0 { errors.append("\(place): turn \(t): \(LLaVAFormat.imageToken) outside the first human turn") }
            if value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { errors.append("\(place): turn \(t): empty \"value\"") }
        }
        if !turns.isEmpty && turns.count % 2 != 0 { errors.append("\(place): conversation ends with a human turn (no answer)") }
        switch item["truth"] {
        case nil: break
        case .array(let truth)?:
            if truth.count != turns.count / 2 { errors.append("\(place): \"truth\" has \(truth.count) entries for \(turns.count / 2) question-answer pairs") }
            for (t, entry) in truth.enumerated() {
                guard case .string(let key)? = entry["key"], case .string? = entry["kind"], case .string? = entry["frame"] else {
                    errors.append("\(place): truth[\(t)]: needs string \"kind\", \"key\" and \"frame\"")
                    continue
                }
                if case .string(let kind)? = entry["kind"], kind == "yesno", FaceAttribute(name: key) == nil {
                    errors.append("\(place): truth[\(t)]: \"\(key)\" is no attribute")
                }
            }
        case let other?: errors.append("\(place): \"truth\" must be an array, found \(other.kindDescription)")
        }
        if image != nil, case .object? = turns.first {
            if case .string(let first)? = turns.first?["value"], !first.contains(LLaVAFormat.imageToken) {
                errors.append("\(place): turn 0: missing the \(LLaVAFormat.imageToken) placeholder")
            } else if placeholders > 1 {
                errors.append("\(place): \(LLaVAFormat.imageToken) appears \(placeholders) times")
            }
        }
        if image == nil && placeholders > 0 { errors.append("\(place): \(LLaVAFormat.imageToken) placeholder but no \"image\"") }
        return (errors, image, place)
    }
}
