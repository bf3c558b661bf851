import Foundation

/// A setting that is missing or does not parse, named by its variable. Secret values are never shown.
public struct SettingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The environment variable (or flag) the value came from.
    public var variable: String
    /// The value as given; nil when it is a secret or absent.
    public var value: String?
    /// What was expected, e.g. `expected seconds from 1 to 3600`.
    public var expected: String

    public init(variable: String, value: String?, expected: String) {
        self.variable = variable
        self.value = value
        self.expected = expected
    }

    /// `VIDEO_MAX_DURATION="sixty": expected seconds from 1 to 3600`, or `DB_NAME: set DATABASE_URL, or ...`.
    public var description: String {
        guard let value else { return "\(variable): \(expected)" }
        return "\(variable)=\(String(value.prefix(80)).debugDescription): \(expected)"
    }
}

/// Typed reads of environment variables with one set of rules: blank means unset, numbers are range-checked,
/// flags are true/false/yes/no/on/off/1/0, sizes are bytes or `100MB` (binary units, as the seed's `100MB`), and
/// every failure is a ``SettingError`` naming the variable.
public struct SettingsReader: Sendable {
    let values: [String: String]

    public init(_ environment: [String: String]) { values = environment }

    /// The trimmed value, nil when unset or blank.
    public func string(_ name: String) -> String? {
        guard let text = values[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        return text
    }

    /// Like ``string(_:)`` for values that must never be shown (errors say "(hidden)").
    public func secret(_ name: String, minimumBytes: Int, hint: String) throws -> String? {
        guard let text = values[name], !text.isEmpty else { return nil }
        guard text.utf8.count >= minimumBytes else {
            throw SettingError(variable: name, value: nil, expected: "must be at least \(minimumBytes) bytes; \(hint)")
        }
        return text
    }

    public func number(_ name: String, default fallback: Double, range: ClosedRange<Double>, unit: String = "seconds") throws -> Double {
        guard let text = string(name) else { return fallback }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw SettingError(
                variable: name, value: text, expected: "expected \(unit) from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))")
        }
        return value
    }

    public func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>, what: String = "a whole number") throws -> Int {
        guard let text = string(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw SettingError(variable: name, value: text, expected: "expected \(what) from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    public func flag(_ name: String, default fallback: Bool = false) throws -> Bool {
        guard let text = string(name) else { return fallback }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw SettingError(variable: name, value: text, expected: "expected true or false")
        }
    }

    public func byteSize(_ name: String, default fallback: Int, minimum: Int = 1) throws -> Int {
        guard let text = string(name) else { return fallback }
        guard let bytes = Self.parseByteSize(text), bytes >= minimum else {
            throw SettingError(
                variable: name, value: text,
                expected: minimum > 1 ? "expected a size of at least \(minimum) bytes, such as 8MB" : "expected bytes or a size such as 100MB")
        }
        return bytes
    }

    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, default fallback: T) throws -> T where T.RawValue == String {
        guard let text = string(name) else { return fallback }
        guard let value = T(rawValue: text.lowercased()) else {
            throw SettingError(variable: name, value: text, expected: "expected one of " + T.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }

    /// An absolute http(s) URL.
    public func httpURL(_ name: String) throws -> String? {
        guard let text = string(name) else { return nil }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), components.host?.isEmpty == false
        else {
            throw SettingError(variable: name, value: text, expected: "expected an absolute http(s) URL such as https://api.example.com")
        }
        return text
    }

    /// `104857600`, `100MB`, `100 MiB`, `512k`, `1.5GB`: bytes, with binary units (`MB` = `MiB` = 1024 * 1024).
    /// Nil when malformed or out of range.
    public static func parseByteSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let numberPart = trimmed.prefix { ($0.isASCII && $0.isNumber) || $0 == "." }
        let unit = trimmed.dropFirst(numberPart.count).trimmingCharacters(in: .whitespaces).lowercased()
        guard !numberPart.isEmpty, let number = Double(numberPart), number.isFinite else { return nil }
        let multipliers: [String: Double] = [
            "": 1, "b": 1, "byte": 1, "bytes": 1, "k": 1024, "kb": 1024, "kib": 1024,
            "m": 1_048_576, "mb": 1_048_576, "mib": 1_048_576, "g": 1_073_741_824, "gb": 1_073_741_824, "gib": 1_073_741_824,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let bytes = (number * multiplier).rounded(.down)
        guard bytes >= 1, bytes < Double(Int.max / 2) else { return nil }
        return Int(bytes)
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
