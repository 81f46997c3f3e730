/// Stops the run when an invariant of the code under test does not hold: the trap is a
/// finding, and libFuzzer writes the input that caused it as a crash artifact.
public func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    guard !condition() else { return }
    fatalError("fuzz invariant broken: \(message())", file: file, line: line)
}
