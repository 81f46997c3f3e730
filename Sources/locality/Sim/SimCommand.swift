import ArgumentParser

/// `locality sim …`: deterministic simulations of the protocol cores in virtual time.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run a protocol core in the deterministic simulator and print JSON.",
        subcommands: [
            SimMembershipCommand.self,
            SimDirectoryCommand.self,
        ]
    )
}
