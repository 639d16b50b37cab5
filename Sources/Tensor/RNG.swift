/// A small, fast, seedable random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Its whole state is four words, so training checkpoints can store it and `--resume`
/// continues the exact same random stream.
public struct RNG: RandomNumberGenerator, Codable, Equatable, Sendable {
    public var state: [UInt64]

    public init(seed: UInt64) {
        var sm = seed
        func splitmix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = [splitmix(), splitmix(), splitmix(), splitmix()]
    }

    @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    @inline(__always) public mutating func next() -> UInt64 {
        let result = RNG.rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = RNG.rotl(state[3], 45)
        return result
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    @inline(__always) public mutating func uniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in (0, 1): never exactly 0, so logs are finite.
    @inline(__always) public mutating func uniformOpen() -> Float {
        (Float(next() >> 41) + 0.5) * (1.0 / 8_388_608.0)
    }

    /// Standard normal (Box-Muller).
    public mutating func normal() -> Float {
        let u1 = uniformOpen(), u2 = uniform()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * Float.pi * u2)
    }

    /// Standard Gumbel sample: -log(-log(u)).
    @inline(__always) public mutating func gumbel() -> Float {
        -logf(-logf(uniformOpen()))
    }

    /// Uniform integer in 0..<n.
    @inline(__always) public mutating func int(_ n: Int) -> Int {
        Int(next() % UInt64(max(n, 1)))
    }

    /// An independent generator derived from this one and a stream id (for per-item seeding).
    public func derived(_ stream: UInt64) -> RNG {
        RNG(seed: state[0] ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ RNG.rotl(state[2], 17))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
