import HeapModule
import LocalityCore
import LocalityPlacement

/// One request a simulated node drives through the directory: activate a key (resolve
/// through the cache or the partition owner, activate locally if nobody has it, register,
/// call), or re-register a hosted activation after its partition owner changed.
struct DirectoryOperation: Sendable {
    enum Purpose: Sendable {
        case activate(DirectorySimPhase)
        case reRegister
    }

    enum Step: Sendable {
        case lookup
        case register(ActivationAddress)
        case unregister(ActivationAddress)
        case call(ActivationAddress)
    }

    var key: String
    var purpose: Purpose
    var step: Step
    /// Messages sent so far (each send is a new attempt; replies to old attempts are ignored).
    var attempt = 0
    /// Failed attempts (refusals, timeouts, lost deliveries).
    var failures = 0
    /// Directory lookup messages sent to other nodes.
    var lookupHops = 0
    /// `not_owner` hints followed since the last retry.
    var redirects = 0
    var awaitingReply = false
    /// Whether the address being called came from the directory (then a stale one is unregistered).
    var addressFromDirectory = false

    init(key: String, purpose: Purpose, step: Step) {
        self.key = key
        self.purpose = purpose
        self.step = step
    }
}

/// A timeout or a retry of one operation attempt.
struct OperationTimer: Comparable, Sendable {
    var time: Int64
    var sequence: UInt64
    var operation: UInt64
    var attempt: Int
    var isTimeout: Bool

    static func < (lhs: OperationTimer, rhs: OperationTimer) -> Bool { (lhs.time, lhs.sequence) < (rhs.time, rhs.sequence) }
    static func == (lhs: OperationTimer, rhs: OperationTimer) -> Bool { lhs.sequence == rhs.sequence }
}

extension DirectorySimNode {
    /// Attempts are numbered in the low 12 bits of a message id.
    static let attemptBits: UInt64 = 12
    static let maxAttemptNumber = 4000
    /// `not_owner` hints followed before falling back to a retry from the own view.
    static let maxRedirects = 2

    mutating func startActivation(key: String, phase: DirectorySimPhase, now: Timestamp, into effects: inout [Effect]) {
        var operation = DirectoryOperation(key: key, purpose: .activate(phase), step: .lookup)
        if let cached = cache.address(of: key) {
            stats.cacheHits += 1
            operation.step = .call(cached)
        }
        startOperation(operation, now: now, into: &effects)
    }

    mutating func startOperation(_ operation: DirectoryOperation, now: Timestamp, into effects: inout [Effect]) {
        guard operations.count < settings.maxPendingOperations else {
            stats.rejectedOverload += 1
            return
        }
        var operation = operation
        if case .reRegister = operation.purpose {
            guard let epoch = activations[operation.key] else { return }
            operation.step = .register(ActivationAddress(node: id, epoch: epoch))
        }
        let operationID = nextOperation
        nextOperation += 1
        operations[operationID] = operation
        sendStep(operationID, to: nil, now: now, into: &effects)
    }

    /// Sends the current step of an operation to its target (the partition owner in this
    /// node's view, or `hint`), or serves it locally when the target is this node.
    mutating func sendStep(_ operationID: UInt64, to hint: NodeID?, now: Timestamp, into effects: inout [Effect]) {
        guard var operation = operations[operationID] else { return }
        operation.attempt += 1
        if operation.attempt > Self.maxAttemptNumber {
            abandon(operationID)
            return
        }
        let key = operation.key
        let messageID = (operationID << Self.attemptBits) | UInt64(operation.attempt)
        let request: DirectoryRequest
        switch operation.step {
        case .call(let address):
            if address.node == id {
                operations[operationID] = operation
                handleCallResult(operationID, active: activations[key] == address.epoch, now: now, into: &effects)
                return
            }
            guard let target = indexOf[address.node] else {
                operations[operationID] = operation
                handleCallResult(operationID, active: false, now: now, into: &effects)
                return
            }
            operation.awaitingReply = true
            operations[operationID] = operation
            send(.call(id: messageID, key: key, address: address), to: target, into: &effects)
            scheduleTimer(operationID, attempt: operation.attempt, at: now + settings.requestTimeout, isTimeout: true)
            return
        case .lookup:
            request = .lookup(key: key)
        case .register(let address):
            guard activations[key] == address.epoch else {
                // Deactivated meanwhile (a conflict notice): start over, or stop re-registering.
                if case .reRegister = operation.purpose {
                    operations[operationID] = nil
                    return
                }
                operation.step = .lookup
                operations[operationID] = operation
                sendStep(operationID, to: nil, now: now, into: &effects)
                return
            }
            request = .register(key: key, address: address)
        case .unregister(let address):
            request = .unregister(key: key, address: address)
        }
        guard let owner = hint ?? directory.owner(of: key), let target = indexOf[owner] else {
            operations[operationID] = operation
            retryLater(operationID, now: now)
            return
        }
        if owner == id {
            operations[operationID] = operation
            handleReply(operationID, directory.handle(request), now: now, into: &effects)
            return
        }
        if case .lookup = operation.step { operation.lookupHops += 1 }
        operation.awaitingReply = true
        operations[operationID] = operation
        send(.request(id: messageID, request), to: target, into: &effects)
        scheduleTimer(operationID, attempt: operation.attempt, at: now + settings.requestTimeout, isTimeout: true)
    }

    /// The operation awaiting the answer `messageID`, if that attempt is still current.
    mutating func awaiting(_ messageID: UInt64) -> UInt64? {
        let operationID = messageID >> Self.attemptBits
        let attempt = Int(messageID & ((1 << Self.attemptBits) - 1))
        guard var operation = operations[operationID], operation.attempt == attempt, operation.awaitingReply else { return nil }
        operation.awaitingReply = false
        operations[operationID] = operation
        return operationID
    }

    mutating func handleReply(_ operationID: UInt64, _ reply: DirectoryReply, now: Timestamp, into effects: inout [Effect]) {
        guard var operation = operations[operationID] else { return }
        let key = operation.key
        switch (operation.step, reply) {
        case (.lookup, .found(let address)):
            cache.store(key, address)
            operation.step = .call(address)
            operation.addressFromDirectory = true
        case (.lookup, .notFound):
            // Nobody has it: activate here (prefer-local placement) and register.
            let epoch: UInt64
            if let existing = activations[key] {
                epoch = existing
            } else {
                epoch = nextEpoch
                nextEpoch += 1
                activations[key] = epoch
                stats.activationsCreated += 1
            }
            operation.step = .register(ActivationAddress(node: id, epoch: epoch))
        case (.register(let mine), .registered(let winner)):
            if winner == mine {
                cache.store(key, mine)
                finish(operationID, operation)
                return
            }
            // First writer wins: another activation is recorded, ours goes.
            deactivate(key, address: mine)
            cache.store(key, winner)
            guard case .activate = operation.purpose else {
                operations[operationID] = nil
                return
            }
            operation.step = .call(winner)
            operation.addressFromDirectory = true
        case (.unregister, .unregistered):
            operation.step = .lookup
        case (_, .rejected(.notOwner, let owner)):
            stats.notOwnerReplies += 1
            if let owner, owner != id, operation.redirects < Self.maxRedirects {
                operation.redirects += 1
                operations[operationID] = operation
                sendStep(operationID, to: owner, now: now, into: &effects)
            } else {
                operations[operationID] = operation
                retryLater(operationID, now: now)
            }
            return
        default:
            operations[operationID] = operation
            retryLater(operationID, now: now)
            return
        }
        operation.redirects = 0
        operations[operationID] = operation
        sendStep(operationID, to: nil, now: now, into: &effects)
    }

    mutating func handleCallResult(_ operationID: UInt64, active: Bool, now: Timestamp, into effects: inout [Effect]) {
        guard var operation = operations[operationID] else { return }
        if active {
            finish(operationID, operation)
            return
        }
        // The called node does not host it (`not_owner`): drop the cache entry; if the
        // directory named that activation, unregister it before looking up again.
        stats.staleAddresses += 1
        cache.invalidate(operation.key)
        if operation.addressFromDirectory, case .call(let address) = operation.step {
            operation.step = .unregister(address)
        } else {
            operation.step = .lookup
        }
        operation.addressFromDirectory = false
        operation.redirects = 0
        operations[operationID] = operation
        sendStep(operationID, to: nil, now: now, into: &effects)
    }

    mutating func retryLater(_ operationID: UInt64, now: Timestamp) {
        guard var operation = operations[operationID] else { return }
        operation.failures += 1
        operation.awaitingReply = false
        if operation.failures > settings.maxAttempts {
            abandon(operationID)
            return
        }
        operations[operationID] = operation
        let delay = settings.retryBackoff * min(operation.failures, 5)
        scheduleTimer(operationID, attempt: operation.attempt, at: now + delay, isTimeout: false)
    }

    mutating func fire(_ timer: OperationTimer, now: Timestamp, into effects: inout [Effect]) {
        guard var operation = operations[timer.operation], operation.attempt == timer.attempt else { return }
        if timer.isTimeout {
            guard operation.awaitingReply else { return }
            retryLater(timer.operation, now: now)
        } else {
            guard !operation.awaitingReply else { return }
            operation.redirects = 0
            operations[timer.operation] = operation
            sendStep(timer.operation, to: nil, now: now, into: &effects)
        }
    }

    mutating func scheduleTimer(_ operationID: UInt64, attempt: Int, at time: Timestamp, isTimeout: Bool) {
        timerSequence += 1
        timers.insert(OperationTimer(time: time.nanoseconds, sequence: timerSequence, operation: operationID, attempt: attempt, isTimeout: isTimeout))
    }

    mutating func finish(_ operationID: UInt64, _ operation: DirectoryOperation) {
        operations[operationID] = nil
        guard case .activate(let phase) = operation.purpose else { return }
        stats.completed[phase.rawValue] += 1
        stats.lookupHops[phase.rawValue][min(operation.lookupHops, DirectorySimStats.hopBuckets - 1)] += 1
    }

    mutating func abandon(_ operationID: UInt64) {
        operations[operationID] = nil
        stats.abandoned += 1
    }
}
