import ClusterNode
import ProcessHub
@testable import ProcessHubTesting
import Testing

/// The simulator's own behaviour: links, membership order, replay, and one story end to end.
@Suite struct SimulatorTests {
    static let configuration = HubConfiguration(hubID: "sim")

    /// A scenario with traffic on every link: starts, a crash, a split and a stall.
    static let busy = SimulationScenario([
        SimulationStep(at: .milliseconds(300), .start(count: 60, on: 0)),
        SimulationStep(at: .milliseconds(301), .start(count: 40, on: 1)),
        SimulationStep(at: .milliseconds(305), .split(.isolate([2]))),
        SimulationStep(at: .seconds(3), .heal),
        SimulationStep(at: .seconds(4), .stop(count: 20, on: 2)),
        SimulationStep(at: .milliseconds(4_002), .crash(1, restartAfter: .seconds(1))),
        SimulationStep(at: .seconds(7), .stall(0, for: .seconds(2))),
        SimulationStep(at: .seconds(7), .start(count: 30, on: 2)),
    ])

    static func traced(seed: UInt64, nodes: Int = 3) -> SimulatedCluster {
        let options = SimulationOptions(traceLimit: 1_000_000, traceOnSuccess: true)
        let cluster = SimulatedCluster(seed: seed, nodes: nodes, configuration: configuration, options: options)
        cluster.deliveryLog = []
        return cluster
    }

    @Test func messagesKeepTheirOrderOnEachLink() {
        let cluster = Self.traced(seed: 1)
        _ = cluster.run(Self.busy)
        var lastDelivered: [SlotPair: Int] = [:]
        var delivered = 0
        for record in cluster.deliveryLog! where record.event == .delivered {
            #expect(record.number > lastDelivered[record.pair] ?? 0, "message \(record.number) on \(record.pair) overtook \(lastDelivered[record.pair] ?? 0)")
            lastDelivered[record.pair] = record.number
            delivered += 1
        }
        #expect(delivered > 100)
    }

    @Test func aCutLinkDropsTheMessagesInFlight() {
        let cluster = Self.traced(seed: 2)
        _ = cluster.run(Self.busy)
        let log = cluster.deliveryLog!
        let cut: Int64 = 305_000_000
        let healed: Int64 = 3_000_000_000
        let crossing = log.filter { ($0.pair.from == 2) != ($0.pair.to == 2) }
        let inFlight = Set(crossing.filter { $0.event == .sent && $0.time < cut }.map(\.number))
            .subtracting(crossing.filter { $0.event == .delivered && $0.time <= cut }.map(\.number))
        #expect(!inFlight.isEmpty, "the scenario should cut messages in flight")
        for record in crossing where record.time > cut && record.time < healed {
            #expect(record.event != .delivered, "message \(record.number) crossed the cut at \(record.time)")
        }
        #expect(crossing.contains { inFlight.contains($0.number) && $0.event == .dropped })
    }

    /// On every node, a message from a peer comes after that peer's `memberUp` and before the next `memberDown`.
    @Test func memberUpComesBeforeAnyMessageOfTheLink() {
        let report = Self.traced(seed: 3).run(Self.busy)
        var up: Set<String> = []
        for line in report.trace {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 5, words[2] == "<-" else { continue }
            let node = words[1]
            let peerName = { (name: String) in String(name.split(separator: "#")[0]) }
            if words[3] == "memberUp" { up.insert("\(node)>\(peerName(words[4]))") }
            if words[3] == "memberDown" { up.remove("\(node)>\(peerName(words[4]))") }
            if words[3] == "received", let from = words.lastIndex(of: "from") {
                #expect(up.contains("\(node)>\(words[from + 1])"), "\(line)")
            }
        }
    }

    @Test func theSameSeedReplaysExactly() {
        let first = Self.traced(seed: 4, nodes: 5).runRandomScenario()
        let second = Self.traced(seed: 4, nodes: 5).runRandomScenario()
        #expect(first.trace.count > 100)
        #expect(first.trace == second.trace)
        #expect(first.steps == second.steps)
        #expect(first.messageCount == second.messageCount)
        #expect(first.violations == second.violations)
        let other = Self.traced(seed: 5, nodes: 5).runRandomScenario()
        #expect(other.trace != first.trace)
    }

    @Test func aCrashedNodesChildrenEndOnTheSurvivors() {
        let cluster = SimulatedCluster(seed: 6, nodes: 3, configuration: Self.configuration)
        let report = cluster.run(SimulationScenario([
            SimulationStep(at: .milliseconds(300), .start(count: 100, on: 0)),
            SimulationStep(at: .seconds(2), .crash(2, restartAfter: nil)),
        ]))
        #expect(report.passed, "\(report)")
        #expect(cluster.liveNodes.map(\.name) == ["n1", "n2"])
        #expect(cluster.wantedChildren.count == 100)
        let running = cluster.runningChildren
        #expect(Set(running.keys) == cluster.wantedChildren)
        #expect(running.values.allSatisfy { $0.count == 1 && $0[0].name != "n3" })
    }

    @Test func aStoppedChildStaysStoppedAndCanBeStartedAnew() {
        let cluster = SimulatedCluster(seed: 7, nodes: 3, configuration: Self.configuration)
        let report = cluster.run(SimulationScenario([
            SimulationStep(at: .milliseconds(300), .start(count: 20, on: 0)),
            SimulationStep(at: .seconds(1), .stop(count: 5, on: 1)),
            SimulationStep(at: .seconds(2), .split(.groups(minority: 1))),
            SimulationStep(at: .seconds(8), .checkSplit),
            SimulationStep(at: .seconds(9), .heal),
        ]))
        #expect(report.passed, "\(report)")
        #expect(cluster.wantedChildren.count == 15)
        #expect(Set(cluster.runningChildren.keys) == cluster.wantedChildren)
    }

    @Test func aPayloadRoundTripsTheCounter() {
        let child = SimulatedChild(actorID: ActorID(node: NodeID(name: "n1", host: "sim", port: 7_001, incarnation: 1), serial: 1), counter: 0x0102_0304_0506_0708, holdsCalls: false)
        #expect(child.payload == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(SimulatedChild.counter(from: child.payload) == child.counter)
        #expect(SimulatedChild.counter(from: nil) == 0)
    }
}
