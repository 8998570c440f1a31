import ClusterNode

/// Consent (SPEC §4.3.6): with a ``MigrationConsent``, a child is asked before a rebalance
/// moves it. One that consents moves as any other; one that defers (or does not answer within
/// the round's deadline) is parked here, asked again every `retryInterval`, and moved anyway
/// once `maxDeferTime` has passed since it first deferred. ``HubCommand/migrationReady(_:)``
/// moves parked children at once.
///
/// A parked child is not moving: it runs here as usual, and only its own retries move it, so
/// no other rebalance moves it behind consent's back. Its target is not kept: every retry plans
/// it again, so a child whose placement came back here, or whose target left, is never moved to
/// where it no longer belongs. A child that stops is forgotten.
extension HubMachine {
    /// Whether moves ask their children first.
    var asksConsent: Bool { settings.consent != nil && !consentWaived }

    /// Whether `id` is being asked for its consent or has deferred its move.
    func awaitsConsent(_ id: ChildID) -> Bool { deferred[id] != nil || asked[id] != nil }

    /// Asks `ids` in one round with one shared deadline.
    mutating func askConsent(_ ids: [ChildID]) {
        guard let consent = settings.consent, !ids.isEmpty else { return }
        let round = nextConsentRound
        nextConsentRound += 1
        consentRounds[round] = Set(ids)
        for id in ids { asked[id] = round }
        effects.append(.askConsent(ids, round: round, within: consent.consentTimeout))
    }

    /// The answers of `round`: children that consented move (planned again: placement may have
    /// changed while they were asked), the others are parked. Once consent is waived, every
    /// child of the round moves.
    mutating func consentAnswered(_ round: UInt64, ready: Set<ChildID>) {
        guard let asked = consentRounds.removeValue(forKey: round) else { return }
        // Children that stopped, moved or were let go meanwhile left the round.
        let current = asked.filter { self.asked[$0] == round }.sorted()
        for id in current { self.asked[id] = nil }
        let going = consentWaived ? current : current.filter(ready.contains)
        if consentWaived, drainOperation != nil { drainForced += current.filter { !ready.contains($0) }.count }
        park(current.filter { !going.contains($0) })
        moveNow(going)
    }

    /// Parks `ids` that still run here; the first deferral of each is remembered and told to
    /// the hooks (a retry that defers again is not).
    private mutating func park(_ ids: [ChildID]) {
        guard let consent = settings.consent else { return }
        let running = ids.filter { id in
            guard case .running = children[id]?.phase else { return false }
            return moving[id] == nil
        }
        let new = running.filter { deferred[$0] == nil }
        guard !new.isEmpty else { return }
        if deferred.isEmpty { effects.append(.setTimer(.consentRetry, after: consent.retryInterval)) }
        for id in new { deferred[id] = now }
        log(.info, "\(new.count) children deferred their migration from \(local)")
        effects.append(.hook(.migrationDeferred(new)))
    }

    /// The retry round: parked children that no longer need to move are forgotten, those
    /// deferring since `maxDeferTime` move anyway, and the rest are asked again (those still
    /// being asked from an earlier round wait for that answer).
    mutating func retryDeferred() {
        guard let consent = settings.consent, !deferred.isEmpty else { return }
        defer { if !deferred.isEmpty { effects.append(.setTimer(.consentRetry, after: consent.retryInterval)) } }
        // Without quorum the children are stopping: their stops forget them.
        guard !isPartitioned, !hasLeft else { return }
        let parked = deferred.keys.sorted()
        let plan = movePlan(parked)
        let stillMoving = Set(plan.moves.flatMap(\.1))
        for id in parked where !stillMoving.contains(id) { forgetConsent(of: id) }
        let overdue = stillMoving.filter { now - (deferred[$0] ?? now) >= consent.maxDeferTime }.sorted()
        if !overdue.isEmpty { log(.info, "\(overdue.count) children deferred their migration for too long: they move anyway") }
        moveNow(overdue)
        askConsent(stillMoving.filter { !overdue.contains($0) && asked[$0] == nil }.sorted())
    }

    /// ``HubCommand/migrationReady(_:)``: the parked children among `ids` move now, unasked.
    mutating func migrationReadyCommand(_ op: OperationID, _ ids: Set<ChildID>) {
        moveNow(ids.filter { deferred[$0] != nil }.sorted())
        effects.append(.complete(op, .done))
    }

    /// From now on nothing is asked: parked children move with the next rebalance (counted as
    /// forced for the drain in progress), and rounds still out move all their children.
    mutating func waiveConsent() {
        guard !consentWaived else { return }
        consentWaived = true
        if drainOperation != nil { drainForced += deferred.count }
        deferred = [:]
        effects.append(.cancelTimer(.consentRetry))
    }

    /// The drain's wait for consent is over: what still defers moves now.
    mutating func drainConsentExpired() {
        guard drainOperation != nil, !consentWaived else { return }
        log(.info, "the drain of \(local) moves \(deferred.count) children that still defer")
        waiveConsent()
        rebalance()
    }

    /// Moves those of `ids` that still have to, without asking; they are no longer parked.
    private mutating func moveNow(_ ids: [ChildID]) {
        guard !ids.isEmpty else { return }
        for id in ids { forgetConsent(of: id) }
        guard !isPartitioned, !hasLeft else { return }
        let plan = movePlan(ids)
        noteIfMisplaced(plan.misplaced)
        for (target, ids) in plan.moves { beginMigration(ids, to: target, operation: nil) }
        checkDrainDone()
    }

    /// `id` no longer waits for consent: it moves, stopped, or was let go. A round it was asked
    /// in ignores its answer.
    mutating func forgetConsent(of id: ChildID) {
        deferred[id] = nil
        asked[id] = nil
    }
}
