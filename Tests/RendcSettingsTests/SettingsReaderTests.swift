import Foundation
import RendcSettings
import Testing

@Suite struct SettingsReaderTests {
    @Test(arguments: [
        ("8388608", 8_388_608), ("8MiB", 8 << 20), ("8 MiB", 8 << 20), ("16MB", 16 << 20), ("1.5GB", 3 << 29), ("100MB", 104_857_600),
        ("1GiB", 1 << 30),
        ("512kib", 512 << 10),
    ])
    func byteSizes(text: String, bytes: Int) {
        #expect(SettingsReader.parseByteSize(text) == bytes)
    }

    @Test func aBadSizeNamesItsVariable() {
        #expect(throws: SettingError(variable: "VIDEO_MAX_FILE_SIZE", value: "12XB", expected: "expected bytes or a size such as 100MB")) {
            try SettingsReader(["VIDEO_MAX_FILE_SIZE": "12XB"]).byteSize("VIDEO_MAX_FILE_SIZE", default: 1)
        }
        #expect(throws: Never.self) { try SettingsReader(["VIDEO_MAX_FILE_SIZE": "  "]).byteSize("VIDEO_MAX_FILE_SIZE", default: 1) }
    }

    @Test func badByteSizes() {
        for text in ["", "MiB", "8XB", "-8", "99999999999999999999GiB", "8XiB", "0", "10 parsecs", "lots"] {
            #expect(SettingsReader.parseByteSize(text) == nil, "\(text)")
        }
    }
}
