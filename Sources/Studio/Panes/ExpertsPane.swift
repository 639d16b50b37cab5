import Inference

/// The experts pane's state: the layer selected (also the unmasking overlay's), and the
/// current answer's token-level routing summed over its tokens.
public struct ExpertsPane {
    public internal(set) var selectedLayer = 0
    /// Running sums of the answer's routing, per layer and expert, and the tokens summed.
    public internal(set) var mmuSums: [[Double]] = []
    public internal(set) var mmuTokens = 0
    /// The answer's sequence-level choices (decided once per conversation).
    public internal(set) var mmuSequence: [SequenceLayerRouting] = []

    mutating func accumulate(_ routing: RoutingTrace) {
        let frequencies = routing.frequencies
        if mmuSums.count != frequencies.count {
            mmuSums = frequencies.map { [Double](repeating: 0, count: $0.count) }
            mmuTokens = 0
        }
        for (l, row) in frequencies.enumerated() where mmuSums[l].count == row.count {
            for (e, v) in row.enumerated() { mmuSums[l][e] += v }
        }
        mmuTokens += 1
        if !routing.sequenceLayers.isEmpty { mmuSequence = routing.sequenceLayers }
    }

    /// Starts the sums again for a new answer.
    mutating func resetAnswer() { mmuSums = []; mmuTokens = 0 }

    /// The MMU heatmap rows: the current answer's mean routing.
    public var mmuFrequencies: [[Double]] {
        guard mmuTokens > 0 else { return [] }
        return mmuSums.map { $0.map { $0 / Double(mmuTokens) } }
    }
}
