/// Errors from the job store. `description` holds no SQL and no keys.
public struct JobQueueError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable {
            case invalidInput, notFound, database, migration, unavailable, conflict
        }
        let base: Base
        public static let invalidInput = Code(base: .invalidInput)
        public static let notFound = Code(base: .notFound)
        public static let database = Code(base: .database)
        public static let migration = Code(base: .migration)
        /// The database did not answer in time or the connection failed: worth retrying later (the API answers
        /// 503 `database_unavailable` with `Retry-After`).
        public static let unavailable = Code(base: .unavailable)
        /// An idempotency key is no longer the request's own (it stopped renewing it and another request took it
        /// over): its write was rolled back.
        public static let conflict = Code(base: .conflict)
        public var description: String { "\(base)" }
    }

    public var code: Code
    public var message: String
    public var file: String
    public var line: Int

    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "job queue: \(message)" }
}
