import ClusterNode

/// Forwarding (ProcessHub's `children_forwarded`): with a strategy whose placement is not the
/// same on every node (``DistributionStrategy/isDeterministic`` is `false`), a node that gets a
/// user's start of children it places elsewhere passes them on to their owner once, and answers
/// the requester with the owner's outcomes. The owner starts them as sent, so two nodes that
/// disagree never pass children back and forth.
extension HubMachine {
    /// The drafts of `request` this node starts itself; the others go to the node its strategy
    /// places them on.
    mutating func forwardMisplaced(_ drafts: [RegistryEntryDraft], of request: StartChildren, _ key: InboundKey) -> [RegistryEntryDraft] {
        guard request.purpose == .user, !distribution.isDeterministic, !drafts.isEmpty else { return drafts }
        let placement = placementOf(drafts.map(\.id))
        var kept: [RegistryEntryDraft] = []
        var forwards: [NodeID: [RegistryEntryDraft]] = [:]
        for draft in drafts {
            let nodes = placement[draft.id] ?? []
            if let owner = nodes.first, !nodes.contains(local), peers.contains(owner) {
                forwards[owner, default: []].append(draft)
            } else {
                kept.append(draft)
            }
        }
        guard !forwards.isEmpty else { return drafts }
        let sorted = forwards.sorted { $0.key < $1.key }
        effects.append(.hook(.childrenForwarded(forwards.mapValues { $0.map(\.id) })))
        for (owner, share) in sorted {
            _ = sendStart(share, to: owner, purpose: .forwarded, for: .forward(key), states: request.states, holdsCalls: false)
        }
        return kept
    }

    /// The owner's outcomes answer the request this node forwarded.
    mutating func forwardReplied(_ outcomes: [ChildStartOutcome], for key: InboundKey) {
        for outcome in outcomes {
            let result: Result<ActorID, ChildError> = outcome.actorID.map { .success($0) }
                ?? .failure(outcome.error ?? ChildError(.startFailed, "no outcome"))
            inboundAnswered(key, outcome.childID, result)
        }
    }
}
