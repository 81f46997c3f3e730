import LocalityCore

/// One member in the local view. The fields of `MemberState` are stored flat (80 bytes a
/// record instead of 88) because every member holds one record per member: at 10,000
/// members that is 10^8 records across a simulated cluster.
struct MemberRecord: Sendable {
    private var name: String
    private var uid: UInt64
    private var host: String
    private var port: Int
    var incarnation: UInt64
    /// When `status` last changed (reaping counts from here).
    var changedAt: Timestamp
    var metadata: [UInt8]
    /// Position in `MemberTable.live`, `MemberRecord.notLive` when dead or left,
    /// `MemberRecord.free` for a free slot.
    var liveIndex: Int32
    var status: MemberStatus

    static let notLive: Int32 = -1
    static let free: Int32 = -2

    init(state: MemberState, changedAt: Timestamp) {
        name = state.id.name
        uid = state.id.uid
        host = state.address.host
        port = state.address.port
        incarnation = state.incarnation
        self.changedAt = changedAt
        metadata = state.metadata
        liveIndex = Self.notLive
        status = state.status
    }

    var id: NodeID { NodeID(name: name, uid: uid) }
    var address: NodeAddress { NodeAddress(host: host, port: port) }
    /// False for a free slot.
    var occupied: Bool { liveIndex != Self.free }

    /// True when this record is about `id` (uid compared first: it is cheaper).
    func holds(_ id: NodeID) -> Bool { uid == id.uid && name == id.name }

    var state: MemberState {
        get { MemberState(id: id, address: address, incarnation: incarnation, status: status, metadata: metadata) }
        set {
            name = newValue.id.name
            uid = newValue.id.uid
            host = newValue.address.host
            port = newValue.address.port
            incarnation = newValue.incarnation
            status = newValue.status
            metadata = newValue.metadata
        }
    }
}
