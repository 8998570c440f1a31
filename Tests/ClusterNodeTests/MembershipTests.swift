import Testing

@testable import ClusterNode

@Suite("Membership state machine")
struct MembershipTests {
    let a = NodeID(name: "a", host: "127.0.0.1", port: 7001, incarnation: 1)
    let b = NodeID(name: "b", host: "127.0.0.1", port: 7002, incarnation: 2)

    @Test func simultaneousConnectsKeepTheLinkOpenedByTheSmallerNode() {
        // On a (the smaller): b's inbound link arrives while a's own dial to b is pending.
        var onA = Membership(local: a, seeds: [b.address], forgetAfter: .seconds(60))
        #expect(onA.addressesToConnect(now: .now) == [b.address])
        #expect(onA.admit(peer: b, link: .init(id: 1, initiator: b)) == .reject)
        // a's link is accepted by b…
        var onB = Membership(local: b, seeds: [a.address], forgetAfter: .seconds(60))
        _ = onB.addressesToConnect(now: .now)
        #expect(onB.admit(peer: a, link: .init(id: 7, initiator: a)) == .accept(superseding: nil, events: [.up(a)]))
        // …and confirmed on a.
        #expect(onA.admit(peer: b, link: .init(id: 2, initiator: a)) == .accept(superseding: nil, events: [.up(b)]))
    }

    @Test func aNewIncarnationReplacesTheOldOne() {
        var m = Membership(local: a, seeds: [], forgetAfter: .seconds(60))
        _ = m.admit(peer: b, link: .init(id: 1, initiator: b))
        var reborn = b
        reborn.incarnation = 3
        let admission = m.admit(peer: reborn, link: .init(id: 2, initiator: reborn))
        #expect(admission == .accept(superseding: 1, events: [.down(b, .restarted), .up(reborn)]))
        #expect(m.isDead(b))
        #expect(!m.isDead(reborn))
        // The old link's close is not a second down event.
        #expect(m.linkClosed(peer: b, linkID: 1, reason: .connectionLost, now: .now).isEmpty)
    }

    @Test func closeOfTheCurrentLinkIsDownOnce() {
        var m = Membership(local: a, seeds: [], forgetAfter: .seconds(60))
        _ = m.admit(peer: b, link: .init(id: 1, initiator: b))
        #expect(m.linkClosed(peer: b, linkID: 1, reason: .heartbeatTimeout, now: .now) == [.down(b, .heartbeatTimeout)])
        #expect(m.linkClosed(peer: b, linkID: 1, reason: .connectionLost, now: .now).isEmpty)
        #expect(m.isDead(b))
    }

    @Test func lostPeersAreRetriedLeftOnesAreNot() {
        let now = ContinuousClock.now
        var m = Membership(local: a, seeds: [], forgetAfter: .seconds(60))
        m.learned([b], now: now)
        #expect(m.addressesToConnect(now: now) == [b.address])
        m.outboundAttemptEnded(b.address)
        _ = m.admit(peer: b, link: .init(id: 1, initiator: a))
        _ = m.linkClosed(peer: b, linkID: 1, reason: .connectionLost, now: now)
        #expect(m.addressesToConnect(now: now + .seconds(1)) == [b.address])
        m.outboundAttemptEnded(b.address)
        #expect(m.addressesToConnect(now: now + .seconds(61)).isEmpty)

        var n = Membership(local: a, seeds: [], forgetAfter: .seconds(60))
        n.learned([b], now: now)
        _ = n.addressesToConnect(now: now)
        n.outboundAttemptEnded(b.address)
        _ = n.admit(peer: b, link: .init(id: 1, initiator: a))
        _ = n.linkClosed(peer: b, linkID: 1, reason: .left, now: now)
        #expect(n.addressesToConnect(now: now + .seconds(1)).isEmpty)
    }
}
