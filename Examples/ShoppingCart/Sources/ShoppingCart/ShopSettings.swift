import Foundation

/// The shop's own settings, shared by its kinds: how long a hold lasts, how often lapsed
/// holds are collected, the bounds of a cart, and the wall clock (Unix milliseconds; a
/// hold's end is compared across nodes, so their clocks must agree well within the TTL).
public struct ShopSettings: Sendable {
    /// How long the inventory holds units for a cart after its last change of the line.
    public var holdTTL: Duration = .seconds(15 * 60)
    /// How often an inventory item returns lapsed holds to the shelf.
    public var expiryInterval: Duration = .seconds(1)
    /// The wall clock, Unix milliseconds.
    public var now: @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Most units in one line, one restock or one reservation.
    public static let maxQuantity = 1_000
    /// Most lines in one cart.
    public static let maxLines = 100
    /// Finished orders a cart keeps.
    public static let orderHistory = 50

    public init() {}

    /// `holdTTL` in milliseconds.
    var holdTTLMilliseconds: Int64 {
        let (seconds, attoseconds) = holdTTL.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
