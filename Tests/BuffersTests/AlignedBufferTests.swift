import Buffers
import Testing

@Suite("AlignedBuffer")
struct AlignedBufferTests {
    @Test("alignment constant is 4096")
    func alignmentConstant() {
        #expect(AlignedBuffer.alignment == 4096)
    }

    @Test("base address is 4096-aligned and capacity rounds up to whole pages",
          arguments: [
              (requested: 0, expected: 4096),
              (requested: 1, expected: 4096),
              (requested: 4095, expected: 4096),
              (requested: 4096, expected: 4096),
              (requested: 4097, expected: 8192),
              (requested: 1 << 20, expected: 1 << 20),
              (requested: 3 * 4096 + 17, expected: 4 * 4096),
          ])
    func alignedAndRounded(requested: Int, expected: Int) {
        let buffer = AlignedBuffer(capacity: requested)
        #expect(UInt(bitPattern: buffer.baseAddress) % 4096 == 0)
        #expect(buffer.capacity == expected)
        #expect(buffer.bytes.count == expected)
        #expect(buffer.bytes.baseAddress == buffer.baseAddress)
    }

    @Test("the whole capacity is writable and keeps what was written")
    func wholeCapacityUsable() {
        let buffer = AlignedBuffer(capacity: 10_000)
        let bytes = buffer.bytes
        for index in bytes.indices {
            bytes[index] = UInt8(truncatingIfNeeded: index &* 31)
        }
        #expect(bytes.indices.allSatisfy { bytes[$0] == UInt8(truncatingIfNeeded: $0 &* 31) })
    }

    @Test("many live buffers never overlap")
    func distinctBuffers() {
        // All 32 stay alive in `buffers` until the end, so no address can be recycled.
        var starts: Set<UInt> = []
        var buffers: [Held<AlignedBuffer>] = []
        for _ in 0..<32 {
            let buffer = AlignedBuffer(capacity: 4096)
            starts.insert(UInt(bitPattern: buffer.baseAddress))
            buffers.append(Held(buffer))
        }
        #expect(starts.count == 32)
        #expect(starts.allSatisfy { $0 % 4096 == 0 })
    }

    @Test("a buffer can move to another thread and be freed there")
    func crossesThreads() {
        let buffer = AlignedBuffer(capacity: 8192)
        stamp(buffer.bytes, with: 0xA11_6ED)
        let box = Held(buffer)
        let survived = onNewThread {
            box.drop()
            return true
        }
        #expect(survived)
    }
}
