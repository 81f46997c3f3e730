/// The demangled names of every distributed method thunk in the process, read from the
/// Swift runtime's `swift5_accessible_functions` metadata sections (ELF platforms).
///
/// This is how a stable method name (`increment(by:)`) maps back to the mangled
/// identifier `executeDistributedTarget` needs: both sides run the same binary, so each
/// node builds the same table at registration, without the user listing methods.
enum AccessibleFunctions {
    /// One record: the mangled identifier and its demangled full name
    /// (`Module.Type.method(label:)`).
    struct Record: Sendable {
        var mangled: String
        var fullName: String
    }

    /// Every accessible function record of every loaded image.
    static let all: [Record] = enumerate()

    #if os(Linux) || os(Android) || os(FreeBSD)
    private static func enumerate() -> [Record] {
        final class Collected { var records: [Record] = [] }
        let collected = Collected()
        withExtendedLifetime(collected) {
            swiftEnumerateAllMetadataSections({ sections, context in
                let collected = Unmanaged<Collected>.fromOpaque(context!).takeUnretainedValue()
                // MetadataSections: version, baseAddress, 2 unused words, then 16-byte
                // ranges; accessible functions is the 13th range.
                let range = sections.advanced(by: 4 * MemoryLayout<UInt>.size + 12 * 2 * MemoryLayout<UInt>.size)
                let start = range.load(as: UInt.self)
                let length = range.load(fromByteOffset: MemoryLayout<UInt>.size, as: Int.self)
                guard start != 0, length > 0, let base = UnsafeRawPointer(bitPattern: start) else { return true }
                // AccessibleFunctionRecord: 4 relative pointers + flags, 20 bytes; the
                // first points to the mangled name.
                var offset = 0
                while offset + 20 <= length {
                    let record = base.advanced(by: offset)
                    let relative = Int(record.load(as: Int32.self))
                    let name = String(cString: record.advanced(by: relative).assumingMemoryBound(to: CChar.self))
                    if let fullName = _getFunctionFullNameFromMangledName(mangledName: name) {
                        collected.records.append(Record(mangled: name, fullName: fullName))
                    }
                    offset += 20
                }
                return true
            }, Unmanaged.passUnretained(collected).toOpaque())
        }
        return collected.records
    }
    #else
    /// Mach-O and PE images keep these records elsewhere; only ELF is read so far, so
    /// remote calls (which need the table) are refused on other platforms.
    private static func enumerate() -> [Record] { [] }
    #endif
}

#if os(Linux) || os(Android) || os(FreeBSD)
@_silgen_name("swift_enumerateAllMetadataSections")
private func swiftEnumerateAllMetadataSections(
    _ body: @convention(c) (UnsafeRawPointer, UnsafeMutableRawPointer?) -> Bool,
    _ context: UnsafeMutableRawPointer?
)
#endif
