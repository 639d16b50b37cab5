@_exported import Support
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte aligned buffer of Float32. Tensors share one when they are reshaped views.
public final class Storage: @unchecked Sendable {
    public let ptr: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int, zeroed: Bool = true) {
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            fatalError("out of memory allocating \(bytes) bytes")
        }
        ptr = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        if zeroed {
            // Gradient buffers are zeroed when first touched in backward: split large ones
            // rather than leave the other worker idle.
            let ptr = ptr
            Threading.parallelChunks(count, minChunk: 1 << 16) { lo, hi in
                memset(ptr + lo, 0, (hi - lo) * MemoryLayout<Float>.stride)
            }
        }
    }

    deinit { free(ptr) }
}

/// Whether operations record the autograd graph on the current thread.
///
/// Inference wraps its work in `GradMode.withoutGrad { ... }` so no graph is kept alive.
public enum GradMode {
    private static let off = ThreadFlag()

    /// True unless the current thread is inside `withoutGrad`.
    public static var isEnabled: Bool { !off.isSet }

    /// Runs `body` with graph recording off on this thread (nests correctly).
    public static func withoutGrad<T>(_ body: () throws -> T) rethrows -> T { try off.set(body) }
}

/// A per-thread flag raised for the duration of a call (nests correctly).
public struct ThreadFlag: @unchecked Sendable {
    private let key: pthread_key_t

    public init() {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        key = k
    }

    /// Whether the calling thread is inside `set`.
    public var isSet: Bool { pthread_getspecific(key) != nil }

    /// Runs `body` with the flag raised on this thread.
    public func set<T>(_ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, previous) }
        return try body()
    }
}

/// Layers built inside `WeightInit.skipped` get zero weights instead of random ones: a model
/// about to be loaded from a file skips drawing ~10⁷ normals (a quarter of a 12-step
/// `generate` went there).
public enum WeightInit {
    private static let skipping = ThreadFlag()

    /// True inside `skipped` on this thread.
    public static var isSkipped: Bool { skipping.isSet }

    /// Builds with zero weights; every parameter must then be loaded (strict loads check it).
    public static func skipped<T>(_ body: () throws -> T) rethrows -> T { try skipping.set(body) }
}

/// One recorded operation: the inputs it read and how to push its output's gradient to them.
struct GraphNode {
    let inputs: [Tensor]
    /// Called with the op's output, whose `grad` holds dL/dout; accumulates into the inputs.
    let backward: (Tensor) -> Void
}

/// A dense, contiguous, row-major Float32 tensor with reverse-mode autograd.
///
/// Every operation returns a new tensor; `reshape` returns a view sharing storage.
/// When gradients are enabled and some input requires them, the op records a `GraphNode`
/// on its output; `backward()` walks those nodes in reverse topological order.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let count: Int
    public let storage: Storage
    /// dL/dself, allocated on first accumulation. Parameters keep it across `backward` calls
    /// (gradient accumulation) until `zeroGrad()`.
    public var grad: Tensor?
    public var requiresGrad: Bool
    /// Name used in checkpoints and error messages (parameters only).
    public var name: String?
    var node: GraphNode?

    @inline(__always) public var data: UnsafeMutablePointer<Float> { storage.ptr }

    public init(shape: [Int], storage: Storage, requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        let n = shape.reduce(1, *)
        precondition(storage.count >= n, "storage of \(storage.count) floats cannot hold shape \(shape)")
        self.shape = shape
        self.count = n
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, storage: Storage(count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// A tensor whose memory is not cleared: only for outputs a kernel overwrites completely.
    public convenience init(uninitialized shape: [Int]) {
        self.init(shape: shape, storage: Storage(count: shape.reduce(1, *), zeroed: false))
    }

    public convenience init(shape: [Int], values: [Float], requiresGrad: Bool = false) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values do not fill shape \(shape)")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
        self.requiresGrad = requiresGrad
    }

    public convenience init(filled value: Float, shape: [Int]) {
        self.init(uninitialized: shape)
        data.update(repeating: value, count: count)
    }

    /// A scalar (shape []).
    public convenience init(scalar: Float) { self.init(shape: [], values: [scalar]) }

    /// Normal(0, std) initialisation from a seeded generator.
    public static func randn(_ shape: [Int], std: Float = 1, rng: inout RNG, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        if WeightInit.isSkipped {
            t.data.update(repeating: 0, count: t.count)
        } else {
            for i in 0..<t.count { t.data[i] = rng.normal() * std }
        }
        t.requiresGrad = requiresGrad
        return t
    }

    /// Uniform(lo, hi) initialisation from a seeded generator.
    public static func uniform(_ shape: [Int], lo: Float, hi: Float, rng: inout RNG, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        if WeightInit.isSkipped {
            t.data.update(repeating: 0, count: t.count)
        } else {
            for i in 0..<t.count { t.data[i] = lo + (hi - lo) * rng.uniform() }
        }
        t.requiresGrad = requiresGrad
        return t
    }

    public var rank: Int { shape.count }
    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }
    /// The value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item() needs a one-element tensor, got shape \(shape)")
        return data[0]
    }

    public subscript(flat i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    public var description: String {
        let preview = values.prefix(8).map { String(format6($0)) }.joined(separator: ", ")
        return "Tensor\(shape)[\(preview)\(count > 8 ? ", …" : "")]"
    }

    /// A copy that shares nothing and records no graph.
    public func detached() -> Tensor {
        let t = Tensor(uninitialized: shape)
        let from = data, to = t.data
        Threading.parallelChunks(count, minChunk: 1 << 16) { lo, hi in (to + lo).update(from: from + lo, count: hi - lo) }
        return t
    }

    /// Overwrites this tensor's values (e.g. loading weights); shapes must match.
    public func copyValues(from other: Tensor) {
        precondition(other.count == count, "copyValues: shape \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }

    public func zeroGrad() { grad = nil }

    /// Adds `g` (same element count) into this tensor's gradient.
    @inline(__always) func accumulateGrad(_ g: UnsafePointer<Float>) {
        vAddParallel(gradBuffer().data, g, count)
    }

    /// The gradient buffer, allocated (zeroed) on first use.
    @inline(__always) func gradBuffer() -> Tensor {
        if let g = grad { return g }
        let g = Tensor(zeros: shape)
        grad = g
        return g
    }

    // MARK: Autograd

    /// Builds an op's output: records `backward` when gradients are on and an input needs them.
    @inline(__always)
    static func result(_ out: Tensor, inputs: [Tensor], backward: @escaping (Tensor) -> Void) -> Tensor {
        if GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) {
            out.requiresGrad = true
            out.node = GraphNode(inputs: inputs, backward: backward)
        }
        return out
    }

    /// Reverse-mode differentiation from this (usually scalar) tensor.
    ///
    /// Seeds dL/dself with ones (or `seed`), runs every recorded op's backward in reverse
    /// topological order, and frees the graph and intermediate gradients as it goes. Leaf
    /// tensors that require gradients accumulate into `grad`.
    public func backward(seed: Tensor? = nil) {
        precondition(requiresGrad, "backward() on a tensor that does not require gradients")
        // Iterative DFS for a topological order (recursion would overflow on long graphs).
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            if visited.contains(ObjectIdentifier(t)) { continue }
            visited.insert(ObjectIdentifier(t))
            stack.append((t, true))
            if let node = t.node {
                for input in node.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }
        let g = gradBuffer()
        if let seed {
            precondition(seed.count == count, "backward seed shape \(seed.shape) for \(shape)")
            vAdd(g.data, seed.data, count)
        } else {
            g.data.update(repeating: 1, count: count)
        }
        for t in order.reversed() {
            guard let node = t.node else { continue }
            if t.grad != nil { node.backward(t) }
            // Free the graph and the intermediate gradient: only leaves keep theirs.
            t.node = nil
            t.grad = nil
        }
    }
}

@inline(__always) func format6(_ x: Float) -> String {
    let v = (x * 10000).rounded() / 10000
    return "\(v)"
}

/// y[i] += x[i]
@inline(__always) func vAdd(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] += x[i] }
}

/// y[i] += x[i], large arrays split over the workers.
func vAddParallel(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
    Threading.parallelChunks(n, minChunk: 1 << 15) { lo, hi in vAdd(y + lo, x + lo, hi - lo) }
}
