import CoreMetrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import Store

/// fetchq's second storage engine: several nodes sharing one queue in one PostgreSQL database.
///
/// Every verb is one transaction on a pooled connection (postgres-nio's `PostgresClient`). Claims
/// use `FOR UPDATE SKIP LOCKED` and take turns on an advisory lock, so the per-host limit holds for
/// the whole cluster; a running task carries the node that holds it and its attempt number (the
/// token). Each node heartbeats in `nodes`; one elected node (the `leader` row, with an expiry)
/// returns the tasks of nodes that stopped heartbeating to the queue. Submissions and retries
/// `NOTIFY fetchq_work`, which every node `LISTEN`s to, so an idle node starts new work at once.
///
/// Durability: submissions and appends commit with `synchronous_commit = on`, so a 2xx means the
/// batch is on PostgreSQL's disk; the engine's bookkeeping (claims, results) commits with
/// `synchronous_commit = off`, as SQLite's engine writes it with `synchronous = NORMAL`: a crash of
/// the database server may lose the last fraction of a second of results, which are then fetched
/// again (at-least-once), never a submission.
public final class PostgresStore: QueueStore {
    let client: PostgresClient
    let logger: Logger
    let location: PostgresLocation
    public let node: NodeIdentity
    /// How long a node may go without a heartbeat before its tasks are rescued.
    public let leaseTTLMillis: Int
    /// How long one transaction or read may wait for a connection and run. The pool waits for a
    /// connection for as long as the server is away; past this the caller hears `unavailable`
    /// (the API answers 503) instead of hanging.
    public let deadline: Duration
    let ids = NIOLockedValueBox(ULID())
    let healthState = NIOLockedValueBox(StoreHealth.ok)
    /// Set while the server refuses connections or has closed them (`ServerRefusal`).
    let refusal = ServerRefusal()
    /// This node's writes, for long polls (other nodes' changes are seen by re-reading).
    let commits = CommitSignal()
    let writeSeconds: CoreMetrics.Timer
    private let work: AsyncStream<Void>.Continuation
    /// One element per `NOTIFY fetchq_work` from any node: work may be due.
    public let workArrived: AsyncStream<Void>

    public init(
        location: PostgresLocation, node: NodeIdentity, logger: Logger,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance, leaseTTLMillis: Int = 15_000,
        deadline: Duration = .seconds(10)
    ) {
        self.deadline = deadline
        var configuration = location.clientConfiguration
        configuration.options.minimumConnections = 1
        configuration.options.maximumConnections = 16
        configuration.options.connectTimeout = .seconds(5)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.location = location
        self.node = node
        self.logger = logger
        self.leaseTTLMillis = leaseTTLMillis
        self.writeSeconds = CoreMetrics.Timer(label: "fetchq_store_write_seconds", factory: metrics)
        (workArrived, work) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public var health: StoreHealth { healthState.withLockedValue { $0 } }

    /// Runs the connection pool, this node's heartbeat (and, when elected, the rescue of dead
    /// nodes' tasks) and its `LISTEN`, until the task is cancelled.
    ///
    /// The heartbeat and the listener are tasks of their own, not children this waits for: a
    /// `LISTEN` whose connection drops may never end its notification sequence (postgres-nio
    /// #601), and a stop must not wait for it. The listener has its own connection, outside the
    /// pool, which it closes when cancelled, so the pool's shutdown waits for no lease of its. The
    /// heartbeat's round in progress ends at its next statement; only then does the pool stop.
    public func run() async {
        let pool = Task { await self.client.run() }
        let heartbeat = Task { await self.heartbeatLoop() }
        let listener = Task { await self.listenLoop() }
        await withTaskCancellationHandler {
            await pool.value
        } onCancel: {
            listener.cancel()
            heartbeat.cancel()
            // The pool stops once the heartbeat's statement in flight, if any, has its answer
            // (within the deadline): a statement still out when the pool shut down could wait for
            // an answer for good, and its task with it (LeakSanitizer found one in CI).
            Task {
                await heartbeat.value
                pool.cancel()
            }
        }
        work.finish()
    }

    /// Applies pending migrations and registers this node; call while `run()` runs. A bad URL,
    /// a wrong password or an unreachable server fails here, with PostgreSQL's reason.
    public func start(now: Int64) async throws {
        do {
            try await withDeadline { _ = try await PostgresMigrator.migrate(self.client, logger: self.logger) }
            try await register(now: now)
        } catch {
            throw Self.describe(error, at: location)
        }
    }

    /// An error people can act on: PostgreSQL's own message, the server named without a password.
    static func describe(_ error: any Error, at location: PostgresLocation) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PSQLError {
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return StoreError(.unavailable, "PostgreSQL at \(location): \(message)\(code)")
        }
        return StoreError(.unavailable, "PostgreSQL at \(location): \(error)")
    }

    // MARK: Transactions

    /// Runs `body` in one transaction. `durable` makes the commit wait for PostgreSQL's disk
    /// (submissions); otherwise it commits with `synchronous_commit = off`. A lost connection or an
    /// unreachable server is `StoreError.unavailable` (the API answers 503) and marks the store
    /// unavailable until a transaction succeeds again.
    func transaction<T: Sendable>(
        durable: Bool = false, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { writeSeconds.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started)) }
        do {
            let result = try await withDeadline {
                try await self.client.withTransaction(logger: self.logger) { connection -> T in
                    // Explicit either way: the server's own default may be either.
                    try await connection.query(
                        durable ? "SET LOCAL synchronous_commit = on" : "SET LOCAL synchronous_commit = off",
                        logger: self.logger)
                    return try await body(connection)
                }
            }
            recovered()
            commits.committed()
            return result
        } catch let error as PostgresTransactionError {
            throw mapped(error.closureError ?? error.beginError ?? error.commitError ?? error)
        } catch {
            throw mapped(error)
        }
    }

    /// One read outside a transaction.
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            let result = try await withDeadline { try await self.client.withConnection { try await body($0) } }
            recovered()
            return result
        } catch {
            throw mapped(error)
        }
    }

    /// `operation`, or `StoreError.unavailable` once `deadline` has passed. The operation is then
    /// cancelled but not waited for: a statement stuck on a connection the server dropped must not
    /// hold its caller (the engine's pass, an API request). If it commits after all, what it did is
    /// safe to repeat: a result is recorded once (its attempt number), and a claim nobody received
    /// runs out its lease and is rescued.
    func withDeadline<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let (location, deadline, refusal) = (self.location, self.deadline, self.refusal)
        // A server that refuses connections gets no call to wait for it.
        if let reason = refusal.current { throw StoreError(.unavailable, reason) }
        let answered = NIOLockedValueBox(false)
        let running = NIOLockedValueBox<Task<Void, Never>?>(nil)
        /// True for the first of the two to finish.
        let first: @Sendable () -> Bool = {
            answered.withLockedValue { done in
                defer { done = true }
                return !done
            }
        }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let watcher = Task {
                // The deadline, or the news that the server refuses connections, whichever is first.
                let end = ContinuousClock.now + deadline
                var reason = "no answer from PostgreSQL at \(location) within \(deadline)"
                while ContinuousClock.now < end {
                    do {
                        try await Task.sleep(for: min(Self.refusalPoll, end - ContinuousClock.now))
                    } catch { return }
                    if let refused = refusal.current {
                        reason = refused
                        break
                    }
                }
                guard first() else { return }
                running.withLockedValue { $0?.cancel() }
                continuation.resume(throwing: StoreError(.unavailable, reason))
            }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                watcher.cancel()
                if first() { continuation.resume(with: result) }
            }
            running.withLockedValue { $0 = work }
        }
    }

    /// How often a call waiting for PostgreSQL looks whether the server was found to refuse.
    static let refusalPoll = Duration.milliseconds(100)

    /// A store error for `error`: one of ours as it is; a connection failure marks the store
    /// unavailable (logged once per episode).
    func mapped(_ error: any Error) -> any Error {
        if error is CancellationError { return error }
        if let error = error as? StoreError, error.code != .unavailable { return error }
        if let error = error as? PSQLError, error.code == .server {
            return StoreError(.postgres, error.serverInfo?[.message] ?? "\(error)")
        }
        let reason = (error as? StoreError)?.message ?? Self.describe(error, at: location).message
        let began = healthState.withLockedValue { health -> Bool in
            if case .unavailable = health { return false }
            health = .unavailable(since: WallClock.nowMillis(), reason: reason)
            return true
        }
        if began {
            logger.error(
                "the database cannot be reached: the API answers 503 until it is back",
                metadata: ["error": "\(reason)"])
        }
        return StoreError(.unavailable, reason)
    }

    private func recovered() {
        let ended = healthState.withLockedValue { health -> Bool in
            guard case .unavailable = health else { return false }
            health = .ok
            return true
        }
        if ended { logger.notice("the database is reachable again") }
    }

    /// A new ULID, from this node's generator.
    func nextID(millis: Int64) -> String { ids.withLockedValue { $0.next(millis: millis) } }

    /// A new delivery id (`msg_` and a ULID), from the same generator.
    func nextDeliveryID(millis: Int64) -> String {
        ids.withLockedValue { DeliveryID.next(millis: millis, using: &$0).rawValue }
    }

    // MARK: Wake-ups

    /// Tells every node (this one too) that work may be due; part of the caller's transaction, so
    /// it is sent only if the transaction commits.
    static func notifyWork(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_notify('fetchq_work', '')", logger: logger)
    }

    /// `LISTEN fetchq_work` on a connection of its own until it closes, reconnecting at once (and
    /// then every `refusalPoll × 5`, or every second while the server is slow); cancelling closes
    /// the connection. Its connects tell whether the server refuses connections (`ServerRefusal`).
    private func listenLoop() async {
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        var id = 0
        while !Task.isCancelled {
            id += 1
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
            } catch {
                if Task.isCancelled { return }
                if ServerRefusal.isRefusal(error) {
                    let reason = "PostgreSQL at \(location) refuses connections"
                    refusal.refused(reason)
                    _ = mapped(StoreError(.unavailable, reason))
                }
                logger.debug("LISTEN fetchq_work failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: refusal.current == nil ? .seconds(1) : Self.refusalPoll * 5)
                continue
            }
            refusal.accepted()
            let opened = ContinuousClock.now
            // The callback form, not `listen(on:)`'s sequence: a sequence whose connection closes
            // may leave its continuation (and the task awaiting it) behind for good, which
            // LeakSanitizer reported. Here the task awaits the connection's close.
            let work = self.work
            connection.addListener(channel: "fetchq_work") { _, _ in work.yield() }
            try? await withTaskCancellationHandler {
                try await connection.closeFuture.get()
            } onCancel: {
                let closing: EventLoopFuture<Void> = connection.close()
                closing.whenComplete { _ in }
            }
            // Closed by the server: the next connect, at once, tells whether it is still there
            // (after a pause if the connection did not last, so that no loop spins).
            if ContinuousClock.now - opened < .seconds(1) { try? await Task.sleep(for: Self.refusalPoll) }
        }
    }
}
