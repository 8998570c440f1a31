import ClusterNode

/// A hub cluster as one of its nodes sees it: every member's own report and that node's
/// registry (``HubClient/status(includingChildren:)``).
public struct HubClusterStatus: Sendable {
    /// The hub.
    public var hubID: HubID
    /// The node that answered.
    public var reportedBy: NodeID
    /// Each hub member (the answering node included), sorted by node.
    public var nodes: [NodeReport]
    /// The answering node's registry, sorted by child id (empty unless asked for).
    public var children: [ChildInfo]

    /// Creates a status.
    public init(hubID: HubID, reportedBy: NodeID, nodes: [NodeReport], children: [ChildInfo]) {
        self.hubID = hubID
        self.reportedBy = reportedBy
        self.nodes = nodes
        self.children = children
    }

    /// The answering node's own report.
    public var reporter: HubNodeStatus? { nodes.first { $0.node == reportedBy }?.status }

    /// One member's report, or why it could not be had.
    public struct NodeReport: Sendable, Codable, Hashable {
        /// The member.
        public var node: NodeID
        /// Its view of the hub, when it answered.
        public var status: HubNodeStatus?
        /// Why it did not answer.
        public var failure: String?

        /// Creates a report.
        public init(node: NodeID, status: HubNodeStatus?, failure: String?) {
            self.node = node
            self.status = status
            self.failure = failure
        }
    }
}
