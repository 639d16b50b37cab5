// safetensors: weights and checkpoints (docs/DESIGN.md "Checkpoints and formats").
//
// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
// (`{"__metadata__": {...}, "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}`),
// then the data section: raw little-endian tensors, offsets relative to its start. The reader
// memory-maps the file and checks the whole header before anything is read, so every later
// access is in bounds; the writer produces what Python's `safetensors` writes (keys sorted,
// data 8-byte aligned by padding the header with spaces) and replaces the file atomically.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element types this engine reads and writes; computation is always Float32.
public enum SafetensorsDType: String, CaseIterable, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16"

    public var byteSize: Int { self == .f32 ? 4 : 2 }
}

/// A problem with a safetensors file. `description` is one line:
/// `<path>: <tensor or header field>: <what is wrong>`.
public struct SafetensorsError: Error, Equatable, CustomStringConvertible {
    public let path: String
    /// The tensor name or header field concerned ("header", "__metadata__.step", "layers.0.weight").
    public let subject: String
    public let problem: String

    public init(path: String, subject: String, problem: String) {
        self.path = path
        self.subject = subject
        self.problem = problem
    }

    public var description: String { "\(path): \(subject): \(problem)" }
}

/// A validated, memory-mapped safetensors file. Immutable, so it may be shared between threads.
public final class SafetensorsFile: @unchecked Sendable {
    /// Larger headers are refused as corrupt (the reference implementation's limit too).
    public static let maxHeaderBytes = 100_000_000

    public let path: String
    /// The string map stored under `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// Tensor names, sorted by their UTF-8 bytes.
    public let names: [String]

    struct Entry {
        let dtype: SafetensorsDType
        let shape: [Int]
        let count: Int
        /// Byte range in the data section.
        let begin: Int
        let end: Int
    }

    private let entries: [String: Entry]
    private let mapping: UnsafeMutableRawPointer
    private let mappedLength: Int
    /// The data section: the mapping after the length prefix and the header.
    private let data: UnsafeRawPointer

    public init(path: String) throws {
        self.path = path
        func fail(_ subject: String, _ problem: String) -> SafetensorsError {
            SafetensorsError(path: path, subject: subject, problem: problem)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw fail("file", "cannot open: \(systemError())") }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw fail("file", "cannot read: \(systemError())") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw fail("file", "cannot open: Is a directory") }
        if (info.st_mode & S_IFMT) != S_IFREG { throw fail("file", "not a regular file") }
        let size = Int(info.st_size)
        if size < 8 { throw fail("header", "file is \(size) bytes, too short for the 8-byte header length") }

        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw fail("file", "cannot map: \(systemError())")
        }
        do {
            let header = try SafetensorsHeader(bytes: UnsafeRawBufferPointer(start: mapped, count: size), path: path)
            metadata = header.metadata
            entries = header.entries
            names = header.entries.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            data = UnsafeRawPointer(mapped) + header.dataStart
        } catch {
            munmap(mapped, size)
            throw error
        }
        mapping = mapped
        mappedLength = size
    }

    deinit { munmap(mapping, mappedLength) }

    /// The shape of `name`, or nil if the file has no such tensor.
    public func shape(_ name: String) -> [Int]? { entries[name]?.shape }

    /// The stored element type of `name`, or nil if the file has no such tensor.
    public func dtype(_ name: String) -> SafetensorsDType? { entries[name]?.dtype }

    /// A new Float32 tensor with the values of `name`.
    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = entries[name] else {
            throw SafetensorsError(path: path, subject: printableName(name), problem: "no such tensor in the file")
        }
        let tensor = Tensor(uninitialized: entry.shape)
        copy(entry, into: tensor.data)
        return tensor
    }

    /// Converts the stored values of `entry` to Float32 at `out` (`entry.count` floats).
    func copy(_ entry: Entry, into out: UnsafeMutablePointer<Float>) {
        let source = data + entry.begin
        switch entry.dtype {
        case .f32:
            #if _endian(little)
            memcpy(out, source, entry.count * 4)
            #else
            for i in 0..<entry.count {
                out[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
            #endif
        case .f16:
            for i in 0..<entry.count {
                out[i] = HalfPrecision.float(fromHalf: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<entry.count {
                out[i] = HalfPrecision.float(fromBFloat: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        }
    }

    func entry(_ name: String) -> Entry? { entries[name] }

    // MARK: - Writing

    /// Writes `tensors` (names unique and non-empty) stored as `dtype`, atomically: a temporary
    /// file in the same directory, renamed over `path` once complete.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                             dtype: SafetensorsDType = .f32, to path: String) throws {
        let bytes = try serialize(tensors, metadata: metadata, dtype: dtype, path: path)
        do {
            try AtomicFile.write(bytes, to: path)
        } catch let error as FileError {
            throw SafetensorsError(path: path, subject: "file", problem: error.problemText)
        }
    }

    /// The complete file. Tensors are laid out in name order (UTF-8 bytes), as the header lists them.
    static func serialize(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String],
                          dtype: SafetensorsDType, path: String) throws -> [UInt8] {
        var seen = Set<String>()
        for (name, _) in tensors {
            if name.isEmpty { throw SafetensorsError(path: path, subject: "header", problem: "a tensor has an empty name") }
            if name == "__metadata__" {
                throw SafetensorsError(path: path, subject: "__metadata__", problem: "reserved name, cannot be a tensor")
            }
            if !seen.insert(name).inserted {
                throw SafetensorsError(path: path, subject: printableName(name), problem: "listed twice")
            }
        }
        let sorted = tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }

        var header = "{"
        if !metadata.isEmpty {
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            header += "\"__metadata__\":{"
            header += keys.map { JSONWriter.quoted($0) + ":" + JSONWriter.quoted(metadata[$0]!) }.joined(separator: ",")
            header += "}"
        }
        var offset = 0
        for (k, item) in sorted.enumerated() {
            let size = item.tensor.count * dtype.byteSize
            header += (k == 0 && metadata.isEmpty ? "" : ",") + JSONWriter.quoted(item.name)
            header += ":{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(item.tensor.shape.map(String.init).joined(separator: ","))]"
            header += ",\"data_offsets\":[\(offset),\(offset + size)]}"
            offset += size
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        // Spaces after the JSON (valid whitespace) put the data section on an 8-byte boundary.
        headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)

        var bytes = [UInt8](repeating: 0, count: 8 + headerBytes.count + offset)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(headerBytes.count).littleEndian, toByteOffset: 0, as: UInt64.self)
            headerBytes.withUnsafeBytes { raw.baseAddress!.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            var position = 8 + headerBytes.count
            for item in sorted {
                store(item.tensor, as: dtype, at: raw.baseAddress! + position)
                position += item.tensor.count * dtype.byteSize
            }
        }
        return bytes
    }

    /// Writes the values of `tensor` as little-endian `dtype` at `out` (unaligned is fine).
    private static func store(_ tensor: Tensor, as dtype: SafetensorsDType, at out: UnsafeMutableRawPointer) {
        let values = tensor.data
        switch dtype {
        case .f32:
            for i in 0..<tensor.count { out.storeBytes(of: values[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        case .f16:
            for i in 0..<tensor.count { out.storeBytes(of: HalfPrecision.half(from: values[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        case .bf16:
            for i in 0..<tensor.count { out.storeBytes(of: HalfPrecision.bfloat(from: values[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        }
    }
}

/// The validated header of a mapped file: every check happens here, before any tensor is read.
private struct SafetensorsHeader {
    var metadata: [String: String] = [:]
    var entries: [String: SafetensorsFile.Entry] = [:]
    /// File offset of the data section.
    var dataStart = 0

    init(bytes file: UnsafeRawBufferPointer, path: String) throws {
        func fail(_ subject: String, _ problem: String) -> SafetensorsError {
            SafetensorsError(path: path, subject: subject, problem: problem)
        }
        let declared = UInt64(littleEndian: file.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        if declared > UInt64(SafetensorsFile.maxHeaderBytes) {
            throw fail("header", "header length \(declared) is over the \(SafetensorsFile.maxHeaderBytes)-byte limit (not a safetensors file?)")
        }
        let headerLength = Int(declared)
        if 8 + headerLength > file.count {
            throw fail("header", "header length \(headerLength) runs past the end of the file (\(file.count) bytes; truncated?)")
        }
        dataStart = 8 + headerLength
        let dataLength = file.count - dataStart
        let headerBytes = Array(file[8..<dataStart])
        if let bad = firstInvalidUTF8(headerBytes) { throw fail("header", "not valid UTF-8 (header byte \(bad))") }

        let root: JSONValue
        do {
            root = try JSONReader.parse(headerBytes)
        } catch let error as JSONSyntaxError {
            throw fail("header", "invalid JSON at header byte \(error.offset): \(error.reason)")
        }
        guard case let .object(members) = root else { throw fail("header", "expected a JSON object, found \(root.kindDescription)") }

        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try Self.readMetadata(value, fail: fail)
                continue
            }
            if name.isEmpty { throw fail("header", "a tensor has an empty name") }
            entries[name] = try Self.readEntry(value, name: printableName(name), dataLength: dataLength, fail: fail)
        }

        // The tensors must tile the data section exactly: no overlap, no gap, nothing after.
        let ordered = entries.sorted { a, b in
            if a.value.begin != b.value.begin { return a.value.begin < b.value.begin }
            if a.value.end != b.value.end { return a.value.end < b.value.end }
            return a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
        }
        var expected = 0
        var previous: (name: String, entry: SafetensorsFile.Entry)? = nil
        for (name, entry) in ordered {
            if entry.begin < expected, let previous {
                throw fail(printableName(name), "data_offsets [\(entry.begin), \(entry.end)] overlap \(printableName(previous.name)) [\(previous.entry.begin), \(previous.entry.end)]")
            }
            if entry.begin > expected {
                let after = previous.map { "\(printableName($0.name)) ends at \($0.entry.end)" } ?? "the data section starts at 0"
                throw fail(printableName(name), "data_offsets [\(entry.begin), \(entry.end)] leave a gap: \(after)")
            }
            expected = entry.end
            previous = (name, entry)
        }
        if expected != dataLength {
            let last = previous.map { "the last tensor (\(printableName($0.name))) ends at \(expected)" } ?? "there are no tensors"
            throw fail("data", "\(dataLength - expected) bytes after the tensors: \(last), the data section is \(dataLength) bytes")
        }
    }

    private static func readMetadata(_ value: JSONValue, fail: (String, String) -> SafetensorsError) throws -> [String: String] {
        if value == .null { return [:] }
        guard case let .object(members) = value else {
            throw fail("__metadata__", "expected an object of strings, found \(value.kindDescription)")
        }
        var metadata: [String: String] = [:]
        for (key, item) in members {
            guard case let .string(text) = item else {
                throw fail("__metadata__.\(printableName(key))", "expected a string, found \(item.kindDescription)")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func readEntry(_ value: JSONValue, name: String, dataLength: Int,
                                  fail: (String, String) -> SafetensorsError) throws -> SafetensorsFile.Entry {
        guard case let .object(fields) = value else {
            throw fail(name, "expected an object with dtype, shape and data_offsets, found \(value.kindDescription)")
        }
        for (key, _) in fields where !["dtype", "shape", "data_offsets"].contains(key) {
            throw fail(name, "unexpected field \(JSONWriter.quoted(key))")
        }
        guard let dtypeValue = value["dtype"] else { throw fail(name, "missing dtype") }
        guard case let .string(dtypeName) = dtypeValue else { throw fail(name, "dtype: expected a string, found \(dtypeValue.kindDescription)") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw fail(name, "unsupported dtype \(JSONWriter.quoted(dtypeName)) (expected F32, F16 or BF16)")
        }

        guard let shapeValue = value["shape"] else { throw fail(name, "missing shape") }
        guard case let .array(dimensions) = shapeValue else { throw fail(name, "shape: expected an array, found \(shapeValue.kindDescription)") }
        var shape: [Int] = []
        var count = 1
        for (k, dimension) in dimensions.enumerated() {
            guard case let .integer(size) = dimension, size >= 0 else {
                throw fail(name, "shape[\(k)]: expected a non-negative integer, found \(describe(dimension))")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            if overflow { throw fail(name, "shape \(describe(shapeValue)) has too many elements") }
            count = product
            shape.append(size)
        }

        guard let offsetsValue = value["data_offsets"] else { throw fail(name, "missing data_offsets") }
        guard case let .array(offsets) = offsetsValue, offsets.count == 2,
              case let .integer(begin) = offsets[0], case let .integer(end) = offsets[1], begin >= 0, end >= 0 else {
            throw fail(name, "data_offsets: expected [begin, end] with two non-negative integers, found \(describe(offsetsValue))")
        }
        if begin > end { throw fail(name, "data_offsets [\(begin), \(end)] end before they begin") }
        if end > dataLength {
            throw fail(name, "data_offsets [\(begin), \(end)] run past the end of the data section (\(dataLength) bytes; truncated?)")
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        if overflow || end - begin != needed {
            throw fail(name, "data_offsets [\(begin), \(end)] hold \(end - begin) bytes, shape \(shape) of \(dtype.rawValue) needs \(needed)")
        }
        return SafetensorsFile.Entry(dtype: dtype, shape: shape, count: count, begin: begin, end: end)
    }

    /// A short rendering of a JSON value for messages.
    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case let .integer(n): return String(n)
        case let .double(x): return String(x)
        case let .string(s): return JSONWriter.quoted(String(s.prefix(40)))
        case let .bool(b): return String(b)
        case .null: return "null"
        case let .array(items): return items.count <= 8 ? "[" + items.map(describe).joined(separator: ", ") + "]" : "an array of \(items.count)"
        case .object: return "an object"
        }
    }

    /// Index of the first byte that is not part of valid UTF-8, or nil.
    private func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}

/// A tensor name as it appears in one-line messages: control and line-breaking characters escaped.
func printableName(_ name: String) -> String {
    var out = ""
    for scalar in name.unicodeScalars {
        if scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}" {
            out += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out.isEmpty ? "\"\"" : out
}

private func systemError() -> String { String(cString: strerror(errno)) }

extension FileError {
    /// The message without the leading path (safetensors errors put the path first themselves).
    var problemText: String {
        switch self {
        case let .cannotOpen(_, reason): return "cannot open: \(reason)"
        case let .cannotRead(_, reason): return "cannot read: \(reason)"
        case let .cannotWrite(_, reason): return "cannot write: \(reason)"
        }
    }
}

// MARK: - Half precision

/// IEEE binary16 and bfloat16 conversions by bit manipulation (no Float16 type needed, so the
/// same code runs on every platform). Float32 → 16 bits rounds to nearest, ties to even;
/// overflow becomes infinity, NaN stays NaN (quiet).
public enum HalfPrecision {
    public static func half(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {  // infinity or NaN (keep the top payload bits, force quiet)
            return sign | 0x7C00 | (mantissa == 0 ? 0 : 0x200 | UInt16(truncatingIfNeeded: mantissa >> 13))
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent <= 0 {
            // Subnormal half (or zero): the value in units of 2^-24, rounded.
            if halfExponent < -10 { return sign }  // below half the smallest subnormal
            let full = mantissa | 0x80_0000
            let shift = UInt32(14 - halfExponent)
            var result = full >> shift
            let remainder = full & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && result & 1 == 1) { result += 1 }
            return sign | UInt16(truncatingIfNeeded: result)
        }
        var result = UInt32(halfExponent) << 10 | mantissa >> 13
        let remainder = mantissa & 0x1FFF
        // A carry out of the mantissa correctly bumps the exponent (up to infinity).
        if remainder > 0x1000 || (remainder == 0x1000 && result & 1 == 1) { result += 1 }
        return sign | UInt16(truncatingIfNeeded: result)
    }

    public static func float(fromHalf half: UInt16) -> Float {
        let sign = UInt32(half & 0x8000) << 16
        let exponent = UInt32(half >> 10) & 0x1F
        var mantissa = UInt32(half & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal: normalise into Float32's range.
            var e: UInt32 = 127 - 15 + 1
            while mantissa & 0x400 == 0 { mantissa <<= 1; e -= 1 }
            return Float(bitPattern: sign | e << 23 | (mantissa & 0x3FF) << 13)
        }
        return Float(bitPattern: sign | (exponent + 127 - 15) << 23 | mantissa << 13)
    }

    public static func bfloat(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    public static func float(fromBFloat bfloat: UInt16) -> Float {
        Float(bitPattern: UInt32(bfloat) << 16)
    }
}

// MARK: - Strict loading into a module tree

extension Array where Element == Parameter {
    /// Strict load: every parameter must be present with the same shape and no tensor in the file
    /// may be unused (names listed in `allowUnused` excepted); errors name the tensor. Copies into
    /// the existing tensors, and only after every check passed, so a failed load changes nothing.
    /// `allowMissing`: parameters that keep their current values when the file lacks them.
    public func load(from file: SafetensorsFile, allowUnused: Set<String> = [], allowMissing: Set<String> = []) throws {
        func fail(_ name: String, _ problem: String) -> SafetensorsError {
            SafetensorsError(path: file.path, subject: printableName(name), problem: problem)
        }
        var wanted = Set<String>()
        var loads: [(Parameter, SafetensorsFile.Entry)] = []
        loads.reserveCapacity(count)
        for parameter in self {
            guard wanted.insert(parameter.name).inserted else { throw fail(parameter.name, "two parameters of the model have this name") }
            guard let entry = file.entry(parameter.name) else {
                if allowMissing.contains(parameter.name) { continue }
                let missing = filter { file.entry($0.name) == nil && !allowMissing.contains($0.name) }.count
                throw fail(parameter.name, "missing from the file" + (missing > 1 ? " (\(missing) tensors the model needs are missing)" : ""))
            }
            guard entry.shape == parameter.tensor.shape else {
                throw fail(parameter.name, "shape \(entry.shape) in the file, the model expects \(parameter.tensor.shape)")
            }
            loads.append((parameter, entry))
        }
        let unused = file.names.filter { !wanted.contains($0) && !allowUnused.contains($0) }
        if let first = unused.first {
            throw fail(first, "in the file but not used by the model" + (unused.count > 1 ? " (\(unused.count) unused tensors)" : ""))
        }
        for (parameter, entry) in loads { file.copy(entry, into: parameter.tensor.data) }
    }

    /// Writes the parameters under their names (see `SafetensorsFile.write`).
    public func save(to path: String, metadata: [String: String] = [:], dtype: SafetensorsDType = .f32) throws {
        try SafetensorsFile.write(map { (name: $0.name, tensor: $0.tensor) }, metadata: metadata, dtype: dtype, to: path)
    }
}
