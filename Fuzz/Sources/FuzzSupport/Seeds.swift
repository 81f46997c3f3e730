#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes seed inputs when `LOCALITY_FUZZ_WRITE_SEEDS` names a directory, then exits
/// (`runFuzzer` calls it first), so `scripts/fuzz --seed` regenerates
/// `Fuzz/Corpus/<target>/` from the real encoders with the fuzz build itself.
public func writeSeedsIfAsked(_ seeds: () -> [(name: String, bytes: [UInt8])]) {
    guard let directory = getenv("LOCALITY_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return }
    for seed in seeds() {
        let path = directory + "/" + seed.name
        guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
        _ = seed.bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    print("wrote \(seeds().count) seeds to \(directory)")
    exit(0)
}
