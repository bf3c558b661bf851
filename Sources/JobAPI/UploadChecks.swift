/// WebP container facts the upload check needs beyond the format and size.
enum WebPInspection {
    /// True when the RIFF/WebP file is animated: the VP8X header's animation flag is set, or it holds `ANIM`/`ANMF`
    /// chunks. Walks the chunk list in `head` (the first bytes of the file) without decoding anything.
    static func isAnimated(_ head: [UInt8]) -> Bool {
        guard head.count >= 12, head[0..<4].elementsEqual("RIFF".utf8), head[8..<12].elementsEqual("WEBP".utf8) else {
            return false
        }
        var offset = 12
        var chunks = 0
        while offset + 8 <= head.count, chunks < 1000 {
            chunks += 1
            let fourCC = String(decoding: head[offset..<offset + 4], as: UTF8.self)
            let size = Int(head[offset + 4]) | Int(head[offset + 5]) << 8 | Int(head[offset + 6]) << 16 | Int(head[offset + 7]) << 24
            if fourCC == "VP8X", offset + 9 <= head.count, head[offset + 8] & 0x02 != 0 { return true }
            if fourCC == "ANIM" || fourCC == "ANMF" { return true }
            // Chunks are padded to an even size.
            offset += 8 + size + (size & 1)
        }
        return false
    }
}
