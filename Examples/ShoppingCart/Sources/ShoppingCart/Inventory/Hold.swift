/// Units of one SKU set aside for one cart: a lease that ends at `until` (Unix time in
/// milliseconds), when the item's timer returns the units to the shelf unless the cart
/// renewed or bought them first.
///
/// `revision` is the cart's revision that set the hold: a reservation with a lower
/// revision is refused, so a late duplicate cannot undo a newer one.
public struct Hold: Codable, Sendable, Equatable {
    /// Units held.
    public var quantity: Int
    /// When the hold lapses, Unix milliseconds.
    public var until: Int64
    /// The cart revision that set it.
    public var revision: Int
}
