/// What `InventoryItem.stock()` reports: the item's figures at the moment of the call.
/// `available + held + sold == received` always holds.
public struct StockFigure: Codable, Sendable, Equatable {
    /// The SKU.
    public var sku: String
    /// Units on the shelf, free to hold or sell.
    public var available: Int
    /// Units held for carts.
    public var held: Int
    /// Carts holding units.
    public var holds: Int
    /// Units sold.
    public var sold: Int
    /// Units ever restocked.
    public var received: Int
    /// Units returned to the shelf because their hold lapsed.
    public var expired: Int

    init(sku: String, stock: Stock) {
        self.sku = sku
        self.available = stock.available
        self.held = stock.held
        self.holds = stock.holds.count
        self.sold = stock.sold
        self.received = stock.received
        self.expired = stock.expired
    }
}
