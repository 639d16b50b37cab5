import Testing
@testable import FaceData

@Suite struct TextTests {
    static let items = (0..<400).map { DatasetItem(seed: 3, index: $0, testFraction: 0.05) }
    let matcher = PhraseMatcher.shared

    @Test func captionsNeverContradictTheRecord() {
        for item in TextTests.items {
            for match in matcher.matches(in: item.caption) {
                for claim in match.claims {
                    #expect(claim.holds(for: item.attributes), "\(item.id): \"\(match.phrase)\" claims \(claim) in: \(item.caption)")
                }
            }
        }
    }

    @Test func captionsAreDetailedAndVaried() {
        var keys = 0, present = 0, totalPresent = 0
        var openings = Set<String>()
        for item in TextTests.items {
            let claims = matcher.claims(in: item.caption)
            let mentioned = Set(claims.map(\.key))
            keys += mentioned.count
            // Who and how they feel are always said.
            #expect(mentioned.contains("male") && mentioned.contains("young"), "\(item.id): \(item.caption)")
            #expect(mentioned.contains(item.attributes.emotion.rawValue), "\(item.id): \(item.caption)")
            let said = Set(claims.compactMap { if case .present(let a) = $0 { return a } else { return nil } })
            present += said.count
            totalPresent += item.attributes.present.count
            openings.insert(item.caption.split(separator: " ").prefix(3).joined(separator: " "))
        }
        let n = Double(TextTests.items.count)
        #expect(Double(keys) / n >= 15, "mean schema keys per caption \(Double(keys) / n)")
        // Captions name most of what is present (everything, minus occasional omissions).
        #expect(Double(present) / Double(totalPresent) >= 0.8, "\(present) of \(totalPresent) present attributes named")
        #expect(openings.count >= 30, "only \(openings.count) distinct openings")
        #expect(Set(TextTests.items.map(\.caption)).count == TextTests.items.count)
    }

    @Test func eyeColourIsNeverMentionedWhenHidden() {
        for item in TextTests.items where !item.attributes.eyeColorVisible {
            let claims = matcher.claims(in: item.caption) + item.qa.flatMap { matcher.claims(in: $0.answer) }
            #expect(!claims.contains { $0.key == "eye_color" }, "\(item.id): \(item.caption)")
        }
    }

    @Test func vqaHasSevenOrEightPairsWithTrueAnswers() {
        var yes = 0, no = 0
        for item in TextTests.items {
            #expect((7...(item.split == "train" ? 9 : 8)).contains(item.qa.count), "\(item.id): \(item.qa.count) pairs")
            #expect(Set(item.qa.map(\.question)).count == item.qa.count, "\(item.id): repeated question")
            for pair in item.qa {
                #expect(pair.question.hasSuffix("?") || pair.question.hasSuffix("."))
                for match in matcher.matches(in: pair.answer) {
                    for claim in match.claims {
                        #expect(claim.holds(for: item.attributes), "\(item.id): \(pair.question) -> \(pair.answer): \(claim)")
                    }
                }
                if pair.answer.hasPrefix("Yes,") || pair.answer.hasSuffix(", so yes.") { yes += 1 }
                if pair.answer.hasPrefix("No,") || pair.answer.hasSuffix(", so no.") { no += 1 }
            }
            // Every image: its emotion, and a reasoning answer that cites a cue after a colon.
            #expect(item.qa.contains { $0.answer == "\(item.attributes.isMale ? "He" : "She") looks \(item.attributes.emotion.rawValue)." })
            #expect(item.qa.contains { $0.answer.contains(": ") })
            if let action = item.attributes.actions.first(where: { $0 != .eyesClosed }) {
                let gerund = Words.gerund(action)[0]
                #expect(item.qa.contains { $0.answer.contains("probably") && $0.answer.contains(gerund) }, "\(item.id) \(action)")
            }
        }
        // Presence questions are answered both ways.
        #expect(yes >= TextTests.items.count && no >= TextTests.items.count, "yes \(yes), no \(no)")
    }

    @Test func hairColourQuestionsNameTheColourThenTheRightVerdict() {
        let colours: [String: Appearance] = ["black": .blackHair, "blond": .blondHair, "brown": .brownHair, "gray": .grayHair]
        var asked = (train: 0, test: 0), yes = 0
        for item in TextTests.items {
            for pair in item.qa {
                let words = pair.question.lowercased().split { !$0.isLetter }.map(String.init)
                guard words.contains("hair"), let colour = words.first(where: { colours[$0] != nil }) else { continue }
                let has = item.attributes.has(colours[colour]!)
                #expect(pair.answer.hasSuffix(has ? ", so yes." : ", so no."), "\(item.id): \(pair.question) -> \(pair.answer)")
                if item.split == "train" { asked.train += 1 } else { asked.test += 1 }
                if has { yes += 1 }
            }
        }
        // Training images carry the extra check (test images keep the shared distribution),
        // and both verdicts are common.
        let trainImages = TextTests.items.filter { $0.split == "train" }.count
        #expect(Double(asked.train) >= 0.95 * Double(trainImages), "\(asked.train) hair questions for \(trainImages) training images")
        #expect(Double(yes) >= 0.25 * Double(asked.train + asked.test) && Double(yes) <= 0.75 * Double(asked.train + asked.test))
    }

    @Test func llavaConversationsAlternateAndCarryTheImageOnce() {
        for item in TextTests.items.prefix(50) {
            let turns = LLaVAFormat.conversation(item.qa)
            #expect(turns.count == 2 * item.qa.count)
            for (i, turn) in turns.enumerated() {
                #expect(turn.from == (i % 2 == 0 ? "human" : "gpt"))
                #expect(turn.value.contains("<image>") == (i == 0))
            }
            #expect(turns[0].value.hasPrefix("<image>\n"))
            let record = LLaVARecord(id: item.id, image: item.imagePath, conversations: turns)
            #expect(record.pairs == item.qa)
        }
    }

    @Test func schemaPhrasesReadBackAsTheirAttribute() {
        for attr in FaceAttribute.all {
            for phrase in attr.phrases {
                #expect(matcher.claims(in: phrase).contains(.present(attr)), "\"\(phrase)\" for \(attr.name)")
            }
        }
    }

    @Test func matcherPrefersLongestPhrasesAndRespectsNegation() {
        #expect(matcher.claims(in: "platinum blond hair").contains(.detail(.hairColor, "platinum_blond")))
        #expect(!matcher.claims(in: "platinum blond hair").contains(.detail(.hairColor, "blond")))
        #expect(matcher.claims(in: "No, she is not wearing eyeglasses.").contains(.absent(.appearance(.eyeglasses))))
        #expect(!matcher.claims(in: "No, she is not wearing eyeglasses.").contains(.present(.appearance(.eyeglasses))))
        #expect(matcher.claims(in: "He wears aviator sunglasses with blue lenses")
            .contains(.detail(.lensColor, "blue")))
        // No phrase spans a sentence break.
        #expect(matcher.claims(in: "Her eyes are closed.").contains(.present(.action(.eyesClosed))))
        #expect(!matcher.claims(in: "Her eyes are. Closed doors.").contains(.present(.action(.eyesClosed))))
        #expect(matcher.claims(in: "brown eyes").contains(.detail(.eyeColor, "brown")))
        #expect(!matcher.claims(in: "brown eyes").contains { $0.key == "hair_color" })
    }

    @Test func textIsDeterministic() {
        let again = (0..<20).map { DatasetItem(seed: 3, index: $0, testFraction: 0.05) }
        #expect(again.map(\.caption) == TextTests.items.prefix(20).map(\.caption))
        #expect(again.map(\.qa) == TextTests.items.prefix(20).map(\.qa))
    }
}
