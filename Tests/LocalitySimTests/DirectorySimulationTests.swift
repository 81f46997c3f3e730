import LocalityCore
import LocalityPlacement
import LocalitySim
import Testing

@Suite("Activation directory in the simulator")
struct DirectorySimulationTests {
    static func settings(seed: UInt64, keys: Int = 3000, churnTraffic: Double = 0.5) -> DirectorySimSettings {
        var settings = DirectorySimSettings()
        settings.nodes = 12
        settings.keys = keys
        settings.churnRate = 2
        settings.churnDuration = .seconds(5)
        settings.churnTrafficFraction = churnTraffic
        settings.seed = seed
        return settings
    }

    @Test("after churn stops and views converge, no key is active on two live nodes", arguments: [UInt64(1), 2, 3])
    func noDuplicatesAfterConvergence(seed: UInt64) {
        let result = DirectoryExperiment(settings: Self.settings(seed: seed)).run()
        #expect(result.crashes + result.joins > 0)
        #expect(result.duplicateActivationsAfterConvergence == 0)
        #expect(result.missingActivations == 0)
        #expect(result.directoryMismatches == 0)
        #expect(result.lookupHopsP99 <= 2)
        #expect(result.stats.completed[DirectorySimPhase.check.rawValue] == 3000)
        #expect(result.stats.abandoned == 0)
    }

    @Test("concurrent activations of the same keys during churn resolve to one activation each")
    func racingActivations() {
        // 300 keys, 3 requests per key during churn from random nodes: many races.
        let result = DirectoryExperiment(settings: Self.settings(seed: 9, keys: 300, churnTraffic: 3)).run()
        #expect(result.stats.duplicatesDeactivated > 0)
        #expect(result.duplicateActivationsAfterConvergence == 0)
        #expect(result.missingActivations == 0)
    }

    @Test("without re-registration, partitions lost with crashed owners cause duplicate activations")
    func recoveryRuleMatters() {
        var settings = Self.settings(seed: 1)
        settings.reRegisterOnOwnerChange = false
        let result = DirectoryExperiment(settings: settings).run()
        #expect(result.crashes > 0)
        #expect(result.duplicateActivationsAfterConvergence > 0)
    }

    @Test("a run replays exactly from its seed")
    func deterministic() {
        let settings = Self.settings(seed: 5, keys: 1000)
        let first = DirectoryExperiment(settings: settings).run()
        let second = DirectoryExperiment(settings: settings).run()
        #expect(first.events == second.events)
        #expect(first.messages == second.messages)
        #expect(first.bytes == second.bytes)
        #expect(first.stats.notOwnerReplies == second.stats.notOwnerReplies)
        #expect(first.stats.lookupHops == second.stats.lookupHops)
        #expect(first.stats.activationsCreated == second.stats.activationsCreated)
        var other = settings
        other.seed = 6
        #expect(DirectoryExperiment(settings: other).run().events != first.events)
    }
}
