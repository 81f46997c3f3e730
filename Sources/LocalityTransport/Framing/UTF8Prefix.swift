extension String {
    /// The UTF-8 bytes of the longest prefix that fits in `maxBytes` without cutting a
    /// character's encoding in half, so a peer reading a cut field gets whole UTF-8 (a cut
    /// in the middle of `é` would read back as U+FFFD). Found by `scripts/fuzz frame`'s
    /// re-encoding invariant.
    func utf8Prefix(maxBytes: Int) -> [UInt8] {
        let utf8 = self.utf8
        guard utf8.count > maxBytes else { return Array(utf8) }
        var end = utf8.index(utf8.startIndex, offsetBy: max(0, maxBytes))
        while end > utf8.startIndex, UTF8.isContinuation(utf8[end]) { end = utf8.index(before: end) }
        return Array(utf8[..<end])
    }
}
