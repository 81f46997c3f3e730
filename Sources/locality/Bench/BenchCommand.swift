import ArgumentParser

/// `locality bench …`: measurements against a baseline measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a layer against a baseline and print JSON.",
        subcommands: [
            BenchTransportCommand.self,
            BenchActorsCommand.self,
            BenchStatefulCommand.self,
            BenchStoreCommand.self,
            BenchGatewayCommand.self,
            BenchBareHTTPCommand.self,
            BenchGossipCommand.self,
        ]
    )
}
