/// The persisted state of one inventory item (one SKU), and the rules that change it.
///
/// Every unit the item ever received is in exactly one place: on the shelf (`available`),
/// held for a cart (`holds`) or sold; so `available + held + sold == received` after every
/// change, and `available` never goes below zero (a change that would make it negative is
/// refused with `InventoryError.outOfStock`).
///
/// Bounds: at most `Stock.holdLimit` carts hold units at once (holds lapse after the hold
/// TTL), and the ids of the last `Stock.orderMemory` orders are kept to answer a repeated
/// `commit` of the same order without selling twice.
public struct Stock: Codable, Sendable, Equatable {
    /// Units on the shelf, free to hold or sell.
    public var available = 0
    /// Units held, by cart key.
    public var holds: [String: Hold] = [:]
    /// Units sold.
    public var sold = 0
    /// Units ever restocked.
    public var received = 0
    /// Units returned to the shelf because their hold lapsed.
    public var expired = 0
    /// Ids of the most recent committed orders, newest last.
    public var recentOrders: [String] = []

    /// Most carts holding units of one item at once.
    public static let holdLimit = 10_000
    /// How many committed order ids are remembered.
    public static let orderMemory = 1_000

    public init() {}

    /// Units held for all carts.
    public var held: Int { holds.values.reduce(0) { $0 + $1.quantity } }

    /// Sets `cart`'s hold to `quantity` units (0 releases it) until `now + ttlMs`. The hold
    /// is an absolute figure, not a delta, so repeating a request changes nothing more.
    mutating func reserve(
        sku: String, cart: String, quantity: Int, revision: Int, now: Int64, ttlMs: Int64
    ) throws(InventoryError) -> Hold {
        guard (0...ShopSettings.maxQuantity).contains(quantity) else { throw .invalidQuantity(quantity: quantity) }
        if let current = holds[cart], current.revision > revision {
            throw .staleReservation(sku: sku, revision: revision, current: current.revision)
        }
        let live = liveHold(of: cart, now: now)
        let extra = quantity - live
        guard extra <= available else { throw .outOfStock(sku: sku, requested: quantity, available: available + live) }
        guard quantity == 0 || holds[cart] != nil || holds.count < Self.holdLimit else {
            throw .tooManyHolds(sku: sku, limit: Self.holdLimit)
        }
        available -= extra
        let hold = Hold(quantity: quantity, until: quantity == 0 ? now : now + ttlMs, revision: revision)
        holds[cart] = quantity == 0 ? nil : hold
        return hold
    }

    /// Sells `quantity` units to `cart` for `order`: its live hold first, the shelf for
    /// the rest; what the hold had beyond `quantity` goes back to the shelf. An order
    /// already committed is not sold again.
    mutating func commit(sku: String, cart: String, order: String, quantity: Int, now: Int64) throws(InventoryError) {
        guard (1...ShopSettings.maxQuantity).contains(quantity) else { throw .invalidQuantity(quantity: quantity) }
        guard !recentOrders.contains(order) else { return }
        let live = liveHold(of: cart, now: now)
        guard quantity - live <= available else { throw .outOfStock(sku: sku, requested: quantity, available: available + live) }
        available -= quantity - live
        holds[cart] = nil
        sold += quantity
        recentOrders.append(order)
        if recentOrders.count > Self.orderMemory { recentOrders.removeFirst(recentOrders.count - Self.orderMemory) }
    }

    /// Puts `quantity` new units on the shelf.
    mutating func restock(quantity: Int) throws(InventoryError) {
        guard (1...ShopSettings.maxQuantity).contains(quantity), received <= Int.max - quantity else {
            throw .invalidQuantity(quantity: quantity)
        }
        available += quantity
        received += quantity
    }

    /// Returns the units of every hold that lapsed by `now` to the shelf; how many.
    mutating func expireHolds(now: Int64) -> Int {
        let lapsed = holds.filter { $0.value.until <= now }
        for (cart, hold) in lapsed {
            holds[cart] = nil
            available += hold.quantity
            expired += hold.quantity
        }
        return lapsed.values.reduce(0) { $0 + $1.quantity }
    }

    /// `cart`'s hold if it is still live; a lapsed one goes back to the shelf first.
    private mutating func liveHold(of cart: String, now: Int64) -> Int {
        guard let hold = holds[cart] else { return 0 }
        guard hold.until <= now else { return hold.quantity }
        holds[cart] = nil
        available += hold.quantity
        expired += hold.quantity
        return 0
    }
}
