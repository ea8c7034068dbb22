import Store
import Testing

/// Header lookups by name, as the engine reads `Retry-After` and `Content-Type` from a response.
@Suite struct HeaderFieldTests {
    static let fields = [
        HeaderField("Content-Type", "text/plain"), HeaderField("RETRY-AFTER", "7"), HeaderField("retry-after", "9"),
        HeaderField("X-Ünï", "u"),
    ]

    @Test(arguments: ["retry-after", "Retry-After", "rEtRy-AfTeR"])
    func aNameMatchesWhateverItsASCIICase(_ name: String) {
        #expect(Self.fields.value(named: name) == "7")
    }

    @Test(arguments: ["retry-afte", "retry-after ", "retry_after", "content-type2", ""])
    func aNameThatDiffersInMoreThanCaseDoesNotMatch(_ name: String) {
        #expect(Self.fields.value(named: name) == nil)
    }

    @Test func onlyASCIILettersAreFolded() {
        #expect(Self.fields.value(named: "x-Ünï") == "u")
        #expect(Self.fields.value(named: "x-ünï") == nil)
        #expect(HeaderField.sameName("a", "A") && !HeaderField.sameName("[", "{"))
    }
}
