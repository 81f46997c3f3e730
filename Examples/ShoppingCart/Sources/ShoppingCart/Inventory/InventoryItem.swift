import Distributed
import LocalityActors
import Logging

/// One SKU of the shop's inventory, as a virtual actor (kind `inventory`, key: the SKU).
///
/// Carts hold units with `reserve(cart:quantity:revision:)` and buy them with
/// `commit(cart:order:quantity:)`; `restock(quantity:)` adds units. Every change writes
/// through: a call returns only after the store committed the new `Stock`, and a failed
/// write leaves memory as the store has it. A hold is a lease: a timer started on
/// activation returns lapsed holds to the shelf every `ShopSettings.expiryInterval`, so a
/// cart that was abandoned (or whose node died) gives its units back by itself. The timer
/// runs while the item is active: an item that is not (idle-deactivated, or its node
/// died and nobody called it since) keeps its lapsed holds in the store until its next
/// activation, whose first tick returns them; until then they are counted as held.
public distributed actor InventoryItem: VirtualActor {
    public typealias ActorSystem = ClusterSystem

    /// The kind name: `POST /v1/actors/inventory/{sku}/{method}`.
    public static let kind = "inventory"

    private let stockState: PersistentState<Stock>
    private let settings: ShopSettings
    private let logger: Logger

    public init(actorSystem: ClusterSystem, id: VirtualActorID, settings: ShopSettings) {
        self.actorSystem = actorSystem
        self.settings = settings
        self.stockState = PersistentState(id: id, system: actorSystem, initial: Stock())
        var logger = Logger(label: "shop.inventory")
        logger[metadataKey: "sku"] = "\(id.key)"
        self.logger = logger
    }

    public func onActivate() async throws {
        try await stockState.read()
        actorSystem.startTimer(for: self, every: settings.expiryInterval) { item in
            await item.expireHolds()
        }
    }

    /// Sets `cart`'s hold to `quantity` units (0 releases it) for the hold TTL from now,
    /// and returns it. Throws `InventoryError.outOfStock` when the shelf lacks the extra
    /// units, `staleReservation` when a newer revision of the cart was applied already.
    public distributed func reserve(cart: String, quantity: Int, revision: Int) async throws -> Hold {
        var next = stockState.value
        let hold = try next.reserve(
            sku: id.key, cart: cart, quantity: quantity, revision: revision, now: settings.now(), ttlMs: settings.holdTTLMilliseconds)
        try await stockState.commit(next)
        return hold
    }

    /// Sells `quantity` units to `cart` for `order` (its hold first, then the shelf); a
    /// repeated commit of the same order sells nothing more.
    public distributed func commit(cart: String, order: String, quantity: Int) async throws {
        var next = stockState.value
        try next.commit(sku: id.key, cart: cart, order: order, quantity: quantity, now: settings.now())
        try await stockState.commit(next)
    }

    /// Puts `quantity` new units on the shelf; returns the figures after.
    public distributed func restock(quantity: Int) async throws -> StockFigure {
        var next = stockState.value
        try next.restock(quantity: quantity)
        try await stockState.commit(next)
        return StockFigure(sku: id.key, stock: next)
    }

    /// The item's figures now.
    public distributed func stock() -> StockFigure {
        StockFigure(sku: id.key, stock: stockState.value)
    }

    /// Returns lapsed holds to the shelf (a timer tick; a failed write is retried at the next tick).
    func expireHolds() async {
        var next = stockState.value
        let units = next.expireHolds(now: settings.now())
        guard units > 0 else { return }
        do {
            try await stockState.commit(next)
            logger.debug("holds lapsed", metadata: ["units": "\(units)"])
        } catch {
            logger.warning("returning lapsed holds failed, retrying at the next tick: \(error)")
        }
    }
}
