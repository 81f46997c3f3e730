import LocalityCore
import Logging
import NIOCore
import PostgresNIO

/// One change for `PostgresBatchStatement`: a write (value set) or a delete (value nil).
struct PostgresChange: Sendable {
    var key: StateKey
    /// nil for a delete.
    var value: [UInt8]?
    var ifMatch: ETag
}

/// Applies many changes of distinct keys in ONE SQL statement (one round trip), with the
/// same version rules as `SQLiteStateStore` (a single change runs as a plain INSERT or
/// UPDATE with the same rules):
/// - write, `ifMatch == .absent`: insert with etag 1 unless the key has a row (a tombstone
///   counts), else conflict;
/// - write or delete, `ifMatch > 0`: update where the stored etag equals `ifMatch`, raising
///   it by one (a delete stores NULL), else conflict;
/// - delete, `ifMatch == .absent`: a no-op returning `.absent` when the key has no row,
///   else conflict.
///
/// Each change is judged on its own: a stale etag refuses that change and no other.
/// The keys of one statement must be distinct (see `rounds(of:)`): a data-modifying CTE
/// sees the table as it was before the statement, so two changes of one key in the same
/// statement could not see each other.
enum PostgresBatchStatement {
    /// Splits changes into rounds of distinct keys, keeping the arrival order of the
    /// changes of each key (the n-th change of a key goes to round n). Returns indices.
    static func rounds(of changes: [PostgresChange]) -> [[Int]] {
        var rounds: [[Int]] = []
        var seen: [StateKey: Int] = [:]
        for (index, change) in changes.enumerated() {
            let round = seen[change.key, default: 0]
            seen[change.key] = round + 1
            if round == rounds.count { rounds.append([]) }
            rounds[round].append(index)
        }
        return rounds
    }

    /// Runs one round (distinct keys) on `connection`; returns the new version of each
    /// change in order, nil where the change was refused as a conflict.
    static func apply(
        _ changes: [PostgresChange], table: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> [ETag?] {
        if changes.count == 1 {
            return [try await applyOne(changes[0], table: table, on: connection, logger: logger)]
        }
        let rows = try await connection.query(query(changes, table: table), logger: logger)
        var outcomes = [ETag?](repeating: nil, count: changes.count)
        for try await (ordinal, etag) in rows.decode((Int64, Int64?).self) {
            let index = Int(ordinal) - 1
            guard outcomes.indices.contains(index) else {
                throw LocalityError(.internal, "postgres batch returned ordinal \(ordinal) for \(changes.count) changes")
            }
            outcomes[index] = etag.map(ETag.init)
        }
        return outcomes
    }

    /// One change on its own: a plain INSERT or UPDATE, cheaper to plan than the batch
    /// statement (the path of every write when writes do not overlap).
    static func applyOne(
        _ change: PostgresChange, table: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> ETag? {
        let (kind, id) = (change.key.kind, change.key.id)
        let query: PostgresQuery
        switch (change.value, change.ifMatch == .absent) {
        case (let value?, true):
            query = """
                INSERT INTO \(unescaped: table) (kind, id, value, etag) VALUES (\(kind), \(id), \(ByteBuffer(bytes: value)), 1)
                ON CONFLICT (kind, id) DO NOTHING RETURNING etag
                """
        case (let value?, false):
            query = """
                UPDATE \(unescaped: table) SET value = \(ByteBuffer(bytes: value)), etag = etag + 1
                WHERE kind = \(kind) AND id = \(id) AND etag = \(change.ifMatch.rawValue) RETURNING etag
                """
        case (nil, true):
            let rows = try await connection.query(
                "SELECT etag FROM \(unescaped: table) WHERE kind = \(kind) AND id = \(id)", logger: logger
            )
            for try await _ in rows { return nil }
            return .absent
        case (nil, false):
            query = """
                UPDATE \(unescaped: table) SET value = NULL, etag = etag + 1
                WHERE kind = \(kind) AND id = \(id) AND etag = \(change.ifMatch.rawValue) RETURNING etag
                """
        }
        let rows = try await connection.query(query, logger: logger)
        for try await etag in rows.decode(Int64.self) { return ETag(etag) }
        return nil
    }

    static func query(_ changes: [PostgresChange], table: String) -> PostgresQuery {
        let kinds = changes.map(\.key.kind)
        let ids = changes.map(\.key.id)
        let values = changes.map { ByteBuffer(bytes: $0.value ?? []) }
        let ifMatches = changes.map(\.ifMatch.rawValue)
        let deletes = changes.map { $0.value == nil }
        return """
            WITH input AS (
                SELECT * FROM unnest(\(kinds)::text[], \(ids)::text[], \(values)::bytea[], \(ifMatches)::int8[], \(deletes)::bool[])
                    WITH ORDINALITY AS t(kind, id, value, if_match, is_delete, ord)
            ),
            inserted AS (
                INSERT INTO \(unescaped: table) (kind, id, value, etag)
                SELECT kind, id, value, 1 FROM input WHERE if_match = 0 AND NOT is_delete
                ON CONFLICT (kind, id) DO NOTHING
                RETURNING kind, id, etag
            ),
            updated AS (
                UPDATE \(unescaped: table) AS s
                SET value = CASE WHEN i.is_delete THEN NULL ELSE i.value END, etag = s.etag + 1
                FROM input AS i
                WHERE s.kind = i.kind AND s.id = i.id AND i.if_match <> 0 AND s.etag = i.if_match
                RETURNING s.kind, s.id, s.etag
            )
            SELECT i.ord, COALESCE(
                ins.etag, upd.etag,
                CASE WHEN i.is_delete AND i.if_match = 0 AND s.kind IS NULL THEN 0::int8 END
            )::int8 AS etag
            FROM input AS i
            LEFT JOIN inserted AS ins ON i.if_match = 0 AND NOT i.is_delete AND ins.kind = i.kind AND ins.id = i.id
            LEFT JOIN updated AS upd ON i.if_match <> 0 AND upd.kind = i.kind AND upd.id = i.id
            LEFT JOIN \(unescaped: table) AS s ON s.kind = i.kind AND s.id = i.id
            ORDER BY i.ord
            """
    }

    /// The table's DDL (idempotent).
    static func createTable(_ table: String) -> PostgresQuery {
        """
        CREATE TABLE IF NOT EXISTS \(unescaped: table) (
            kind text NOT NULL, id text NOT NULL, value bytea, etag bigint NOT NULL,
            PRIMARY KEY (kind, id)
        )
        """
    }

    /// True for a plain lower-case SQL identifier that needs no quoting.
    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63 else { return false }
        let isLetter = { (byte: UInt8) in (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || byte == UInt8(ascii: "_") }
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        return isLetter(first) && name.utf8.allSatisfy { isLetter($0) || isDigit($0) }
    }
}
