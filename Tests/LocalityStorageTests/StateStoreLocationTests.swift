import LocalityCore
import Testing
@testable import LocalityStorage

@Suite("StateStoreLocation")
struct StateStoreLocationTests {
    @Test("memory, sqlite:PATH and bare .sqlite/.db paths")
    func parsesLocalForms() throws {
        #expect(try StateStoreLocation(parsing: "memory") == .memory)
        #expect(try StateStoreLocation(parsing: "sqlite:/var/lib/x.bin") == .sqlite(path: "/var/lib/x.bin"))
        #expect(try StateStoreLocation(parsing: "state.sqlite") == .sqlite(path: "state.sqlite"))
        #expect(try StateStoreLocation(parsing: "/tmp/a/state.db") == .sqlite(path: "/tmp/a/state.db"))
    }

    @Test("postgres URL: user, percent-encoded password, host, port, database, table")
    func parsesPostgres() throws {
        let location = try StateStoreLocation(parsing: "postgres://app:p%40ss@db.local:6543/prod?table=player_state")
        #expect(location == .postgres(PostgresStoreLocation(
            host: "db.local", port: 6543, username: "app", password: "p@ss", database: "prod", table: "player_state"
        )))
        #expect(location.description == "postgres://app@db.local:6543/prod?table=player_state")
        let defaults = try PostgresStoreLocation(url: "postgresql://app@127.0.0.1")
        #expect(defaults == PostgresStoreLocation(host: "127.0.0.1", port: 5432, username: "app", password: nil, database: nil))
    }

    @Test("bad locations are refused with bad_request, without echoing the password",
          arguments: ["", "mysql://a:b@h/db", "sqlite:", "postgres://h/db", "postgres://u:secret@h/db?table=Bad-Name",
                      "postgres://u:secret@h/db?sslmode=require", "state.txt"])
    func refusesBadLocations(text: String) {
        do {
            _ = try StateStoreLocation(parsing: text)
            Issue.record("'\(text)' was accepted")
        } catch let error as LocalityError {
            #expect(error.code == .badRequest)
            #expect(!error.message.contains("secret"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("open gives a working store for each form; close releases it")
    func opensEachForm() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let postgres = try PostgresTestServer.freshLocation("location")
        let locations: [StateStoreLocation] = [
            .memory, try StateStoreLocation(parsing: directory.file("state.db")), .postgres(postgres),
        ]
        for location in locations {
            let store = try await location.open(logger: PostgresTestServer.quietLogger)
            let key = StateKey(kind: "k", id: "1")
            #expect(try await store.write(key, value: [1], ifMatch: .absent) == ETag(1), "\(location)")
            #expect(try await store.read(key) == VersionedValue(value: [1], etag: ETag(1)), "\(location)")
            try await store.close()
        }
        await PostgresTestServer.dropTable(of: postgres)
    }
}
