// Eight-lane float math for the hot elementwise loops (softmax in attention, GELU): libm's
// scalar expf was the largest cost after sgemm in a MaskGIT step.

/// e^x for eight lanes: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 Taylor polynomial for e^r
/// (relative error ~2e-7), and 2^n put into the exponent bits. Rounding to n uses the
/// 1.5·2²³ trick (adding it leaves n in the low mantissa bits): Swift's generic SIMD
/// float→int conversion is scalar and slow. Below −87.3 (e^x < 1.2e-38, including −inf) the
/// result is 0, as a masked attention score needs.
// @_transparent: with @inline(__always) alone the optimiser still emitted calls (a quarter
// of the softmax's time went to passing eight lanes through the call).
@_transparent
public func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var clamped = x
    clamped.replace(with: -87, where: x .< -87)
    clamped.replace(with: 88, where: x .> 88)
    let magic: Float = 12_582_912
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    let r = clamped - n * 0.693_145_75 - n * 1.428_606_8e-6
    var p = SIMD8<Float>(repeating: 1.0 / 720)
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let exponent = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &+ 127) &<< 23
    var result = p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
    result.replace(with: 0, where: x .< -87.3)
    return result
}

/// tanh for eight lanes through one `exp8` (|error| < 1e-6).
@inlinable @inline(__always)
public func tanh8(_ u: SIMD8<Float>) -> SIMD8<Float> {
    // replace(with:where:) rather than clamped(): the latter is an unspecialised generic call.
    var x = u
    x.replace(with: -9, where: u .< -9)
    x.replace(with: 9, where: u .> 9)
    let e = exp8(2 * x)
    return (e - 1) / (e + 1)
}

/// Eight floats from `p` (fewer than eight available: the rest are `fill`).
@inlinable @inline(__always)
public func load8(_ p: UnsafePointer<Float>, _ available: Int, fill: Float = 0) -> SIMD8<Float> {
    if available >= 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    var v = SIMD8<Float>(repeating: fill)
    for i in 0..<available { v[i] = p[i] }
    return v
}

/// Stores the first min(8, `available`) lanes of `v` at `p`.
@inlinable @inline(__always)
public func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ available: Int) {
    if available >= 8 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self); return }
    for i in 0..<available { p[i] = v[i] }
}
