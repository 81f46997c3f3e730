import LocalityServer

/// The kinds a shop node hosts: `cart` and `inventory`, each with the error type its
/// methods throw back to remote callers.
enum ShopKinds {
    static func all(_ settings: ShopSettings) -> [ActorKind] {
        [
            ActorKind(Cart.self, name: Cart.kind) { id, system in Cart(actorSystem: system, id: id, settings: settings) }
                .allowingRemoteError(CartError.self, wireName: "CartError"),
            ActorKind(InventoryItem.self, name: InventoryItem.kind) { id, system in
                InventoryItem(actorSystem: system, id: id, settings: settings)
            }
            .allowingRemoteError(InventoryError.self, wireName: "InventoryError"),
        ]
    }
}
