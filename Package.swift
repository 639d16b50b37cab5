// swift-tools-version:6.0
import PackageDescription

// Numeric modules are compiled with -Ounchecked in release: bounds and overflow checks
// cost 2-5x in the inner loops and every index there is validated at the API boundary.
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "FaceStudio",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "facestudio", targets: ["facestudio"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries (Debian packages installed by scripts/install-deps.sh).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw", providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CSixel", pkgConfig: "libsixel", providers: [.apt(["libsixel-dev"])]),
        .systemLibrary(name: "CMalloc"),  // part of libc: no package to install

        // Layers, arrows pointing down only (see docs/DESIGN.md "Layout").
        .target(name: "Support"),
        .target(name: "Tensor", dependencies: ["Support", "CBLAS", "CMalloc"], swiftSettings: fastMath),
        .target(name: "Imaging", dependencies: ["Support", "CPNG", "CSixel"], swiftSettings: fastMath),
        .target(name: "FaceData", dependencies: ["Imaging"], swiftSettings: fastMath),
        .target(name: "FaceModel", dependencies: ["Tensor", "Imaging"], swiftSettings: fastMath),
        .target(name: "Training", dependencies: ["Tensor", "Imaging", "FaceData", "FaceModel"], swiftSettings: fastMath),
        .target(name: "Inference", dependencies: ["Tensor", "Imaging", "FaceData", "FaceModel"], swiftSettings: fastMath),
        .target(name: "Evaluation", dependencies: ["Support", "Tensor", "Imaging", "FaceData", "FaceModel", "Training", "Inference"], swiftSettings: fastMath),
        .target(name: "Studio", dependencies: ["Inference", "FaceModel", "FaceData", "Imaging", "CNcurses", "CSixel"], swiftSettings: fastMath),
        .executableTarget(
            name: "facestudio",
            dependencies: [
                "Tensor", "Imaging", "FaceData", "FaceModel", "Training", "Inference", "Evaluation", "Studio",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: fastMath),

        // Finite-difference gradient checking shared by the numeric test targets.
        .target(name: "TestSupport", dependencies: ["Tensor"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
        .testTarget(name: "FaceDataTests", dependencies: ["FaceData", "Imaging"]),
        .testTarget(name: "FaceModelTests", dependencies: ["FaceModel", "Tensor", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "FaceModel", "Tensor", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "FaceData", "FaceModel", "Inference", "Tensor", "Imaging"]),
        .testTarget(name: "CommandTests", dependencies: ["TestSupport"]),
        .testTarget(name: "StudioTests", dependencies: ["Studio", "Inference", "Imaging", "TestSupport"], exclude: ["Snapshots", "Fixtures"]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "Training", "FaceModel", "Tensor", "Imaging", "TestSupport"]),

    ],
    swiftLanguageModes: [.v5]
)
