import NIOCore
import SQLiteNIO

/// One SQL statement that applies a whole group-commit batch to `actor_state`, with each
/// change's etag check, and returns the rows it changed.
///
/// Each change becomes a row `(kind, id, value, ifMatch + 1)` of a `VALUES` list (a delete
/// is a tombstone: value NULL). The row is inserted when the key is new and the change
/// expects it absent (`ifMatch + 1 = 1`), or it updates the stored row when that row's
/// etag is `ifMatch`; a change expecting a version of a missing key is filtered out.
/// `RETURNING` names the rows written, so a change whose key is missing from the answer
/// lost its check (`conflict`). Keys must be distinct within a batch.
struct SQLiteBatchStatement {
    let sql: String
    let binds: [SQLiteData]

    init(_ changes: [(key: StateKey, value: [UInt8]?, ifMatch: ETag)]) {
        var rows: [String] = []
        rows.reserveCapacity(changes.count)
        var binds: [SQLiteData] = []
        binds.reserveCapacity(changes.count * 4)
        for (index, change) in changes.enumerated() {
            let first = index * 4 + 1
            rows.append("(?\(first), ?\(first + 1), ?\(first + 2), ?\(first + 3))")
            binds.append(.text(change.key.kind))
            binds.append(.text(change.key.id))
            binds.append(change.value.map { .blob(ByteBuffer(bytes: $0)) } ?? .null)
            binds.append(.integer(Int(change.ifMatch.rawValue) + 1))
        }
        sql = """
            INSERT INTO actor_state (kind, id, value, etag)
            SELECT v.column1, v.column2, v.column3, v.column4 FROM (VALUES \(rows.joined(separator: ", "))) AS v
            WHERE v.column4 = 1 OR EXISTS (SELECT 1 FROM actor_state AS s WHERE s.kind = v.column1 AND s.id = v.column2)
            ON CONFLICT (kind, id) DO UPDATE SET value = excluded.value, etag = excluded.etag
            WHERE actor_state.etag = excluded.etag - 1
            RETURNING kind, id, etag
            """
        self.binds = binds
    }
}
