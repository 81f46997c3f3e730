import LocalityCore
import Testing

@testable import LocalityMembership

@Suite("MemberTable id index")
struct MemberTableTests {
    private func state(_ i: Int, uid: UInt64) -> MemberState {
        MemberState(
            id: NodeID(name: "m\(i)", uid: uid), address: NodeAddress(host: "10.0.0.\(i % 250)", port: 7000 + i),
            incarnation: UInt64(i), status: i % 3 == 0 ? .dead : .alive, metadata: i % 5 == 0 ? [UInt8(i % 256)] : [])
    }

    @Test("lookups agree with a dictionary through inserts, removals and slot reuse")
    func agreesWithDictionary() {
        var random = SeededRandom(seed: 7)
        var table = MemberTable(capacity: 400)
        var model: [NodeID: MemberState] = [:]
        // Few distinct uids so that many ids share hash prefixes and probe runs get long.
        for round in 0..<6 {
            for i in 0..<120 {
                let member = state(round * 1_000 + i, uid: random.next() % 4)
                guard model[member.id] == nil, table.insert(member, now: .zero) != nil else { continue }
                model[member.id] = member
            }
            for id in model.keys.sorted() where random.next() % 2 == 0 {
                let slot = table.slot(of: id)
                #expect(slot != nil)
                if let slot { table.remove(slot) }
                model.removeValue(forKey: id)
            }
            #expect(table.count == model.count)
            for (id, member) in model {
                #expect(table.record(id)?.state == member)
            }
            #expect(table.slot(of: NodeID(name: "absent", uid: 1)) == nil)
            let live = Set(model.values.filter { $0.status == .alive }.map(\.id))
            #expect(Set(table.live.map { table[$0].id }) == live)
        }
    }

    @Test("refuses members above capacity")
    func boundedByCapacity() {
        var table = MemberTable(capacity: 3)
        for i in 0..<3 { #expect(table.insert(state(i, uid: 1), now: .zero) != nil) }
        #expect(table.insert(state(9, uid: 1), now: .zero) == nil)
        #expect(table.count == 3)
    }
}
