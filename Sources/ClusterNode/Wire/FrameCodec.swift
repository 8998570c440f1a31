import NIOCore

/// Why a frame could not be read. Any of these closes the link that sent it.
struct FrameError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Frames are `[UInt32 length][UInt8 kind][body]`, the length counting kind and body.
/// The encoder writes whole frames into one buffer; the decoder cuts frames out of a stream.
enum FrameCodec {
    static let headerSize = 4

    /// Appends one frame; `body` writes the body. Returns the frame's total size.
    @discardableResult
    static func writeFrame(
        _ kind: FrameKind, into buffer: inout ByteBuffer, body: (inout ByteBuffer) -> Void = { _ in }
    ) -> Int {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(kind.rawValue)
        body(&buffer)
        let length = buffer.writerIndex - start - headerSize
        buffer.setInteger(UInt32(truncatingIfNeeded: length), at: start)
        return length + headerSize
    }

    /// Cuts the next complete frame out of `stream`, or returns `nil` when more bytes are needed.
    /// Throws when the announced length exceeds `maxFrameSize` or is empty, before buffering it.
    static func nextFrame(from stream: inout ByteBuffer, maxFrameSize: Int) throws(FrameError) -> (
        kind: UInt8, body: ByteBuffer
    )? {
        guard let length: UInt32 = stream.getInteger(at: stream.readerIndex) else { return nil }
        guard length >= 1 else { throw FrameError("empty frame") }
        guard Int(length) <= maxFrameSize else {
            throw FrameError("frame of \(length) bytes exceeds the maximum of \(maxFrameSize)")
        }
        guard stream.readableBytes >= headerSize + Int(length) else { return nil }
        stream.moveReaderIndex(forwardBy: headerSize)
        let kind: UInt8 = stream.readInteger()!
        let body = stream.readSlice(length: Int(length) - 1)!
        return (kind, body)
    }

    // MARK: Encoding messages

    static func write(_ message: WireMessage, into buffer: inout ByteBuffer, methodRef: (String) -> MethodRef = { .inline($0) }) {
        switch message {
        case .hello(let hello):
            writeFrame(.hello, into: &buffer) { b in
                b.writeInteger(hello.magic)
                b.writeInteger(hello.version)
                b.writeNodeID(hello.node)
                b.writeLengthPrefixedBytes(hello.nonce)
                writeLabels(hello.labels, into: &b)
            }
        case .challengeReply(let reply):
            writeFrame(.challengeReply, into: &buffer) { b in
                b.writeNodeID(reply.node)
                b.writeLengthPrefixedBytes(reply.nonce)
                b.writeLengthPrefixedBytes(reply.proof)
                writeLabels(reply.labels, into: &b)
            }
        case .proof(let proof):
            writeFrame(.proof, into: &buffer) { $0.writeLengthPrefixedBytes(proof) }
        case .accepted:
            writeFrame(.accepted, into: &buffer)
        case .rejected(let reason):
            writeFrame(.rejected, into: &buffer) { $0.writeInteger(reason.rawValue) }
        case .heartbeat:
            writeFrame(.heartbeat, into: &buffer)
        case .members(let members):
            writeFrame(.members, into: &buffer) { b in
                b.writeVarint(UInt64(members.count))
                for member in members { b.writeNodeID(member) }
            }
        case .leaving:
            writeFrame(.leaving, into: &buffer)
        case .call(let call):
            writeFrame(.call, into: &buffer) { b in writeCall(call, into: &b, methodRef: methodRef(call.method)) }
        case .reply(let reply):
            writeFrame(.reply, into: &buffer) { b in writeReply(reply, into: &b) }
        }
    }

    /// How a call frame names its method: interned per link to keep small calls small.
    enum MethodRef {
        /// The name, not interned.
        case inline(String)
        /// First use on this link: the name and the id later frames use for it.
        case define(UInt64, String)
        /// A name defined earlier on this link.
        case reference(UInt64)
    }

    static func writeCall(_ call: CallMessage, into b: inout ByteBuffer, methodRef: MethodRef) {
        b.writeVarint(call.callID)
        b.writeInteger(call.targetIncarnation)
        switch call.target {
        case .serial(let serial):
            b.writeVarint(serial)
        case .name(let name):
            b.writeVarint(0)
            b.writeLengthPrefixedString(name)
        }
        switch methodRef {
        case .inline(let name):
            b.writeVarint(0)
            b.writeLengthPrefixedString(name)
        case .define(let id, let name):
            b.writeVarint(id << 1 | 1)
            b.writeLengthPrefixedString(name)
        case .reference(let id):
            b.writeVarint(id << 1)
        }
        b.writeVarint(UInt64(call.genericSubstitutions.count))
        for substitution in call.genericSubstitutions { b.writeLengthPrefixedString(substitution) }
        b.writeVarint(UInt64(call.arguments.count))
        for var argument in call.arguments {
            b.writeVarint(UInt64(argument.readableBytes))
            b.writeBuffer(&argument)
        }
    }

    static func writeReply(_ reply: ReplyMessage, into b: inout ByteBuffer) {
        b.writeVarint(reply.callID)
        switch reply.outcome {
        case .value(var value):
            b.writeInteger(UInt8(0))
            b.writeVarint(UInt64(value.readableBytes))
            b.writeBuffer(&value)
        case .void:
            b.writeInteger(UInt8(1))
        case .registeredError(let typeName, var payload):
            b.writeInteger(UInt8(2))
            b.writeLengthPrefixedString(typeName)
            b.writeVarint(UInt64(payload.readableBytes))
            b.writeBuffer(&payload)
        case .error(let error):
            b.writeInteger(UInt8(3))
            b.writeLengthPrefixedString(error.code.rawValue)
            b.writeLengthPrefixedString(error.message)
            b.writeLengthPrefixedString(error.remoteType ?? "")
        }
    }

    static func writeLabels(_ labels: [String: String], into b: inout ByteBuffer) {
        b.writeVarint(UInt64(labels.count))
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            b.writeLengthPrefixedString(key)
            b.writeLengthPrefixedString(value)
        }
    }

    // MARK: Decoding messages

    /// Parses a frame body. `resolveMethod` turns a call's method reference into its name
    /// (and records definitions); it returns `nil` for an unknown reference.
    static func parse(
        kind rawKind: UInt8, body: ByteBuffer, resolveMethod: (MethodRef) -> String?
    ) throws(FrameError) -> WireMessage {
        guard let kind = FrameKind(rawValue: rawKind) else { throw FrameError("unknown frame kind \(rawKind)") }
        var b = body
        let message: WireMessage?
        switch kind {
        case .hello: message = readHello(&b).map(WireMessage.hello)
        case .challengeReply: message = readChallengeReply(&b).map(WireMessage.challengeReply)
        case .proof: message = b.readLengthPrefixedSlice().map { .proof(Array(buffer: $0)) }
        case .accepted: message = .accepted
        case .rejected: message = b.readInteger(as: UInt8.self).flatMap(RejectReason.init(rawValue:)).map(WireMessage.rejected)
        case .heartbeat: message = .heartbeat
        case .members: message = readMembers(&b).map(WireMessage.members)
        case .leaving: message = .leaving
        case .call: message = readCall(&b, resolveMethod: resolveMethod).map(WireMessage.call)
        case .reply: message = readReply(&b).map(WireMessage.reply)
        }
        guard let message else { throw FrameError("malformed \(kind) frame") }
        guard b.readableBytes == 0 else { throw FrameError("\(b.readableBytes) trailing bytes in \(kind) frame") }
        return message
    }

    private static func readHello(_ b: inout ByteBuffer) -> HelloMessage? {
        guard let magic: UInt32 = b.readInteger(), let version: UInt16 = b.readInteger(),
            let node = b.readNodeID(), let nonce = b.readLengthPrefixedSlice(),
            let labels = readLabels(&b)
        else { return nil }
        return HelloMessage(magic: magic, version: version, node: node, nonce: Array(buffer: nonce), labels: labels)
    }

    private static func readChallengeReply(_ b: inout ByteBuffer) -> ChallengeReplyMessage? {
        guard let node = b.readNodeID(), let nonce = b.readLengthPrefixedSlice(),
            let proof = b.readLengthPrefixedSlice(), let labels = readLabels(&b)
        else { return nil }
        return ChallengeReplyMessage(node: node, nonce: Array(buffer: nonce), proof: Array(buffer: proof), labels: labels)
    }

    private static func readLabels(_ b: inout ByteBuffer) -> [String: String]? {
        guard let count = b.readLength(limit: 256) else { return nil }
        var labels: [String: String] = [:]
        for _ in 0..<count {
            guard let key = b.readLengthPrefixedString(limit: 256),
                let value = b.readLengthPrefixedString(limit: 1024)
            else { return nil }
            labels[key] = value
        }
        return labels
    }

    private static func readMembers(_ b: inout ByteBuffer) -> [NodeID]? {
        guard let count = b.readLength(limit: b.readableBytes) else { return nil }
        var members: [NodeID] = []
        members.reserveCapacity(count)
        for _ in 0..<count {
            guard let node = b.readNodeID() else { return nil }
            members.append(node)
        }
        return members
    }

    private static func readCall(_ b: inout ByteBuffer, resolveMethod: (MethodRef) -> String?) -> CallMessage? {
        guard let callID = b.readVarint(), let incarnation: UInt64 = b.readInteger(),
            let serial = b.readVarint()
        else { return nil }
        let target: LocalActorRef
        if serial == 0 {
            guard let name = b.readLengthPrefixedString(limit: 4096) else { return nil }
            target = .name(name)
        } else {
            target = .serial(serial)
        }
        guard let tag = b.readVarint() else { return nil }
        let ref: MethodRef
        if tag == 0 {
            guard let name = b.readLengthPrefixedString(limit: 64 * 1024) else { return nil }
            ref = .inline(name)
        } else if tag & 1 == 1 {
            guard let name = b.readLengthPrefixedString(limit: 64 * 1024) else { return nil }
            ref = .define(tag >> 1, name)
        } else {
            ref = .reference(tag >> 1)
        }
        guard let method = resolveMethod(ref), let substitutionCount = b.readLength(limit: b.readableBytes) else {
            return nil
        }
        var substitutions: [String] = []
        for _ in 0..<substitutionCount {
            guard let substitution = b.readLengthPrefixedString(limit: 64 * 1024) else { return nil }
            substitutions.append(substitution)
        }
        guard let argumentCount = b.readLength(limit: b.readableBytes) else { return nil }
        var arguments: [ByteBuffer] = []
        arguments.reserveCapacity(argumentCount)
        for _ in 0..<argumentCount {
            guard let argument = b.readLengthPrefixedSlice() else { return nil }
            arguments.append(argument)
        }
        return CallMessage(
            callID: callID, targetIncarnation: incarnation, target: target, method: method,
            genericSubstitutions: substitutions, arguments: arguments)
    }

    private static func readReply(_ b: inout ByteBuffer) -> ReplyMessage? {
        guard let callID = b.readVarint(), let status: UInt8 = b.readInteger() else { return nil }
        let outcome: ReplyOutcome
        switch status {
        case 0:
            guard let value = b.readLengthPrefixedSlice() else { return nil }
            outcome = .value(value)
        case 1:
            outcome = .void
        case 2:
            guard let typeName = b.readLengthPrefixedString(limit: 4096), let payload = b.readLengthPrefixedSlice() else {
                return nil
            }
            outcome = .registeredError(typeName: typeName, payload: payload)
        case 3:
            guard let rawCode = b.readLengthPrefixedString(limit: 256),
                let message = b.readLengthPrefixedString(),
                let remoteType = b.readLengthPrefixedString(limit: 4096)
            else { return nil }
            let code = ClusterError.Code(rawValue: rawCode) ?? .remoteError
            outcome = .error(ClusterError(code, message, remoteType: remoteType.isEmpty ? nil : remoteType))
        default:
            return nil
        }
        return ReplyMessage(callID: callID, outcome: outcome)
    }
}
