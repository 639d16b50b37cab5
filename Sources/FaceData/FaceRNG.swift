/// The data set's own random stream: xoshiro256** seeded through SplitMix64.
///
/// Kept inside FaceData (no dependency on the engine's RNG) so that a data set is a pure
/// function of (seed, index) forever, whatever the engine does with its generator.
public struct FaceRNG: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        s0 = FaceRNG.splitMix(&sm); s1 = FaceRNG.splitMix(&sm)
        s2 = FaceRNG.splitMix(&sm); s3 = FaceRNG.splitMix(&sm)
    }

    /// A seed for stream `stream` of item `index` under `seed`: each image gets independent
    /// streams for attributes, nuisance, captions and VQA, so changing how one is consumed
    /// never shifts the others.
    public static func derive(_ seed: UInt64, _ index: UInt64, stream: UInt64 = 0) -> UInt64 {
        var x = seed ^ 0x5851_F42D_4C95_7F2D
        _ = splitMix(&x)
        x ^= index &* 0x9E37_79B9_7F4A_7C15
        var y = splitMix(&x)
        y ^= stream &* 0xD1B5_4A32_D192_ED03
        return splitMix(&y)
    }

    @inline(__always) static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always) public mutating func unit() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [lo, hi).
    @inline(__always) public mutating func range(_ lo: Float, _ hi: Float) -> Float {
        lo + (hi - lo) * unit()
    }

    /// True with probability `p`.
    @inline(__always) public mutating func chance(_ p: Float) -> Bool { unit() < p }

    /// Uniform integer in 0..<n (n > 0). Modulo bias is irrelevant at these sizes.
    @inline(__always) public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// One element, uniformly.
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// One element with the given relative weights.
    public mutating func weighted<T>(_ items: [(T, Float)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var u = unit() * total
        for (item, w) in items {
            if u < w { return item }
            u -= w
        }
        return items[items.count - 1].0
    }

    /// Fisher–Yates shuffle with this stream (the standard library's shuffle may change
    /// its algorithm between releases; ours must not).
    public mutating func shuffle<T>(_ items: inout [T]) {
        if items.count < 2 { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(i, below(i + 1))
        }
    }
}
