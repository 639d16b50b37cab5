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
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let shifted = fma8(clamped, 1.442_695_04, magic)
    let n = shifted - magic
    let r = fma8(n, -1.428_606_8e-6, fma8(n, -0.693_145_75, clamped))
    var p = SIMD8<Float>(repeating: 1.0 / 720)
    p = fma8(p, r, 1.0 / 120)
    p = fma8(p, r, 1.0 / 24)
    p = fma8(p, r, 1.0 / 6)
    p = fma8(p, r, 0.5)
    p = fma8(p, r, 1)
    p = fma8(p, r, 1)
    let exponent = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &+ 127) &<< 23
    var result = p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
    result.replace(with: 0, where: x .< -87.3)
    return result
}

/// a·b + c. Swift never contracts `a * b + c` into a fused multiply-add, and in exp8's
/// dependent polynomial chain the separate multiply and add cost ~30% of a softmax — but only
/// where the CPU has FMA instructions. Elsewhere `addingProduct` becomes eight calls to libm's
/// exact software fmaf, which made a whole training step 2.7× slower on x86-64 built without
/// `-target-cpu haswell`. So the fused form is compiled only for arm64 (FMA is baseline there)
/// and when the build says the target has it (`-DFACESTUDIO_FMA`, set by the Makefile together
/// with the AVX2 + FMA target); the unfused form's extra rounding stays inside exp8's error.
@_transparent
public func fma8(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
    #if FACESTUDIO_FMA || arch(arm64)
    c.addingProduct(a, b)
    #else
    a * b + c
    #endif
}

@_transparent
public func fma8(_ a: SIMD8<Float>, _ b: Float, _ c: SIMD8<Float>) -> SIMD8<Float> {
    fma8(a, SIMD8(repeating: b), c)
}

@_transparent
public func fma8(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: Float) -> SIMD8<Float> {
    fma8(a, b, SIMD8(repeating: c))
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
