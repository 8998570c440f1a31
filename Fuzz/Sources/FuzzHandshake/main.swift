import FuzzSupport

/// The first byte picks the scenario (lone acceptor, lone initiator, tampered genuine handshake);
/// the rest is control bytes and frames (see ``HandshakeFuzz``).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHandshake(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    HandshakeFuzz.run(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
