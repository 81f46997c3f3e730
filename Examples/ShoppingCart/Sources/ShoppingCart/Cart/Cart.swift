import Distributed
import LocalityActors
import Logging

/// A shopper's cart, as a virtual actor (kind `cart`, key: the shopper or session).
///
/// The cart reserves stock from one `InventoryItem` per SKU through typed references,
/// routed to whichever node owns each item. The order of the steps keeps the inventory's
/// holds at least what the cart shows, whatever fails in between:
/// - `addItem`: store a new revision, ask the inventory to hold the new line total, then
///   store the line. A failure after the hold leaves the inventory holding more than the
///   cart shows, until the hold lapses.
/// - `removeItem`: store the smaller line first, then tell the inventory. A failure of the
///   second step leaves the units held until the hold lapses.
/// - `checkout`: store the order as pending (the lines leave the cart), commit each SKU
///   (an order id sells once), store the finished order. A failed checkout is finished by
///   calling `checkout` again.
/// Every change writes through: a call returns only after the store committed it, and a
/// failed write leaves memory as the store has it.
public distributed actor Cart: VirtualActor {
    public typealias ActorSystem = ClusterSystem

    /// The kind name: `POST /v1/actors/cart/{key}/{method}`.
    public static let kind = "cart"

    private let state: PersistentState<CartState>
    private let settings: ShopSettings
    private let logger: Logger

    public init(actorSystem: ClusterSystem, id: VirtualActorID, settings: ShopSettings) {
        self.actorSystem = actorSystem
        self.settings = settings
        self.state = PersistentState(id: id, system: actorSystem, initial: CartState())
        var logger = Logger(label: "shop.cart")
        logger[metadataKey: "cart"] = "\(id.key)"
        self.logger = logger
    }

    public func onActivate() async throws {
        try await state.read()
    }

    /// Adds `quantity` units of `sku`, held by the inventory for the hold TTL (renewed for
    /// the whole line). Throws `InventoryError.outOfStock` when the shelf lacks them.
    public distributed func addItem(sku: String, quantity: Int) async throws -> CartView {
        try Self.check(sku: sku, quantity: quantity)
        try checkNoPendingCheckout()
        let now = settings.now()
        let total = state.value.liveQuantity(of: sku, now: now) + quantity
        guard total <= ShopSettings.maxQuantity else { throw CartError.lineLimit(sku: sku, limit: ShopSettings.maxQuantity) }
        guard state.value.lines[sku] != nil || state.value.liveLines(now: now).count < ShopSettings.maxLines else {
            throw CartError.cartFull(limit: ShopSettings.maxLines)
        }
        let revision = try await claimRevision(now: now)
        let hold = try await inventory(sku).reserve(cart: id.key, quantity: total, revision: revision)
        var next = state.value
        next.lines[sku] = CartLine(quantity: hold.quantity, reservedUntil: hold.until)
        try await state.commit(next)
        return view()
    }

    /// Takes up to `quantity` units of `sku` out of the cart and releases their hold.
    public distributed func removeItem(sku: String, quantity: Int) async throws -> CartView {
        try Self.check(sku: sku, quantity: quantity)
        try checkNoPendingCheckout()
        let now = settings.now()
        let current = state.value.liveQuantity(of: sku, now: now)
        guard current > 0 else { throw CartError.notInCart(sku: sku) }
        let remaining = max(0, current - quantity)
        var next = pruned(state.value, now: now)
        next.revision += 1
        if remaining == 0 { next.lines[sku] = nil } else { next.lines[sku]?.quantity = remaining }
        try await state.commit(next)
        do {
            _ = try await inventory(sku).reserve(cart: id.key, quantity: remaining, revision: next.revision)
        } catch {
            logger.warning("releasing \(sku) failed; the inventory keeps the units until the hold lapses: \(error)")
        }
        return view()
    }

    /// Buys every reserved line (or finishes a checkout that did not finish) and returns
    /// the order. SKUs whose hold lapsed while the shelf ran out are listed as unavailable.
    public distributed func checkout() async throws -> Order {
        var order: Order
        if let pending = state.value.pending {
            order = pending
        } else {
            let now = settings.now()
            let lines = state.value.liveLines(now: now)
            guard !lines.isEmpty else { throw CartError.emptyCart }
            var next = state.value
            order = Order(id: "\(id.key)-\(next.nextOrder)", items: lines.mapValues(\.quantity))
            next.pending = order
            next.lines = [:]
            next.nextOrder += 1
            next.revision += 1
            try await state.commit(next)
        }
        for (sku, quantity) in order.items.sorted(by: { $0.key < $1.key }) {
            do {
                try await inventory(sku).commit(cart: id.key, order: order.id, quantity: quantity)
            } catch let error as InventoryError {
                logger.info("checkout could not buy \(sku): \(error)")
                order.items[sku] = nil
                order.unavailable[sku] = quantity
            }
        }
        var next = state.value
        next.pending = nil
        next.orders.append(order)
        if next.orders.count > ShopSettings.orderHistory { next.orders.removeFirst(next.orders.count - ShopSettings.orderHistory) }
        try await state.commit(next)
        return order
    }

    /// The cart now: reserved lines, a pending checkout, past orders.
    public distributed func contents() -> CartView {
        view()
    }

    /// The cart as the store holds it (a read of the store, not of memory), every line
    /// included, lapsed or not: what a check of durability compares with.
    public distributed func storedState() async throws -> CartState {
        let stored = try await actorSystem.stateStore.read(state.key)
        return try stored.value.flatMap { try PersistentState<CartState>.value(fromStored: $0) } ?? CartState()
    }

    // MARK: Steps

    private func view() -> CartView {
        CartView(cart: id.key, state: state.value, now: settings.now())
    }

    private func inventory(_ sku: String) throws -> InventoryItem {
        try actorSystem.actor(InventoryItem.self, id: sku)
    }

    /// Stores the next revision (dropping lapsed lines) before it is sent to the inventory.
    private func claimRevision(now: Int64) async throws -> Int {
        var next = pruned(state.value, now: now)
        next.revision += 1
        try await state.commit(next)
        return next.revision
    }

    private func pruned(_ value: CartState, now: Int64) -> CartState {
        var value = value
        value.lines = value.liveLines(now: now)
        return value
    }

    private func checkNoPendingCheckout() throws {
        if let pending = state.value.pending { throw CartError.checkoutPending(order: pending.id) }
    }

    private static func check(sku: String, quantity: Int) throws {
        guard (1...ShopSettings.maxQuantity).contains(quantity) else { throw CartError.invalidQuantity(quantity: quantity) }
        guard (1...64).contains(sku.utf8.count), sku.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x2F }) else {
            throw CartError.invalidSKU(sku: sku)
        }
    }
}
