import LocalityServer

/// The command line of the `ShoppingCart` program: the shop's own options, taken out
/// before the rest goes to `NodeConfiguration.load(arguments:)` (every `--KEY VALUE` of
/// `NodeSettingKey.all`, and `--config FILE`).
struct ShopOptions {
    /// The shop's settings (`--hold-ttl-s`).
    var settings = ShopSettings()
    /// Leave the cluster and exit when standard input closes (`--exit-on-stdin-eof`).
    var exitOnStdinEOF = false
    /// Print the usage and exit (`--help`).
    var help = false
    /// The arguments for `NodeConfiguration.load(arguments:)`, the program name first.
    var nodeArguments: [String] = []

    /// A wrong shop option.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ arguments: [String]) throws(Failure) -> ShopOptions {
        var options = ShopOptions()
        options.nodeArguments = Array(arguments.prefix(1))
        var rest = arguments.dropFirst()[...]
        while var argument = rest.popFirst() {
            if argument.hasPrefix("--hold-ttl-s="), let equals = argument.firstIndex(of: "=") {
                rest.insert(String(argument[argument.index(after: equals)...]), at: rest.startIndex)
                argument = "--hold-ttl-s"
            }
            switch argument {
            case "--help", "-h":
                options.help = true
            case "--exit-on-stdin-eof":
                options.exitOnStdinEOF = true
            case "--hold-ttl-s":
                guard let text = rest.popFirst(), let seconds = Int(text), (1...86_400).contains(seconds) else {
                    throw Failure(description: "--hold-ttl-s takes whole seconds in 1…86400")
                }
                options.settings.holdTTL = .seconds(seconds)
            default:
                options.nodeArguments.append(argument)
            }
        }
        return options
    }

    static var usage: String {
        """
        usage: ShoppingCart --name NAME --bind HOST:PORT --cluster-key-file FILE [--KEY VALUE]... [--config FILE]
                            [--hold-ttl-s SECONDS] [--exit-on-stdin-eof]

        A shop node: kinds `cart` and `inventory`. Shop options:
          --hold-ttl-s SECONDS   how long the inventory holds a cart's units after its last change (default 900)
          --exit-on-stdin-eof    leave the cluster and exit when standard input closes

        Node settings (also LOCALITY_<KEY> environment variables, or keys of a --config JSON/YAML file):
        \(NodeSettingKey.all.map { "  --\($0.name): \($0.allowed)" }.joined(separator: "\n"))
        """
    }
}
