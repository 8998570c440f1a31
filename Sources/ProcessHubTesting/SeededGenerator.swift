import ProcessHub

/// A small deterministic random number generator (SplitMix64), so that a test's random choices
/// can be replayed from its seed. The same generator the hub's state machine draws from.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var base: MachineRandom

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { base = MachineRandom(seed: seed) }

    /// The next value of the sequence.
    public mutating func next() -> UInt64 { base.next() }
}
