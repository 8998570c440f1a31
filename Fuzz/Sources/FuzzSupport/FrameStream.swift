import NIOCore

@testable import ClusterNode

/// Decodes a byte stream the way a link does: frames cut from arbitrary reads, a frame-size limit,
/// method names interned per stream with a bounded table. Every decoded message is checked to
/// survive an encode–decode round trip.
public struct FrameStream {
    /// The limit a link applies once its peer is authenticated is 16 MiB; a small one lets the
    /// fuzzer reach the "too large" path with short inputs.
    public static let maxFrameSize = 64 * 1024

    private var stream = ByteBuffer()
    private var methods: [UInt64: String] = [:]
    /// Messages decoded so far.
    public private(set) var decoded = 0

    public init() {}

    /// Appends one read; returns `false` once the stream is broken (the link would close).
    public mutating func feed(_ bytes: some Collection<UInt8>) -> Bool {
        stream.writeBytes(bytes)
        do {
            while let frame = try FrameCodec.nextFrame(from: &stream, maxFrameSize: Self.maxFrameSize) {
                let message = try FrameCodec.parse(kind: frame.kind, body: frame.body) { self.resolve($0) }
                decoded += 1
                Self.checkRoundTrip(message)
            }
        } catch {
            return false
        }
        return true
    }

    private mutating func resolve(_ ref: FrameCodec.MethodRef) -> String? {
        switch ref {
        case .inline(let name):
            return name
        case .define(let id, let name):
            guard id >= 1, methods.count < LinkHandler.maxInternedMethods else { return nil }
            methods[id] = name
            return name
        case .reference(let id):
            return methods[id]
        }
    }

    /// Encoding a decoded message and decoding it again must give the same bytes when encoded
    /// once more (the first encoding may differ from the input: repaired UTF-8, sorted labels).
    static func checkRoundTrip(_ message: WireMessage) {
        let first = encode(message)
        var stream = first
        guard let frame = try? FrameCodec.nextFrame(from: &stream, maxFrameSize: .max),
            let again = try? FrameCodec.parse(kind: frame.kind, body: frame.body, resolveMethod: Self.inlineOnly)
        else { fatalError("an encoded \(Handshake.name(of: message)) frame does not decode") }
        precondition(stream.readableBytes == 0, "encoding wrote more than one frame")
        precondition(encode(again) == first, "a \(Handshake.name(of: message)) frame changed in a round trip")
    }

    static func encode(_ message: WireMessage) -> ByteBuffer {
        var buffer = ByteBuffer()
        FrameCodec.write(message, into: &buffer)
        return buffer
    }

    static func inlineOnly(_ ref: FrameCodec.MethodRef) -> String? {
        if case .inline(let name) = ref { return name }
        return nil
    }
}
