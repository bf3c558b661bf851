import Testing

// JobAPITests grows with its issue; this file goes once real tests land.
@Test func packageBuilds() { #expect(1 + 1 == 2) }
