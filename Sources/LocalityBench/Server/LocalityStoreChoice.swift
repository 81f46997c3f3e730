import LocalityCore
import LocalityStorage
import PostgresNIO

extension BenchServer {
    /// Whether the locality system `system` keeps its state in PostgreSQL: always for
    /// `locality-pg`; for `locality` when `localityStore` says postgres, or auto with a URL.
    public static func localityUsesPostgres(system: BenchSystem, localityStore: LocalityStore, postgresURL: String?) -> Bool {
        system == .localityPostgres || localityStore == .postgres || (localityStore == .auto && postgresURL != nil)
    }

    /// The PostgreSQL store location of the locality systems on the server at
    /// `postgresURL`: table `actorStateTable`, dropped first so every run starts empty.
    public static func freshActorStateLocation(postgresURL: String?) async throws -> PostgresStoreLocation {
        guard let postgresURL else { throw LocalityError(.badRequest, "set LOCALITY_POSTGRES_URL for the postgres store") }
        let url = try PostgresURL(postgresURL)
        try await PostgresAdmin.execute(["DROP TABLE IF EXISTS \(unescaped: actorStateTable)"], url: url)
        return PostgresStoreLocation(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database, table: actorStateTable)
    }
}
