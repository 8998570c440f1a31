/// What ``ColdSwap`` and ``HotSwap`` share: the handover and consent settings (SPEC §4.3.1).
public struct SwapSettings: Sendable, Hashable {
    /// Whether moved children take their state along. Default `false`.
    public var handover: Bool
    /// How long old instances have, together, to hand their state over. Default 5 s.
    public var stateQueryTimeout: Duration
    /// How long a handed-over state (or a new instance holding its calls for it) waits before it
    /// is given up. Default 30 s.
    public var stateTTL: Duration
    /// Whether children are asked before they move. Default `nil` (not asked).
    public var consent: MigrationConsent?

    /// Creates settings.
    public init(
        handover: Bool = false, stateQueryTimeout: Duration = .seconds(5), stateTTL: Duration = .seconds(30),
        consent: MigrationConsent? = nil
    ) {
        self.handover = handover
        self.stateQueryTimeout = stateQueryTimeout
        self.stateTTL = stateTTL
        self.consent = consent
    }
}

/// A migration strategy that swaps an old instance for a new one with ``SwapSettings``.
public protocol SwapMigration: MigrationStrategy {
    /// The strategy's settings.
    var settings: SwapSettings { get set }
    /// Creates the strategy.
    init(settings: SwapSettings)
}

extension SwapMigration {
    /// Creates the strategy from the settings' fields.
    public init(
        handover: Bool = false, stateQueryTimeout: Duration = .seconds(5), stateTTL: Duration = .seconds(30),
        consent: MigrationConsent? = nil
    ) {
        self.init(settings: SwapSettings(
            handover: handover, stateQueryTimeout: stateQueryTimeout, stateTTL: stateTTL, consent: consent))
    }

    /// ``SwapSettings/handover``.
    public var handover: Bool { settings.handover }
    /// ``SwapSettings/stateQueryTimeout``.
    public var stateQueryTimeout: Duration { settings.stateQueryTimeout }
    /// ``SwapSettings/stateTTL``.
    public var stateTTL: Duration { settings.stateTTL }
    /// ``SwapSettings/consent``.
    public var consent: MigrationConsent? { settings.consent }
}
