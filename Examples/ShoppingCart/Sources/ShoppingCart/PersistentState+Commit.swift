import LocalityActors

extension PersistentState {
    /// Makes `next` the value and returns once the store committed it; if the write
    /// fails, the value in memory goes back to what it was (what the store holds).
    func commit(_ next: Value) async throws {
        let previous = value
        value = next
        do {
            try await write()
        } catch {
            value = previous
            throw error
        }
    }
}
