import Foundation
import TestSupport
import Testing

@testable import API

/// Property tests of the submission parser: whatever bytes arrive, it answers a job or a 4xx
/// problem naming a field — never a crash, never a hang. Inputs are random bytes and mutations of
/// the documents in `Corpus/`; the generator is seeded, so a failure reproduces.
@Suite struct SubmissionFuzzTests {
    static let corpus: [[UInt8]] = {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Corpus")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.sorted().compactMap { try? Array(Data(contentsOf: directory.appending(path: $0))) }
    }()

    let parser = SubmissionParser(limits: SubmissionLimits(), defaults: SubmissionDefaults(), destinations: .init())

    /// Parses and checks the property; answers whether the input was accepted.
    func check(_ input: [UInt8]) -> Bool {
        do {
            _ = try parser.parse(input, now: 1_700_000_000_000)
            return true
        } catch {
            #expect(
                (400..<500).contains(error.status),
                "status \(error.status) for \(String(decoding: input, as: UTF8.self))")
            #expect(error.field != nil, "no field named for \(String(decoding: input, as: UTF8.self))")
            return false
        }
    }

    @Test func theCorpusIsAccepted() {
        #expect(Self.corpus.count >= 3)
        for document in Self.corpus { #expect(check(document), "\(String(decoding: document, as: UTF8.self))") }
    }

    @Test func randomBytesAreRefusedCleanly() {
        var random = SeededRandom(seed: 1)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0..<64, using: &random)
            _ = check((0..<length).map { _ in UInt8.random(in: 0...255, using: &random) })
        }
    }

    @Test func mutatedDocumentsNeverCrashAndAlwaysNameAField() {
        var random = SeededRandom(seed: 2)
        let tokens = Array(#"{}[]",:0123456789-.eE truefalsenull\u"#.utf8)
        var accepted = 0
        for round in 0..<30_000 {
            var document = Self.corpus[round % Self.corpus.count]
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                guard !document.isEmpty else { break }
                let at = Int.random(in: 0..<document.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: document.remove(at: at)
                case 1: document.insert(tokens.randomElement(using: &random) ?? 0, at: at)
                case 2: document[at] = UInt8.random(in: 0...255, using: &random)
                default:
                    let end = min(document.count, at + Int.random(in: 1...16, using: &random))
                    document.insert(contentsOf: document[at..<end], at: at)
                }
            }
            if check(document) { accepted += 1 }
        }
        // Some mutations keep the document valid: the property is exercised on both sides.
        #expect(accepted > 0)
    }

    @Test func deepNestingIsRefusedWithoutExhaustingTheStack() {
        let deep = Array(repeating: UInt8(ascii: "["), count: 100_000)
        #expect(!check(deep))
        let object = Array(#"{"tasks":"#.utf8) + deep
        #expect(!check(object))
    }
}
