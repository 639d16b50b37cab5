import Testing
@testable import FaceData

@Suite struct PeopleWordsTests {
    static let items = (0..<600).map { DatasetItem(seed: 11, index: $0, testFraction: 0.2, validationFraction: 0.05) }

    // MARK: Lexicon and frames

    @Test func theLexiconIsSoundSlotBySlot() {
        #expect(Lexicon.problems().isEmpty, "\(Lexicon.problems())")
        #expect(Frames.problems().isEmpty, "\(Frames.problems())")
        // "grey" names a hair colour and an eye colour: other slots, no clash.
        #expect(Lexicon.words(.hairColor, "gray").contains("grey") && Lexicon.words(.eyeColor, "gray").contains("grey"))
        // A form naming two values of one slot is caught, and so is a value without forms.
        let clash = Lexicon.Slot(name: "hair_color", values: [("black", ["dark"]), ("brown", ["dark", "brown"]), ("red", [])])
        let problems = Lexicon.problems(in: [clash])
        #expect(problems.contains { $0.contains("\"dark\" names both black and brown") })
        #expect(problems.contains { $0.contains("hair_color=red: no surface forms") })
    }

    @Test func everyAttributeAndValueHasSeveralForms() {
        for a in FaceAttribute.all {
            let forms = Lexicon.forms(a)
            #expect(forms.present.count >= 3 && !forms.absent.isEmpty, "\(a.name): \(forms.present)")
            #expect(forms.present.count >= a.phrases.count, "\(a.name) has fewer forms than today's phrases")
        }
        let valueForms = DetailField.allCases.flatMap { f in f.values.map { Lexicon.words(f, $0).count } }
        #expect(Double(valueForms.reduce(0, +)) / Double(valueForms.count) >= 2)
    }

    @Test func eachQuestionKindHasTwentyFramesAndEveryKeyFive() {
        for (kind, frames) in Frames.all {
            #expect(frames.count >= 20, "\(kind): \(frames.count)")
            #expect(Set(frames.map(\.id)).count == frames.count)
            let held = frames.filter(\.heldOut).count
            #expect(Double(held) / Double(frames.count) > 0.1 && Double(held) / Double(frames.count) < 0.3, "\(kind): \(held) held out")
        }
        for key in DetailField.allCases.map(\.rawValue) + ["emotion", "action"] { #expect(Frames.wh(key).count >= 5, "\(key)") }
        // Every attribute is asked in every state frame (and the things in the thing frames too).
        #expect(FaceAttribute.all.allSatisfy { !Lexicon.forms($0).states.isEmpty })
        #expect(Frames.describe[0].text == "Describe this face in detail." && !Frames.describe[0].heldOut)
    }

    // MARK: The data

    @Test func trainingNeverSeesAHeldOutPhrasingAndEvaluationDoes() {
        var heldOutQuestions = 0, heldOutPrompts = 0, evaluationQuestions = 0
        for item in Self.items {
            if item.split == "train" {
                #expect(item.truthPairs.allSatisfy { !$0.truth.heldOut } && !item.prompt.heldOut, "\(item.id)")
            } else {
                evaluationQuestions += item.truthPairs.count
                heldOutQuestions += item.truthPairs.filter(\.truth.heldOut).count
                if item.prompt.heldOut { heldOutPrompts += 1 }
            }
            // The flags say what the frames are.
            let frames = Dictionary(Frames.all.values.flatMap { $0 }.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for t in item.truthPairs.map(\.truth) where frames[t.frame]?.heldOut == true { #expect(t.heldOut) }
        }
        #expect(Double(heldOutQuestions) >= 0.3 * Double(evaluationQuestions), "\(heldOutQuestions) of \(evaluationQuestions)")
        #expect(heldOutPrompts >= 10)
        // No held-out frame's wording appears in a training question.
        let heldTexts = Set(Self.items.filter { $0.split != "train" }.flatMap(\.truthPairs).filter(\.truth.heldOut).map(\.pair.question))
        let trainTexts = Set(Self.items.filter { $0.split == "train" }.flatMap(\.qa).map(\.question))
        #expect(heldTexts.intersection(trainTexts).count <= heldTexts.count / 10)
    }

    @Test func splitsAreFixedAndTheValidationSplitIsSmall() {
        let split = (0..<20_000).map { i -> String in
            let test = DatasetItem.isTest(seed: 1, index: i, fraction: 0.05)
            return test ? "test" : (DatasetItem.isValidation(seed: 1, index: i, fraction: 0.02) ? "val" : "train")
        }
        let val = Double(split.filter { $0 == "val" }.count) / 20_000, test = Double(split.filter { $0 == "test" }.count) / 20_000
        #expect(abs(val - 0.019) < 0.004 && abs(test - 0.05) < 0.006, "val \(val) test \(test)")
        #expect(Set(Self.items.map(\.split)) == ["train", "val", "test"])
    }

    @Test func theDataAnswersItsOwnQuestionsRightByItsTruth() {
        for item in Self.items {
            for tp in item.truthPairs where tp.truth.kind != "describe" {
                #expect(TruthGrader.isCorrect(tp.pair.answer, tp.truth), "\(item.id): \(tp.pair.question) -> \(tp.pair.answer) [\(tp.truth)]")
            }
        }
    }

    @Test func answersStateTheFactAskedFirst() {
        for item in Self.items.prefix(300) {
            for tp in item.truthPairs where tp.truth.kind == "wh" && tp.truth.key != "action" {
                let named = TruthGrader.values(tp.truth.key, in: PhraseMatcher.tokenize(tp.pair.answer))
                #expect(named.first == tp.truth.value, "\(tp.pair.answer)")
            }
            for tp in item.truthPairs where tp.truth.kind == "yesno" {
                #expect(TruthGrader.verdict(PhraseMatcher.tokenize(tp.pair.answer)) == (tp.truth.expect == "yes"), "\(tp.pair.answer)")
            }
        }
    }

    @Test func promptsRangeFromOneItemToTwentyAndStateOnlyTruths() {
        var items: [Int] = []
        for i in 0..<3000 {
            let item = i < Self.items.count ? Self.items[i] : DatasetItem(seed: 11, index: i, testFraction: 0.2)
            items.append(item.prompt.items)
            #expect(PromptWriter.Budget.estimate.tokenCount(item.prompt.text) <= 94 || item.prompt.items == 1)
            for fact in item.prompt.facts {
                let claim = try! #require(fact.claim, "\(fact)")
                #expect(claim.holds(for: item.attributes), "\(item.id): \(item.prompt.text): \(fact)")
            }
        }
        #expect(items.min() == 1 && items.max()! >= 20, "\(items.min()!)...\(items.max()!)")
        #expect(Double(items.filter { $0 <= 6 }.count) / Double(items.count) > 0.3)
        #expect(Set(Self.items.map(\.prompt.text)).count == Self.items.count)
    }

    @Test func aTightBudgetShortensPromptsAndSaysSo() {
        let budget = PromptWriter.Budget(maxTokens: 8) { $0.split(separator: " ").count }
        var dropped = 0
        for i in 0..<200 {
            let item = DatasetItem(seed: 2, index: i, testFraction: 0, budget: budget)
            #expect(item.prompt.text.split(separator: " ").count <= 8 || item.prompt.items <= 1, "\(item.prompt.text)")
            dropped += item.prompt.droppedItems
        }
        #expect(dropped > 0)
    }

    @Test func theEverydayWordsAreInTheTrainingText() {
        let text = Self.items.filter { $0.split == "train" }
            .flatMap { [$0.prompt.text] + $0.qa.flatMap { [$0.question, $0.answer] } }
            .map { " " + PhraseMatcher.tokenize($0).joined(separator: " ") + " " }.joined()
        for word in Lexicon.everydayWords { #expect(text.contains(" \(word) "), "\(word)") }
    }

    @Test func textIsDeterministicPerSeed() {
        for i in [0, 7, 42] {
            let a = DatasetItem(seed: 5, index: i, testFraction: 0.3), b = DatasetItem(seed: 5, index: i, testFraction: 0.3)
            #expect(a.truthPairs == b.truthPairs && a.prompt == b.prompt)
        }
    }

    // MARK: Grading

    func truth(_ kind: String, _ key: String, _ value: String, _ expect: String? = nil) -> TextTruth {
        TextTruth(kind: kind, key: key, value: value, expect: expect, frame: "test", heldOut: false)
    }

    @Test func variedRightAnswersScoreRight() {
        let glasses = truth("yesno", "eyeglasses", "present", "yes")
        for reply in ["Yes.", "Yep, she's got specs on.", "yeah", "Definitely, she is wearing spectacles.", "She is wearing glasses.", "Uh-huh."] {
            #expect(TruthGrader.isCorrect(reply, glasses), "\(reply)")
        }
        let noHat = truth("yesno", "hat", "absent", "no")
        for reply in ["No.", "Nope.", "Not at all.", "She has no hat.", "She is bareheaded.", "nah, no hat", "He isn't wearing a hat."] {
            #expect(TruthGrader.isCorrect(reply, noHat), "\(reply)")
        }
        #expect(TruthGrader.isCorrect("She is not smiling.", truth("yesno", "happy", "absent", "no")))
        #expect(TruthGrader.isCorrect("Her hair is red, so no.", truth("yesno", "blond_hair", "absent", "no")))
        let blond = truth("wh", "hair_color", "blond")
        for reply in ["Blonde.", "Her hair is blond.", "Golden - her hair is golden.", "It's fair."] { #expect(TruthGrader.isCorrect(reply, blond), "\(reply)") }
        #expect(TruthGrader.isCorrect("Dark.", truth("wh", "hair_color", "black")))
        #expect(TruthGrader.isCorrect("Grey.", truth("wh", "eye_color", "gray")))
        #expect(TruthGrader.isCorrect("She seems pretty cheerful.", truth("wh", "emotion", "happy")))
        #expect(TruthGrader.isCorrect("He is dozing.", truth("wh", "action", "sleep")))
        #expect(TruthGrader.isCorrect("Asleep, with his eyes closed.", truth("wh", "action", "sleep")))
        #expect(TruthGrader.isCorrect("Nothing much.", truth("wh", "action", "none")))
        #expect(TruthGrader.isCorrect("A woolly hat.", truth("wh", "hat_kind", "beanie")))
        #expect(TruthGrader.isCorrect("Yes, a goatee and stubble.", truth("group", "facial_hair", "goatee+stubble", "yes")))
        #expect(TruthGrader.isCorrect("He has a moustache.", truth("group", "facial_hair", "mustache", "yes")))
        #expect(TruthGrader.isCorrect("None at all.", truth("group", "jewellery", "none", "no")))
        #expect(TruthGrader.isCorrect("She is wearing heavy makeup with pink eyeshadow.", truth("group", "makeup", "lipstick", "yes")))
        #expect(TruthGrader.isCorrect("She has long straight red hair.", truth("yesno", "long_hair", "present", "yes")))
        #expect(TruthGrader.isCorrect("He has short wavy auburn hair.", truth("yesno", "long_hair", "absent", "no")))
        #expect(TruthGrader.isCorrect("Her hair is platinum blonde.", truth("yesno", "blond_hair", "present", "yes")))
    }

    @Test func variedWrongAnswersScoreWrong() {
        let glasses = truth("yesno", "eyeglasses", "present", "yes")
        for reply in ["No.", "Nope, no specs.", "She has no glasses.", "Not at all.", "A young lady is shown in a portrait.", ""] {
            #expect(!TruthGrader.isCorrect(reply, glasses), "\(reply)")
        }
        #expect(!TruthGrader.isCorrect("She is smiling.", truth("yesno", "happy", "absent", "no")))
        let blond = truth("wh", "hair_color", "blond")
        for reply in ["Brown.", "Her hair is chestnut.", "Ginger.", "She looks happy.", "Not blonde, brown."] { #expect(!TruthGrader.isCorrect(reply, blond), "\(reply)") }
        #expect(!TruthGrader.isCorrect("Scared.", truth("wh", "emotion", "happy")))
        #expect(!TruthGrader.isCorrect("She is yawning.", truth("wh", "action", "none")))
        #expect(!TruthGrader.isCorrect("He is yawning and talking.", truth("wh", "action", "yawn")))
        #expect(!TruthGrader.isCorrect("Yes, earrings.", truth("group", "jewellery", "none", "no")))
        #expect(!TruthGrader.isCorrect("She has a red beanie on.", truth("group", "headwear", "none", "no")))
        #expect(!TruthGrader.isCorrect("She has short red hair and brown eyes.", truth("yesno", "brown_hair", "present", "yes")))
        #expect(!TruthGrader.isCorrect("He has long sideburns and short hair.", truth("yesno", "long_hair", "present", "yes")))
    }

    @Test func theMatcherReadsEverydayWordsAndNegations() {
        let m = PhraseMatcher.shared
        let claims = Set(m.claims(in: "grandpa with specs, no hat, blonde hair, scowling"))
        #expect(claims.isSuperset(of: [.present(.appearance(.male)), .absent(.appearance(.young)), .present(.appearance(.eyeglasses)),
                                       .absent(.appearance(.hat)), .detail(.hairColor, "blond"), .present(.action(.frown))]), "\(claims)")
        #expect(Set(m.claims(in: "she is not wearing specs")).contains(.absent(.appearance(.eyeglasses))))
        #expect(!Set(m.claims(in: "she is not wearing specs")).contains(.present(.appearance(.eyeglasses))))
        #expect(Set(m.claims(in: "a girl in a red beanie")) == [.absent(.appearance(.male)), .present(.appearance(.young)),
                                                                 .present(.appearance(.hat)), .detail(.hatKind, "beanie"), .detail(.hatColor, "red")])
    }
}
