/// The targets and loads `bench gateway` measures, in the order they run.
enum GatewaySetup: String, CaseIterable, Sendable {
    case bare
    case readMemory = "read_memory"
    case writeMemory = "write_memory"
    case writeSQLite = "write_sqlite"
    case readSQLite1 = "read_sqlite1"
    /// Three nodes, every call sent to node 1 (two thirds forwarded).
    case cluster3Read = "cluster3_read"
    /// The same three nodes, every call sent to its key's owner (one wrk per node).
    case cluster3Direct = "cluster3_direct"

    var call: WrkLoad.Call {
        switch self {
        case .bare, .readMemory, .readSQLite1, .cluster3Read, .cluster3Direct: .value
        case .writeMemory, .writeSQLite: .increment
        }
    }

    var nodes: Int {
        switch self {
        case .bare: 0
        case .cluster3Read, .cluster3Direct: 3
        default: 1
        }
    }

    /// Whether the load goes to each key's owner (one wrk per node) rather than to node 1.
    var callsOwners: Bool { self == .cluster3Direct }

    /// The `--store` of its nodes (`directory` is the run's temporary directory).
    func store(directory: String) -> String? {
        switch self {
        case .bare: nil
        case .readMemory, .writeMemory: "memory"
        case .writeSQLite, .readSQLite1, .cluster3Read, .cluster3Direct: "sqlite:\(directory)/\(rawValue).sqlite"
        }
    }

    var storeKind: String {
        switch self {
        case .bare: "none"
        case .readMemory, .writeMemory: "memory"
        case .writeSQLite, .readSQLite1: "sqlite"
        case .cluster3Read, .cluster3Direct: "sqlite (one file, 3 nodes)"
        }
    }

    /// The one-line description of every setup, for `--help`.
    static let overview = """
        bare: the bare Hummingbird route; read_memory / write_memory: one node on the memory \
        store, counter value / increment; write_sqlite: one node on SQLite, increment; \
        read_sqlite1: one node on SQLite, value; cluster3_read: three nodes on one SQLite \
        file, value, all load sent to node 1 (two thirds of the keys are owned by the \
        others, so about two thirds of the calls are forwarded); cluster3_direct: the same \
        three nodes, value, each call sent to its key's owner (learned from Locality-Owner), \
        one wrk per node, so about none is forwarded.
        """
}
