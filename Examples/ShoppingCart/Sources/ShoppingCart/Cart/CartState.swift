/// One line of a cart: units of a SKU the inventory holds for it until `reservedUntil`
/// (Unix milliseconds). After that the line no longer counts: the inventory has returned
/// the units to the shelf.
public struct CartLine: Codable, Sendable, Equatable {
    /// Units.
    public var quantity: Int
    /// When the inventory's hold lapses, Unix milliseconds.
    public var reservedUntil: Int64
}

/// A checkout: what was bought, by SKU, and what could not be (the hold had lapsed and
/// the shelf was empty).
public struct Order: Codable, Sendable, Equatable {
    /// `cartKey-n`, unique per cart; the inventory sells an order id once.
    public var id: String
    /// Units bought, by SKU.
    public var items: [String: Int]
    /// Units that could not be bought, by SKU.
    public var unavailable: [String: Int] = [:]
}

/// The persisted state of one cart.
///
/// `revision` grows with every change that is followed by a call to the inventory, and is
/// stored before that call: a revision belongs to one activation only (a stale duplicate
/// activation fails its store write with `conflict` first), so the inventory can refuse
/// reservations older than the last it applied.
public struct CartState: Codable, Sendable, Equatable {
    /// Lines by SKU (lapsed ones are dropped at the next change).
    public var lines: [String: CartLine] = [:]
    /// The last revision claimed.
    public var revision = 0
    /// A checkout that started and has not finished.
    public var pending: Order?
    /// Finished orders, newest last; at most `ShopSettings.orderHistory`.
    public var orders: [Order] = []
    /// The number of the next order.
    public var nextOrder = 1

    public init() {}

    /// Units of `sku` still reserved at `now`.
    func liveQuantity(of sku: String, now: Int64) -> Int {
        guard let line = lines[sku], line.reservedUntil > now else { return 0 }
        return line.quantity
    }

    /// The lines still reserved at `now`.
    func liveLines(now: Int64) -> [String: CartLine] {
        lines.filter { $0.value.reservedUntil > now }
    }
}
