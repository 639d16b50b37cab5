import Foundation

/// Fréchet distance between two sets of feature vectors, each summarised as a Gaussian:
/// ‖μ₁−μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½) — the FID formula, here in the face encoder's feature space.
public enum Frechet {
    /// `a` and `b` hold `dim`-wide rows (row-major). Needs at least two rows in each.
    public static func distance(_ a: [Float], _ b: [Float], dim: Int) -> Double {
        precondition(dim > 0 && a.count % dim == 0 && b.count % dim == 0 && a.count >= 2 * dim && b.count >= 2 * dim,
                     "Frechet.distance: needs at least two \(dim)-wide rows per set")
        let (m1, s1) = meanAndCovariance(a, dim: dim), (m2, s2) = meanAndCovariance(b, dim: dim)
        var meanTerm = 0.0
        for i in 0..<dim { meanTerm += (m1[i] - m2[i]) * (m1[i] - m2[i]) }
        var trace = 0.0
        for i in 0..<dim { trace += s1[i * dim + i] + s2[i * dim + i] }
        // Tr((Σ₁Σ₂)^½) = Σ √λ over the eigenvalues of Σ₁^½ Σ₂ Σ₁^½, which is symmetric PSD.
        let root = symmetricSquareRoot(s1, dim: dim)
        let inner = multiply(multiply(root, s2, dim), root, dim)
        let eigenvalues = symmetricEigenvalues(inner, dim: dim)
        let crossTrace = eigenvalues.reduce(0.0) { $0 + max($1, 0).squareRoot() }
        return max(meanTerm + trace - 2 * crossTrace, 0)
    }

    /// Mean and unbiased covariance (row-major dim×dim), in Double.
    static func meanAndCovariance(_ x: [Float], dim: Int) -> ([Double], [Double]) {
        let n = x.count / dim
        var mean = [Double](repeating: 0, count: dim)
        for r in 0..<n { for i in 0..<dim { mean[i] += Double(x[r * dim + i]) } }
        for i in 0..<dim { mean[i] /= Double(n) }
        var cov = [Double](repeating: 0, count: dim * dim)
        var centred = [Double](repeating: 0, count: dim)
        for r in 0..<n {
            for i in 0..<dim { centred[i] = Double(x[r * dim + i]) - mean[i] }
            for i in 0..<dim where centred[i] != 0 {
                let ci = centred[i]
                for j in i..<dim { cov[i * dim + j] += ci * centred[j] }
            }
        }
        for i in 0..<dim {
            for j in i..<dim {
                let v = cov[i * dim + j] / Double(n - 1)
                cov[i * dim + j] = v; cov[j * dim + i] = v
            }
        }
        return (mean, cov)
    }

    static func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n where a[i * n + k] != 0 {
                let aik = a[i * n + k]
                for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
            }
        }
        return c
    }

    /// S^½ for a symmetric PSD matrix: V·diag(√λ)·Vᵀ (negative round-off eigenvalues clamp to 0).
    static func symmetricSquareRoot(_ s: [Double], dim n: Int) -> [Double] {
        let (values, vectors) = jacobiEigen(s, dim: n)
        var out = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            let r = max(values[k], 0).squareRoot()
            if r == 0 { continue }
            for i in 0..<n {
                let vik = vectors[i * n + k] * r
                if vik == 0 { continue }
                for j in 0..<n { out[i * n + j] += vik * vectors[j * n + k] }
            }
        }
        return out
    }

    static func symmetricEigenvalues(_ s: [Double], dim n: Int) -> [Double] { jacobiEigen(s, dim: n).values }

    /// Cyclic Jacobi rotations: eigenvalues and eigenvectors (columns of `vectors`) of a symmetric
    /// matrix. O(n³) per sweep; a few sweeps suffice for the 256-wide features used here.
    static func jacobiEigen(_ s: [Double], dim n: Int) -> (values: [Double], vectors: [Double]) {
        var a = s
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var scale = 0.0
        for x in a { scale += x * x }
        guard scale > 0 else { return ([Double](repeating: 0, count: n), v) }
        for _ in 0..<60 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { off += a[i * n + j] * a[i * n + j] } }
            if off <= 1e-22 * scale { break }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if abs(apq) < 1e-300 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), sn = t * c
                    // Rotate rows/columns p and q of a, and columns of v.
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - sn * akq
                        a[k * n + q] = sn * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - sn * aqk
                        a[q * n + k] = sn * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - sn * vkq
                        v[k * n + q] = sn * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
