/// The state of one key in the stateful benchmark: a game session's running score.
///
/// A write ("move") adds `delta` points and counts one move; a read only derives the
/// view. Every implementation (actors, PostgreSQL, Redis) keeps exactly these two
/// numbers, so the final `score` of a key must equal the sum of the acknowledged deltas.
public struct SessionState: Codable, Sendable, Equatable {
    /// Sum of the deltas of every applied move.
    public var score: Int64
    /// Number of applied moves.
    public var moves: Int64

    public init(score: Int64 = 0, moves: Int64 = 0) {
        self.score = score
        self.moves = moves
    }

    /// The state after one move of `delta` points.
    public func applying(delta: Int64) -> SessionState {
        SessionState(score: score + delta, moves: moves + 1)
    }
}

/// What every route answers: the state plus values derived from it.
public struct SessionView: Codable, Sendable, Equatable {
    public var key: String
    public var score: Int64
    public var moves: Int64
    /// Mean points per move (0 before the first move).
    public var average: Double
    /// 1 + score / 100: the "level" a game would show.
    public var level: Int64

    public init(key: String, state: SessionState) {
        self.key = key
        self.score = state.score
        self.moves = state.moves
        self.average = state.moves == 0 ? 0 : Double(state.score) / Double(state.moves)
        self.level = 1 + state.score / 100
    }

    /// The state this view was derived from.
    public var state: SessionState { SessionState(score: score, moves: moves) }
}

/// The body of a move request.
public struct MoveRequest: Codable, Sendable, Equatable {
    public var delta: Int64

    public init(delta: Int64) {
        self.delta = delta
    }

    /// Largest accepted |delta|.
    public static let maxDelta: Int64 = 1_000_000
}
