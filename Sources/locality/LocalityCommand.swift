import ArgumentParser

/// The `locality` command line: run nodes, simulate protocols, inspect placement.
@main
struct LocalityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locality",
        abstract: "Locality: a runtime for stateful services.",
        subcommands: [
            VersionCommand.self,
            SimCommand.self,
            NodeCommand.self,
            MembersCommand.self,
            DemoCommand.self,
            RingCommand.self,
            CertsCommand.self,
            BenchCommand.self,
            TransportEchoServerCommand.self,
            ActorServerCommand.self,
            BenchStatefulServerCommand.self,
        ]
    )
}

/// `locality version`: prints the version and the wire protocol version.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("locality 0.1.0")
    }
}
