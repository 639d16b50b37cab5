import Foundation
import Testing
import Support
import FaceModel

@Suite struct ModelLocationTests {
    /// A scratch tree: `prefix/bin/facestudio`, `prefix/share/facestudio/Models`, a checkout with
    /// `.build/release/facestudio` and `Models`, and an empty working folder.
    struct Tree {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("facestudio-locate-\(UInt64.random(in: 0...UInt64.max))").path
        var prefix: String { root + "/prefix" }
        var checkout: String { root + "/checkout" }
        var elsewhere: String { root + "/elsewhere" }

        init(installedModel: Bool, checkoutModel: Bool) throws {
            let fm = FileManager.default
            for dir in [prefix + "/bin", prefix + "/share/facestudio", checkout + "/.build/release", elsewhere] {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
            if installedModel { try Self.model(at: prefix + "/share/facestudio/Models") }
            if checkoutModel { try Self.model(at: checkout + "/Models") }
        }

        static func model(at dir: String) throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "{}".write(toFile: dir + "/" + ModelDirectory.configFile, atomically: true, encoding: .utf8)
        }

        func search(executable: String, environment: [String: String] = [:], in cwd: String? = nil) -> ResourceSearch {
            ResourceSearch(environment: environment, currentDirectory: cwd ?? elsewhere, executable: executable)
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func searchOrderIsOptionEnvironmentWorkingFolderThenBesideTheBinary() throws {
        let tree = try Tree(installedModel: true, checkoutModel: true)
        defer { tree.remove() }
        let installed = tree.prefix + "/bin/facestudio", built = tree.checkout + "/.build/release/facestudio"
        #expect(try ModelDirectory.locate(explicit: "mine", search: tree.search(executable: installed, environment: ["FACESTUDIO_MODEL": "env"])) == "mine")
        #expect(try ModelDirectory.locate(explicit: nil, search: tree.search(executable: installed, environment: ["FACESTUDIO_MODEL": "env"])) == "env")
        #expect(try ModelDirectory.locate(explicit: nil, search: tree.search(executable: installed)) == tree.prefix + "/share/facestudio/Models")
        #expect(try ModelDirectory.locate(explicit: nil, search: tree.search(executable: built)) == tree.checkout + "/Models")
        // A working folder with its own Models wins over the binary's, and keeps its relative name.
        try Tree.model(at: tree.elsewhere + "/Models")
        #expect(try ModelDirectory.locate(explicit: nil, search: tree.search(executable: installed)) == "Models")
    }

    @Test func nothingFoundListsEveryPlaceSearched() throws {
        let tree = try Tree(installedModel: false, checkoutModel: false)
        defer { tree.remove() }
        let error = #expect(throws: ResourceSearchError.self) {
            try ModelDirectory.locate(explicit: nil, search: tree.search(executable: tree.prefix + "/bin/facestudio"))
        }
        let message = try #require(error).description
        #expect(message.contains("Models,") && message.contains(tree.prefix + "/share/facestudio/Models"))
        #expect(message.contains("--model") && message.contains("FACESTUDIO_MODEL") && !message.contains("\n"))
        let inCheckout = tree.search(executable: tree.checkout + "/.build/x86_64-unknown-linux-gnu/release/facestudio")
        #expect(inCheckout.besideExecutable("Themes") == [tree.checkout + "/Themes"])
    }

    @Test func unknownWordsAreListedOnceEachUpToALimit() {
        #expect(UnknownWordList(["zorb", "Zorb", "quux", "zorb"]).description == "zorb, quux")
        let many = (0..<30).map { "w\($0)" }
        let list = UnknownWordList(many + many)
        #expect(list.shown == Array(many.prefix(20)) && list.more == 10)
        #expect(list.description.hasSuffix("w19 and 10 more"))
        #expect(UnknownWordList([String]()).isEmpty)
    }
}
