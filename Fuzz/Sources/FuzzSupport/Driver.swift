import CFuzzer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs libFuzzer on `callback` (the target's `LLVMFuzzerTestOneInput`) with the
/// process's arguments as libFuzzer flags, and exits with its status; first writes the
/// seeds and exits when `LOCALITY_FUZZ_WRITE_SEEDS` is set.
///
/// SwiftPM gives every executable target its own entry point (`<Module>_main`, linked as
/// `main`), so the targets call libFuzzer's driver from `@main` instead of relying on the
/// `main` in libFuzzer's runtime.
public func runFuzzer(
    seeds: () -> [(name: String, bytes: [UInt8])],
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> Never {
    writeSeedsIfAsked(seeds)
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
}
