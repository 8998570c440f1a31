/// Asks children before they move (SPEC §4.3.6): a child answering
/// ``MigrationConsentReply/deferred`` (or not answering within `consentTimeout`) stays where it
/// is and is asked again every `retryInterval`; after `maxDeferTime` it moves anyway.
/// ``ProcessHub/migrationReady(_:)`` moves a deferred child at once.
public struct MigrationConsent: Sendable, Hashable {
    /// How long children have, together, to answer. Default 5 s.
    public var consentTimeout: Duration
    /// How often deferred children are asked again. Default 10 s.
    public var retryInterval: Duration
    /// How long a child may defer its move in total. Default 10 min.
    public var maxDeferTime: Duration

    /// Creates the settings.
    public init(
        consentTimeout: Duration = .seconds(5), retryInterval: Duration = .seconds(10),
        maxDeferTime: Duration = .seconds(600)
    ) {
        self.consentTimeout = consentTimeout
        self.retryInterval = retryInterval
        self.maxDeferTime = maxDeferTime
    }
}
