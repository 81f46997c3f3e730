/// Why a cart refused a request. It travels back to remote callers as itself (registered
/// as `CartError`); an HTTP client gets it as 422 `method_error` with `"type":"CartError"`.
public enum CartError: Error, Codable, Equatable, Sendable {
    /// A quantity below 1 or above `ShopSettings.maxQuantity`.
    case invalidQuantity(quantity: Int)
    /// A SKU that is empty, longer than 64 bytes or not printable ASCII.
    case invalidSKU(sku: String)
    /// The line would pass `ShopSettings.maxQuantity` units.
    case lineLimit(sku: String, limit: Int)
    /// The cart already has `ShopSettings.maxLines` lines.
    case cartFull(limit: Int)
    /// The cart holds none of this SKU.
    case notInCart(sku: String)
    /// Nothing to check out.
    case emptyCart
    /// A checkout started and did not finish (its outcome was unknown to the caller): call
    /// `checkout` again to finish it before changing the cart.
    case checkoutPending(order: String)
}
