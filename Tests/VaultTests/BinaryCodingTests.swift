import Testing
@testable import Vault

func expectDecodingError(_ sourceLocation: SourceLocation = #_sourceLocation,
                         matching accept: (FormatDecodingError) -> Bool = { _ in true },
                         _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a decoding error, got success", sourceLocation: sourceLocation)
    } catch let error as FormatDecodingError {
        #expect(accept(error), "unexpected \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a FormatDecodingError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct BinaryCodingTests {
    @Test func fixedWidthIntegersAreLittleEndian() throws {
        var writer = BinaryWriter()
        writer.writeUInt8(0xAB)
        writer.writeUInt16(0x0102)
        writer.writeUInt32(0x0304_0506)
        writer.writeUInt64(0x0708_090A_0B0C_0D0E)
        writer.writeInt64(-2)
        writer.writeBool(true)
        #expect(Array(writer.bytes[0 ..< 15]) == [0xAB, 0x02, 0x01, 0x06, 0x05, 0x04, 0x03,
                                                 0x0E, 0x0D, 0x0C, 0x0B, 0x0A, 0x09, 0x08, 0x07])
        var reader = BinaryReader(writer.bytes)
        #expect(try reader.readUInt8() == 0xAB)
        #expect(try reader.readUInt16() == 0x0102)
        #expect(try reader.readUInt32() == 0x0304_0506)
        #expect(try reader.readUInt64() == 0x0708_090A_0B0C_0D0E)
        #expect(try reader.readInt64() == -2)
        #expect(try reader.readBool())
        #expect(reader.isAtEnd)
        expectDecodingError(matching: { $0 == .truncated(at: 24) }) { _ = try reader.readUInt8() }
    }

    @Test func varintsRoundTripAtEveryBoundary() throws {
        var values: [UInt64] = [0, 1, 127, 128, 255, 300, 16383, 16384, .max, .max - 1, 1 << 63]
        for shift in 0 ..< 64 { values += [1 << UInt64(shift), (1 << UInt64(shift)) - 1] }
        var writer = BinaryWriter()
        for value in values { writer.writeVarint(value) }
        var reader = BinaryReader(writer.bytes)
        for value in values { #expect(try reader.readVarint() == value) }
        #expect(reader.isAtEnd)

        var small = BinaryWriter()
        small.writeVarint(UInt64(300))
        #expect(small.bytes == [0xAC, 0x02])
        var largest = BinaryWriter()
        largest.writeVarint(UInt64.max)
        #expect(largest.bytes == [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func signedVarintsKeepSmallMagnitudesShort() throws {
        let values: [Int64] = [0, -1, 1, -64, 63, 64, -65, .min, .max, 1_700_000_000_000_000_000]
        var writer = BinaryWriter()
        for value in values { writer.writeSignedVarint(value) }
        var reader = BinaryReader(writer.bytes)
        for value in values { #expect(try reader.readSignedVarint() == value) }
        var short = BinaryWriter()
        short.writeSignedVarint(-64)
        #expect(short.count == 1)
    }

    @Test func badVarintsThrow() {
        // Eleven bytes, and a tenth byte carrying bits past 64.
        expectDecodingError(matching: isMalformed) {
            var reader = BinaryReader([UInt8](repeating: 0x80, count: 10) + [0x00])
            _ = try reader.readVarint()
        }
        expectDecodingError(matching: isMalformed) {
            var reader = BinaryReader([UInt8](repeating: 0xFF, count: 9) + [0x02])
            _ = try reader.readVarint()
        }
        expectDecodingError(matching: { $0 == .truncated(at: 0) }) {
            var reader = BinaryReader([0x80, 0x80])
            _ = try reader.readVarint()
        }
        expectDecodingError(matching: isMalformed) {
            var writer = BinaryWriter()
            writer.writeVarint(UInt64(UInt32.max) + 1)
            var reader = BinaryReader(writer.bytes)
            _ = try reader.readVarintUInt32("test")
        }
    }

    @Test func stringsBytesAndOptionalsRoundTrip() throws {
        var writer = BinaryWriter(reservingCapacity: 64)
        writer.writeBytes([])
        writer.writeBytes([1, 2, 3])
        writer.writeString("user.é✓")
        writer.writeString("")
        writer.writeOptional(UInt64?.none) { $0.writeVarint($1) }
        writer.writeOptional(UInt64(500)) { $0.writeVarint($1) }
        var reader = BinaryReader(writer.bytes)
        #expect(try reader.readBytes() == [])
        #expect(try reader.readBytes() == [1, 2, 3])
        #expect(try reader.readString() == "user.é✓")
        #expect(try reader.readString() == "")
        #expect(try reader.readOptional { (r: inout BinaryReader) throws(FormatDecodingError) in try r.readVarint() } == nil)
        #expect(try reader.readOptional { (r: inout BinaryReader) throws(FormatDecodingError) in try r.readVarint() } == 500)
        try reader.expectEnd("test values")
    }

    @Test func hugeLengthsThrowWithoutAllocating() {
        // A length near 2^63 must be refused by comparing with what is left, not by trying.
        var writer = BinaryWriter()
        writer.writeVarint(UInt64(Int.max))
        writer.writeRaw([1, 2, 3])
        expectDecodingError(matching: { $0 == .truncated(at: 0) }) {
            var reader = BinaryReader(writer.bytes)
            _ = try reader.readBytes()
        }
        expectDecodingError(matching: isMalformed) {
            var writer = BinaryWriter()
            writer.writeVarint(UInt64.max)
            var reader = BinaryReader(writer.bytes)
            _ = try reader.readBytes()
        }
        expectDecodingError(matching: isMalformed) {
            let reader = BinaryReader([1, 2, 3])
            try reader.checkCount(2, minimumSize: 2, "pairs")
        }
    }

    @Test func invalidUTF8BooleansAndTrailingBytesThrow() {
        expectDecodingError(matching: isMalformed) {
            var reader = BinaryReader([2, 0xC3, 0x28])
            _ = try reader.readString()
        }
        expectDecodingError(matching: isMalformed) {
            var reader = BinaryReader([2])
            _ = try reader.readBool()
        }
        expectDecodingError(matching: isMalformed) {
            var reader = BinaryReader([0, 9])
            _ = try reader.readBool()
            try reader.expectEnd("one boolean")
        }
    }
}

func isMalformed(_ error: FormatDecodingError) -> Bool {
    if case .malformed = error { return true }
    return false
}
