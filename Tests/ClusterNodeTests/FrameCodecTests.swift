import ProcessHubTesting
import NIOCore
import Testing

@testable import ClusterNode

@Suite("Frames")
struct FrameCodecTests {
    let node = NodeID(name: "n", host: "127.0.0.1", port: 1, incarnation: 9)

    func encode(_ message: WireMessage) -> ByteBuffer {
        var buffer = ByteBuffer()
        FrameCodec.write(message, into: &buffer)
        return buffer
    }

    func decode(_ buffer: ByteBuffer, max: Int = 1 << 20) throws -> WireMessage? {
        var stream = buffer
        guard let frame = try FrameCodec.nextFrame(from: &stream, maxFrameSize: max) else { return nil }
        return try FrameCodec.parse(kind: frame.kind, body: frame.body) { ref in
            switch ref {
            case .inline(let name), .define(_, let name): name
            case .reference: nil
            }
        }
    }

    @Test func callsAndRepliesRoundTrip() throws {
        let call = CallMessage(
            callID: 77, targetIncarnation: 9, target: .serial(1030), method: "$s4Demo4EchoC4echo",
            genericSubstitutions: ["Si"], arguments: [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer()])
        guard case .call(let decoded) = try decode(encode(.call(call))) else { Issue.record("not a call"); return }
        #expect(decoded.callID == 77 && decoded.target == .serial(1030) && decoded.method == call.method)
        #expect(decoded.genericSubstitutions == ["Si"] && decoded.arguments == call.arguments)

        let reply = ReplyMessage(callID: 77, outcome: .error(ClusterError(.unknownActor, "nope", remoteType: "X")))
        guard case .reply(let back) = try decode(encode(.reply(reply))), case .error(let error) = back.outcome else {
            Issue.record("not an error reply")
            return
        }
        #expect(error == ClusterError(.unknownActor, "nope", remoteType: "X"))
    }

    @Test func membersRoundTrip() throws {
        let other = NodeID(name: "ö-node", host: "::1", port: 65535, incarnation: .max)
        guard case .members(let members) = try decode(encode(.members([node, other]))) else {
            Issue.record("not members")
            return
        }
        #expect(members == [node, other])
    }

    @Test func everyTruncationWaitsOrFailsButNeverCrashes() throws {
        let full = encode(.hello(HelloMessage(node: node, nonce: Handshake.randomNonce(), labels: ["zone": "a"])))
        for length in 0..<full.readableBytes {
            #expect(try decode(full.getSlice(at: 0, length: length)!) == nil)
        }
    }

    @Test func oversizedFramesAreRefusedBeforeBuffering() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(10_000_000))
        buffer.writeInteger(FrameKind.heartbeat.rawValue)
        #expect(throws: FrameError.self) { try decode(buffer, max: 1024) }
    }

    @Test func unknownKindsAndTrailingBytesAreErrors() {
        var unknown = ByteBuffer()
        FrameCodec.writeFrame(.heartbeat, into: &unknown)
        unknown.setInteger(UInt8(200), at: 4)
        #expect(throws: FrameError.self) { try decode(unknown) }

        var trailing = ByteBuffer()
        FrameCodec.writeFrame(.heartbeat, into: &trailing) { $0.writeInteger(UInt8(1)) }
        #expect(throws: FrameError.self) { try decode(trailing) }

        var empty = ByteBuffer()
        empty.writeInteger(UInt32(0))
        #expect(throws: FrameError.self) { try decode(empty) }
    }

    @Test func randomBodiesNeverCrashTheParser() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<5000 {
            let kind = UInt8.random(in: 0...30, using: &generator)
            let body = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? FrameCodec.parse(kind: kind, body: ByteBuffer(bytes: body)) { _ in "m" }
        }
    }

    @Test func hugeCountsAreRejectedNotAllocated() {
        var body = ByteBuffer()
        body.writeVarint(UInt64.max >> 2)
        #expect(throws: FrameError.self) { try FrameCodec.parse(kind: FrameKind.members.rawValue, body: body) { _ in nil } }
    }
}

