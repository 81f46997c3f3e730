import LocalityCore
import LocalityPlacement

/// What `DirectoryService.updateRing` did with one new view.
public struct DirectoryRingChange: Sendable, Equatable {
    /// The ring in force before (pass it with the new one to `reRegister`).
    public var previous: HashRing
    /// The ring now in force.
    public var current: HashRing
    /// Hand-off messages the partition produced (each at most `handOffBatchLimit` entries).
    public var handOffs: Int
    /// Entries they carried.
    public var handedOffEntries: Int
    /// Hand-off messages that could not be delivered; their entries come back through the
    /// hosts' re-registration.
    public var failedHandOffs: Int
}

/// Outcome of re-registering one hosted activation after a ring change.
public enum DirectoryReRegistration: Sendable, Equatable {
    /// The new owner recorded the host's activation (or already had it).
    case kept(key: String, address: ActivationAddress)
    /// The new owner holds another live activation: the host must deactivate its own.
    case lost(key: String, address: ActivationAddress, winner: ActivationAddress)
    /// The new owner could not be asked; the host may try again later.
    case failed(key: String, address: ActivationAddress, error: LocalityError)
}
