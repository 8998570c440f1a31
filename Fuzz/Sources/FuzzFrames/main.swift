import FuzzSupport

/// The first byte sets the size of the reads the stream arrives in (1–256 bytes), so frames and
/// their fields are split across reads as a socket may split them; the rest is the stream.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let first = input.first else { return 0 }
    let readSize = Int(first) + 1
    var decoder = FrameStream()
    var offset = 1
    while offset < input.count {
        let end = min(input.count, offset + readSize)
        guard decoder.feed(input[offset..<end]) else { break }
        offset = end
    }
    return 0
}
