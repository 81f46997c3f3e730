/// What a cart shows its shopper: the lines still reserved, a checkout in progress, and
/// past orders.
public struct CartView: Codable, Sendable, Equatable {
    /// The cart key.
    public var cart: String
    /// Lines still reserved, by SKU.
    public var lines: [String: CartLine]
    /// Units in the cart (reserved lines).
    public var units: Int
    /// The id of a checkout that started and has not finished.
    public var pendingOrder: String?
    /// Finished orders, newest last.
    public var orders: [Order]

    init(cart: String, state: CartState, now: Int64) {
        self.cart = cart
        self.lines = state.liveLines(now: now)
        self.units = lines.values.reduce(0) { $0 + $1.quantity }
        self.pendingOrder = state.pending?.id
        self.orders = state.orders
    }
}
