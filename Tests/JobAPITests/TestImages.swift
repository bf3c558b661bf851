/// Hand-made file headers for upload tests (only as much of each format as the sniffer reads).
enum TestImages {
    static func pngHeader(width: Int, height: Int) -> [UInt8] {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        // Chunks with their CRCs, an (empty) IDAT and the IEND: the upload sniffer checks the structure to the end.
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            var crc: UInt32 = 0xFFFF_FFFF
            for b in Array(type.utf8) + data {
                crc ^= UInt32(b)
                for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
            }
            return be32(data.count) + Array(type.utf8) + data + be32(Int(crc ^ 0xFFFF_FFFF))
        }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", be32(width) + be32(height) + [8, 6, 0, 0, 0])
            + chunk("IDAT", []) + chunk("IEND", [])
    }

    /// SOI, an APP1 block of `exifPadding` bytes (split into segments of at most 65533), then a baseline SOF0.
    static func jpegHeader(width: Int, height: Int, exifPadding: Int = 0) -> [UInt8] {
        var out: [UInt8] = [0xFF, 0xD8]
        var remaining = exifPadding
        while remaining > 0 {
            let n = min(remaining, 65533)
            out += [0xFF, 0xE1, UInt8((n + 2) >> 8), UInt8((n + 2) & 0xFF)] + [UInt8](repeating: 0x41, count: n)
            remaining -= n
        }
        out += [0xFF, 0xC0, 0x00, 0x11, 0x08, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 0x03]
        out += [UInt8](repeating: 0, count: 9)
        out += [0xFF, 0xD9]
        return out
    }
}
