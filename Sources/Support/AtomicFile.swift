import Foundation

/// A file could not be read or written. `description` is one line starting with the path.
public enum FileError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened (`reason` is the system's text, e.g. "No such file or directory").
    case cannotOpen(path: String, reason: String)
    /// Reading an opened file failed part-way, or the file is over the size limit.
    case cannotRead(path: String, reason: String)
    /// Writing, syncing or renaming the output failed.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "\(path): cannot open: \(reason)"
        case let .cannotRead(path, reason): return "\(path): cannot read: \(reason)"
        case let .cannotWrite(path, reason): return "\(path): cannot write: \(reason)"
        }
    }
}

/// Whole-file reads and crash-safe whole-file writes with POSIX calls, so error messages carry
/// the system's own reason ("No such file or directory", "Permission denied").
public enum AtomicFile {
    /// Reads the whole file. Files larger than `maxBytes` are refused rather than loaded.
    public static func read(path: String, maxBytes: Int = 1 << 30) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileError.cannotOpen(path: path, reason: systemError()) }
        defer { close(fd) }

        var info = stat()
        if fstat(fd, &info) != 0 { throw FileError.cannotRead(path: path, reason: systemError()) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw FileError.cannotOpen(path: path, reason: "Is a directory")
        }
        if Int(info.st_size) > maxBytes {
            throw FileError.cannotRead(path: path, reason: "file is \(info.st_size) bytes, limit \(maxBytes)")
        }

        // st_size is a hint only (pipes, /proc files report 0): read until EOF.
        var bytes = [UInt8]()
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.cannotRead(path: path, reason: systemError())
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > maxBytes {
                throw FileError.cannotRead(path: path, reason: "file exceeds \(maxBytes) bytes")
            }
        }
        return bytes
    }

    /// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so readers
    /// (and a process killed mid-write) see either the old file or the complete new one.
    /// The temporary file is removed on every failure path.
    /// Writes UTF-8 text atomically (see `write(_:to:)`).
    public static func write(text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temp = temporaryPath(for: path)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { throw FileError.cannotWrite(path: path, reason: systemError()) }
        var committed = false
        defer { if !committed { unlink(temp) } }

        var failure: String? = nil
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = systemError()
                    return
                }
                offset += n
            }
        }
        // The data reaches the disk before the rename makes it the file: after a crash the path
        // holds the old or the new contents, never a renamed empty file.
        if failure == nil && fsync(fd) != 0 { failure = systemError() }
        // close() can report a deferred write error (NFS, full disk): it counts as a failure.
        if close(fd) != 0 && failure == nil { failure = systemError() }
        if let failure { throw FileError.cannotWrite(path: path, reason: failure) }
        if rename(temp, path) != 0 { throw FileError.cannotWrite(path: path, reason: systemError()) }
        committed = true
    }

    /// `dir/.name.tmp-<pid>-<n>`: same directory (rename must not cross file systems),
    /// hidden, and unique per process and call.
    static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let n = temporaryCounter.next()
        return "\(directory).\(name).tmp-\(getpid())-\(n)"
    }

    private static let temporaryCounter = Counter()

    private static func systemError() -> String { String(cString: strerror(errno)) }
}

/// A thread-safe increasing counter (temp names must not collide between threads).
private final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value
    }
}

// The POSIX calls under names that AtomicFile's own `read`/`write` do not shadow.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
