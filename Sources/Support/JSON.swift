// A small strict JSON reader and writer shared by the file formats (tokenizer.json, the
// safetensors header, checkpoint metadata). Hand-written rather than JSONSerialization so that
// errors carry the byte offset, line and column, duplicate keys are caught, integers stay
// integers (never confused with booleans or rounded through Double) and key order is kept for
// deterministic output.

/// A parsed JSON value. Objects keep their key order.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.integer(x), .integer(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The member `key` of an object (nil for a missing key or a non-object).
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// "an object", "a string"...: for "expected X, found Y" messages.
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Where and why a JSON text failed to parse.
public struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    /// 0-based byte offset of the problem in the parsed bytes.
    public let offset: Int
    /// 1-based line and column (columns count characters, not bytes).
    public let line: Int
    public let column: Int
    public let reason: String

    public var description: String { "invalid JSON at line \(line), column \(column): \(reason)" }
}

/// A recursive-descent parser over UTF-8 bytes (RFC 8259, no extensions).
public struct JSONReader {
    /// Deeper nesting is refused rather than risking the stack.
    public static let maxDepth = 256

    private let bytes: [UInt8]
    private var position = 0

    /// Parses one JSON value (surrounding whitespace allowed); throws `JSONSyntaxError`.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var reader = JSONReader(bytes: bytes)
        // A UTF-8 byte-order mark is tolerated, as many editors write one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.position = 3 }
        reader.skipWhitespace()
        let value = try reader.parseValue(depth: 0)
        reader.skipWhitespace()
        if reader.position < bytes.count { throw reader.error("unexpected content after the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func error(_ reason: String) -> JSONSyntaxError {
        var line = 1, column = 1
        for byte in bytes[..<min(position, bytes.count)] {
            if byte == 0x0A { line += 1; column = 1 } else if byte & 0xC0 != 0x80 { column += 1 }
        }
        return JSONSyntaxError(offset: min(position, bytes.count), line: line, column: column, reason: reason)
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws {
        guard current == byte else { throw error(current == nil ? "unexpected end of data, expected \(what)" : "expected \(what)") }
        position += 1
    }

    private mutating func parseValue(depth: Int) throws -> JSONValue {
        guard let byte = current else { throw error("unexpected end of data, expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        default: throw error("unexpected character, expected a value")
        }
    }

    private mutating func parseLiteral(_ word: String) throws {
        for expected in word.utf8 {
            guard current == expected else { throw error("invalid literal, expected \(word)") }
            position += 1
        }
    }

    private mutating func parseObject(depth: Int) throws -> JSONValue {
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth)") }
        position += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipWhitespace()
        if current == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyPosition = position
            let key = try parseString()
            if !seen.insert(key).inserted {
                position = keyPosition
                throw error("duplicate key \(JSONWriter.quoted(key))")
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':'")
            skipWhitespace()
            members.append((key, try parseValue(depth: depth)))
            skipWhitespace()
            if current == UInt8(ascii: "}") { position += 1; return .object(members) }
            try expect(UInt8(ascii: ","), "',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws -> JSONValue {
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth)") }
        position += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
            try expect(UInt8(ascii: ","), "',' or ']'")
        }
    }

    private mutating func parseString() throws -> String {
        position += 1  // opening quote
        var utf8 = [UInt8]()
        while true {
            guard let byte = current else { throw error("unterminated string") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                let text = String(decoding: utf8, as: UTF8.self)
                // String(decoding:) repairs bad UTF-8; a repair changes the bytes.
                guard text.utf8.elementsEqual(utf8) else { throw error("string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0..<0x20:
                position -= 1
                throw error("control character in string (must be escaped)")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws {
        guard let byte = current else { throw error("unterminated string") }
        position += 1
        if let replacement = Self.simpleEscapes[byte] { utf8.append(replacement); return }
        guard byte == UInt8(ascii: "u") else { position -= 1; throw error("invalid escape in string") }
        var value = try parseHex4()
        if (0xD800...0xDBFF).contains(value) {
            // A high surrogate must be followed by an escaped low surrogate.
            guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                throw error("unpaired surrogate in \\u escape")
            }
            position += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw error("unpaired surrogate in \\u escape") }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(value) {
            throw error("unpaired surrogate in \\u escape")
        }
        guard let scalar = Unicode.Scalar(value) else { throw error("invalid \\u escape") }
        utf8.append(contentsOf: String(Character(scalar)).utf8)
    }

    /// `\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t` → the byte they stand for.
    private static let simpleEscapes: [UInt8: UInt8] = [0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09]

    private mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = hexDigit(byte) else { throw error("invalid \\u escape (expected 4 hex digits)") }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private mutating func parseNumber() throws -> JSONValue {
        let start = position
        func digits() -> Int {
            let from = position
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
            return position - from
        }
        if current == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits()
        if integerDigits == 0 { throw error("invalid number") }
        if integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0") {
            position = integerStart
            throw error("invalid number (leading zero)")
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            if digits() == 0 { throw error("invalid number (no digits after '.')") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            if digits() == 0 { throw error("invalid number (no digits in exponent)") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        guard let value = Double(text), value.isFinite else { throw error("number out of range") }
        return .double(value)
    }
}

/// Deterministic JSON text: the caller decides key order and layout.
public enum JSONWriter {
    /// `text` as a JSON string literal. Only what must be escaped is (quotes, backslash,
    /// control characters), so tokens like `Ġblue` stay readable.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0}"..."\u{1F}", "\u{7F}":
                let hex = String(scalar.value, radix: 16, uppercase: false)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A decoding failure as one line: the key path and what was wrong.
public func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? "" : p + ": "
    }
    switch error {
    case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c): return path(c) + c.debugDescription
    case let .keyNotFound(key, c): return path(c) + "missing key \(key.stringValue)"
    @unknown default: return "\(error)"
    }
}
