/// Why an inventory item refused a request. It travels back to remote callers as itself
/// (registered as `InventoryError`): a cart on another node catches it as this type, and
/// an HTTP client gets it as 422 `method_error` with `"type":"InventoryError"` and the
/// case as JSON in `detail` (`{"outOfStock":{"sku":"apple","requested":5,"available":3}}`).
public enum InventoryError: Error, Codable, Equatable, Sendable {
    /// A quantity below the smallest (0 for a reservation, 1 otherwise) or above
    /// `ShopSettings.maxQuantity`.
    case invalidQuantity(quantity: Int)
    /// Fewer units are free than requested; `available` is what this cart could hold now
    /// (free units plus its own live hold).
    case outOfStock(sku: String, requested: Int, available: Int)
    /// A reservation older than the one the item already applied for this cart (a late
    /// or duplicated request): ignored, nothing changed.
    case staleReservation(sku: String, revision: Int, current: Int)
    /// The item already holds stock for `limit` carts.
    case tooManyHolds(sku: String, limit: Int)
}
