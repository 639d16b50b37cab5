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

    @Test func vqaHasAtLeastEightPairsWithTrueAnswers() {
        var yes = 0, no = 0
        for item in TextTests.items {
            #expect((8...9).contains(item.qa.count), "\(item.id): \(item.qa.count) pairs")
            #expect(Set(item.qa.map(\.question)).count == item.qa.count, "\(item.id): repeated question")
            #expect(item.truthPairs.first?.truth.kind == "describe" && item.qa.first?.answer == item.caption)
            for tp in item.truthPairs {
                let pair = tp.pair
                for match in matcher.matches(in: pair.answer) {
                    for claim in match.claims {
                        #expect(claim.holds(for: item.attributes), "\(item.id): \(pair.question) -> \(pair.answer): \(claim)")
                    }
                }
                if tp.truth.expect == "yes" { yes += 1 }
                if tp.truth.expect == "no" { no += 1 }
            }
            // Every image: its emotion asked in a wh-question, a yes and a no.
            #expect(item.truthPairs.contains { $0.truth.kind == "wh" && $0.truth.key == "emotion" && $0.truth.value == item.attributes.emotion.rawValue })
        }
        // Yes/no and group questions are answered both ways.
        #expect(yes >= TextTests.items.count && no >= TextTests.items.count, "yes \(yes), no \(no)")
    }

    @Test func reasoningAnswersCiteTheActionAndItsCue() {
        var asked = 0
        for item in TextTests.items {
            for tp in item.truthPairs where tp.truth.kind == "reasoning" {
                asked += 1
                #expect(tp.pair.answer.contains(": "), "\(tp.pair.answer)")
                if let action = TextContext.actionPriority.first(where: { item.attributes.has($0) && $0 != .eyesClosed }) {
                    #expect(tp.pair.answer.contains("probably") && tp.pair.answer.contains(Words.gerund(action)[0]), "\(item.id) \(action)")
                }
            }
        }
        #expect(asked >= TextTests.items.count / 3)
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
