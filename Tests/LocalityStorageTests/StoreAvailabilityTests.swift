import Foundation
import LocalityCore
import Logging
import Synchronization
import Testing
@testable import LocalityStorage

/// A backend that can hang or fail on demand, around a memory store.
private final class FlakyStore: StateStore {
    enum Mode { case healthy, hanging, failing, unavailable }
    let inner = MemoryStateStore()
    let mode = Mutex(Mode.healthy)
    let calls = Atomic<Int>(0)

    struct ConnectionRefused: Error {}

    private func gate() async throws {
        calls.add(1, ordering: .relaxed)
        switch mode.withLock({ $0 }) {
        case .healthy: return
        case .failing: throw ConnectionRefused()
        case .unavailable: throw LocalityError(.unavailable, "postgres store: connection closed")
        case .hanging: try await Task.sleep(for: .seconds(30))
        }
    }

    func read(_ key: StateKey) async throws -> VersionedValue {
        try await gate()
        return try await inner.read(key)
    }

    func write(_ key: StateKey, value: [UInt8], ifMatch: ETag) async throws -> ETag {
        try await gate()
        return try await inner.write(key, value: value, ifMatch: ifMatch)
    }

    func delete(_ key: StateKey, ifMatch: ETag) async throws -> ETag {
        try await gate()
        return try await inner.delete(key, ifMatch: ifMatch)
    }

    func close() async throws {}
}

@Suite struct StoreAvailabilityTests {
    static let key = StateKey(kind: "counter", id: "a")

    private func guarded(_ backend: FlakyStore) -> StoreAvailability {
        var settings = StoreAvailability.Settings()
        settings.operationTimeout = .milliseconds(200)
        settings.probeInitialBackoff = .milliseconds(20)
        settings.probeMaxBackoff = .milliseconds(100)
        return StoreAvailability(backend, settings: settings, logger: Logger(label: "test"))
    }

    @Test func aHangingBackendFailsTheWriteWithinTheTimeoutThenEveryCallFailsFast() async throws {
        let backend = FlakyStore()
        let store = guarded(backend)
        backend.mode.withLock { $0 = .hanging }
        do {
            _ = try await store.write(Self.key, value: [1], ifMatch: .absent)
            Issue.record("a write to a hanging backend succeeded")
        } catch let error as LocalityError {
            // Handed to the backend: it may commit yet.
            #expect(error.code == .outcomeUnknown)
        }
        // The next write is refused without reaching the backend.
        let reached = backend.calls.load(ordering: .relaxed)
        do {
            _ = try await store.write(Self.key, value: [1], ifMatch: .absent)
            Issue.record("a write to a store known down succeeded")
        } catch let error as LocalityError {
            #expect(error.code == .storageUnavailable)
        }
        #expect(!store.isAvailable)
        // While down, reads and writes do not reach the backend (beyond the probes).
        let before = backend.calls.load(ordering: .relaxed)
        #expect(before - reached <= 2, "the refused write reached the backend")
        for _ in 0..<50 {
            do { _ = try await store.read(Self.key) } catch let error as LocalityError { #expect(error.code == .storageUnavailable) }
        }
        #expect(backend.calls.load(ordering: .relaxed) - before < 10)
    }

    @Test func serviceResumesByItselfWhenTheBackendAnswersAgain() async throws {
        let backend = FlakyStore()
        let store = guarded(backend)
        backend.mode.withLock { $0 = .failing }
        do {
            _ = try await store.read(Self.key)
            Issue.record("a read reached a failing backend and succeeded")
        } catch let error as LocalityError {
            #expect(error.code == .storageUnavailable)
        }
        #expect(!store.isAvailable)
        backend.mode.withLock { $0 = .healthy }
        let start = ContinuousClock.now
        while !store.isAvailable, ContinuousClock.now - start < .seconds(2) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(store.isAvailable, "the probe never saw the backend again")
        #expect(try await store.write(Self.key, value: [2], ifMatch: .absent) == ETag(1))
        // Nothing the failing write attempted was stored.
        #expect(try await store.read(Self.key).value == [2])
    }

    @Test func aBackendsOwnUnavailableMarksTheStoreDownAndAWriteOutcomeUnknown() async throws {
        let backend = FlakyStore()
        let store = guarded(backend)
        backend.mode.withLock { $0 = .unavailable }
        do {
            _ = try await store.write(Self.key, value: [1], ifMatch: .absent)
            Issue.record("a write to an unavailable backend succeeded")
        } catch let error as LocalityError {
            #expect(error.code == .outcomeUnknown)
        }
        #expect(!store.isAvailable)
    }

    @Test func theProbeKeepsTheStoreDownWhenItAnswersWithAnotherIdentity() async throws {
        let backend = FlakyStore()
        let store = guarded(backend)
        let identity = try await StoreIdentity.establish(in: store)
        store.expectIdentity(identity)
        backend.mode.withLock { $0 = .failing }
        _ = try? await store.read(Self.key)
        #expect(!store.isAvailable)
        // The backend comes back as another database.
        _ = try await backend.inner.write(StoreIdentity.key, value: Array("another".utf8), ifMatch: ETag(1))
        backend.mode.withLock { $0 = .healthy }
        try await Task.sleep(for: .milliseconds(400))
        #expect(!store.isAvailable, "the store came back up on another database")
        _ = try await backend.inner.write(StoreIdentity.key, value: Array(identity.utf8), ifMatch: ETag(2))
        let start = ContinuousClock.now
        while !store.isAvailable, ContinuousClock.now - start < .seconds(5) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(store.isAvailable)
    }

    @Test func aConflictPassesThroughAndKeepsTheStoreUp() async throws {
        let store = guarded(FlakyStore())
        _ = try await store.write(Self.key, value: [1], ifMatch: .absent)
        do {
            _ = try await store.write(Self.key, value: [2], ifMatch: .absent)
            Issue.record("a stale etag was accepted")
        } catch let error as LocalityError {
            #expect(error.code == .conflict)
        }
        #expect(store.isAvailable)
    }
}
