import Inference

/// The unmasking pane's state: the sampler settings the keys change, the steps of the last
/// generation as they arrive, which one is shown, the overlay and playback.
public struct UnmaskingPane {
    public internal(set) var settings = GenerateOptions()
    /// What the shown frames were generated from.
    public internal(set) var generatedSettings: GenerateOptions?
    public internal(set) var generatedPrompt = ""
    public internal(set) var frames: [StepEvent] = []
    public internal(set) var selectedStep = 0
    /// Whether the shown step follows each new one as it arrives.
    public internal(set) var following = true
    public internal(set) var generating = false
    public internal(set) var overlay = Overlay.mask
    public internal(set) var playing = false
    var lastPlayTick = 0.0

    /// Seconds between steps when playing.
    public static let playInterval = 0.3

    /// Clears the frames for a generation of `prompt` with the current settings.
    mutating func start(prompt: String) {
        frames = []
        selectedStep = 0
        following = true
        playing = false
        generating = true
        generatedPrompt = prompt
        generatedSettings = settings
    }

    /// Keeps a step as it arrives (a repeated step replaces the earlier one).
    mutating func receive(_ frame: StepEvent) {
        if frame.step < frames.count { frames[frame.step] = frame } else { frames.append(frame) }
        if following && !playing { selectedStep = frames.count - 1 }
    }

    mutating func select(step: Int) {
        guard !frames.isEmpty else { return }
        selectedStep = min(max(step, 0), frames.count - 1)
        following = selectedStep == frames.count - 1
        playing = false
    }

    mutating func togglePlay() {
        guard frames.count > 1 else { return }
        playing.toggle()
        if playing {
            following = false
            if selectedStep >= frames.count - 1 { selectedStep = 0 }
            lastPlayTick = 0
        }
    }

    /// Advances playback; true when the shown step changed or playback stopped.
    mutating func tick(now: Double) -> Bool {
        guard playing, now - lastPlayTick >= UnmaskingPane.playInterval else { return false }
        lastPlayTick = now
        if selectedStep + 1 < frames.count {
            selectedStep += 1
        } else {
            playing = false
        }
        return true
    }
}
