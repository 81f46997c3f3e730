import Distributed
import LocalityActors
import LocalityCore

/// The statistics of one player of an online game, as a virtual actor: every finished
/// match is recorded on the player's actor, which persists its totals.
///
/// `recordMatch` writes through (the call returns after the store committed), so an
/// acknowledged match is never lost; reads are served from memory.
public distributed actor PlayerStats: VirtualActor {
    public typealias ActorSystem = ClusterSystem

    /// What is persisted per player.
    public struct Totals: Codable, Sendable, Equatable {
        public var matches = 0
        public var wins = 0
        public var points = 0
        public var bestMatch = 0
        /// Points of the most recent matches, newest last; at most `Totals.recentLimit`.
        public var recent: [Int] = []

        public static let recentLimit = 10

        public init() {}
    }

    /// A match result that cannot be recorded.
    public enum MatchError: Error, Codable, Equatable {
        case negativePoints(Int)
    }

    private let totals: PersistentState<Totals>

    /// The kind name under which `register(on:)` registers players.
    public static let kind = "player"

    public init(actorSystem: ClusterSystem, id: VirtualActorID) {
        self.actorSystem = actorSystem
        self.totals = PersistentState(id: id, system: actorSystem, initial: Totals())
    }

    /// Registers the kind and its error type with `system`.
    public static func register(on system: ClusterSystem) throws {
        try system.register(PlayerStats.self, kind: kind) { id, system in PlayerStats(actorSystem: system, id: id) }
        system.allowRemoteError(MatchError.self, name: "PlayerStats.MatchError")
    }

    public func onActivate() async throws {
        try await totals.read()
    }

    /// Records one finished match; returns the updated totals once they are stored.
    public distributed func recordMatch(points: Int, won: Bool) async throws -> Totals {
        guard points >= 0 else { throw MatchError.negativePoints(points) }
        return try await totals.update { next in
            next.matches += 1
            next.wins += won ? 1 : 0
            next.points += points
            next.bestMatch = max(next.bestMatch, points)
            next.recent.append(points)
            if next.recent.count > Totals.recentLimit { next.recent.removeFirst(next.recent.count - Totals.recentLimit) }
            return next
        }
    }

    /// The totals in memory.
    public distributed func current() -> Totals {
        totals.value
    }

    /// Share of matches won, 0 when none was played.
    public distributed func winRate() -> Double {
        let value = totals.value
        return value.matches == 0 ? 0 : Double(value.wins) / Double(value.matches)
    }

    /// Forgets the player's statistics (store and memory).
    public distributed func reset() async throws {
        try await totals.clear()
    }
}
