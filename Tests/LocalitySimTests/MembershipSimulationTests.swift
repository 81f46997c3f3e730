import LocalityCore
import LocalityMembership
import LocalitySim
import Testing

/// SWIM + Lifeguard in the simulator: small, seeded, fast.
@Suite struct MembershipSimulationTests {
    func experiment(nodes: Int = 20, seed: UInt64 = 1) -> MembershipExperiment {
        var experiment = MembershipExperiment()
        experiment.nodes = nodes
        experiment.seed = seed
        experiment.duration = .seconds(60)
        experiment.faultWindow = .seconds(10)
        return experiment
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func crashesAreDetectedByEveryLiveMemberWithoutFalsePositives(seed: UInt64) throws {
        // Host crashes: no refused connections, the suspicion path alone.
        var e = experiment(seed: seed)
        e.crashes = 0
        e.hostCrashes = 2
        let report = try e.run()
        #expect(report.detection.count == 2)
        #expect(report.dissemination.count == 2)
        #expect(report.undetected == 0)
        #expect(report.falsePositives == 0)
        // Defaults at N = 20: min suspicion 3 s (the floor), 18 s before any confirmation; a
        // probe period (1 s) always passes before the first suspicion.
        #expect(report.detection.max < 25)
        #expect(report.detection.p50 > 3.9)
    }

    @Test func twentyPercentLossCausesNoFalsePositive() throws {
        var e = experiment(nodes: 30)
        e.loss = 0.2
        e.crashes = 1
        e.duration = .seconds(120)
        let report = try e.run()
        #expect(report.falsePositives == 0)
        #expect(report.undetected == 0)
    }

    @Test func shortPausesAreRefutedNotDeclaredDead() throws {
        var e = experiment(nodes: 30)
        e.crashes = 0
        e.pauses = 3
        e.pauseDuration = .seconds(3)
        let report = try e.run()
        #expect(report.falsePositives == 0)
    }

    @Test func pauseLongerThanTheSuspicionTimeoutIsDeclaredDead() throws {
        // The experiment must be able to fail: a 60 s pause looks like a crash.
        var e = experiment(nodes: 10)
        e.crashes = 0
        e.pauses = 1
        e.pauseDuration = .seconds(50)
        e.duration = .seconds(70)
        let report = try e.run()
        #expect(report.falsePositives == 1)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func processCrashIsDeclaredDeadMuchSoonerThanHostCrash(seed: UInt64) throws {
        var e = experiment(nodes: 30, seed: seed)
        e.crashes = 3
        e.hostCrashes = 3
        let report = try e.run()
        #expect(report.undetected == 0)
        #expect(report.falsePositives == 0)
        let process = report.crashes.filter { !$0.hostCrash }.compactMap(\.firstDeadAfter)
        let host = report.crashes.filter(\.hostCrash).compactMap(\.firstDeadAfter)
        #expect(process.count == 3 && host.count == 3)
        // Refused at the first probe's stream ping (0.5 s into the period); a host crash
        // waits for a failed period and at least the 3 s suspicion floor.
        #expect(process.allSatisfy { $0 < 3.5 })
        #expect(host.allSatisfy { $0 >= 4 })
        #expect(process.max()! < host.min()!)
    }

    @Test func pausedMemberIsNeverDeclaredDeadThroughRefusal() throws {
        // Suspicions cannot expire within the run, so only a refusal could declare anyone
        // dead: the crashed processes are, the long-paused members are not.
        var e = experiment(nodes: 30)
        e.crashes = 2
        e.pauses = 10
        e.pauseDuration = .seconds(20)
        e.settings.suspicionFloor = .seconds(120)
        let report = try e.run()
        #expect(report.falsePositives == 0)
        #expect(report.detection.count == 2)
        #expect(report.undetected == 0)
    }

    @Test func sameSeedSameReport() throws {
        var e = experiment(nodes: 15, seed: 8)
        e.crashes = 2
        e.loss = 0.1
        #expect(try e.run() == e.run())
    }

    @Test func trafficPerMemberStaysFlatAsTheClusterGrows() throws {
        var small = experiment(nodes: 16)
        small.crashes = 0
        var large = experiment(nodes: 128)
        large.crashes = 0
        let a = try small.run().messagesPerNodePerSecond
        let b = try large.run().messagesPerNodePerSecond
        #expect(a > 1.5 && a < 4)
        #expect(abs(a - b) / a < 0.3)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func crashedMembersAreProbedWithinAFewPeriods(seed: UInt64) throws {
        // The rotating schedule probes every member once per period: the first ping after
        // a crash comes within two periods (three when the next prober crashed too), where
        // the random order of SWIM §4.3 left some members unprobed for 4–5 periods.
        var e = experiment(nodes: 200, seed: seed)
        e.crashes = 10
        e.breakdown = true
        let report = try e.run()
        #expect(report.crashes.count == 10)
        for crash in report.crashes {
            let ping = try #require(crash.breakdown?.firstPingAfter)
            #expect(ping <= 3.0)
        }
        #expect(report.dissemination.max < 5)
        #expect(report.falsePositives == 0)
    }

    @Test func breakdownTellsWhereTheTimeWentWithoutChangingTheRun() throws {
        var e = experiment(nodes: 100, seed: 2)
        e.crashes = 3
        let plain = try e.run()
        e.breakdown = true
        let traced = try e.run()
        #expect(traced.dissemination == plain.dissemination)
        #expect(traced.messagesPerNodePerSecond == plain.messagesPerNodePerSecond)
        let live = e.nodes - e.crashes
        for crash in traced.crashes {
            let b = try #require(crash.breakdown)
            let ping = try #require(b.firstPingAfter)
            let dead = try #require(crash.firstDeadAfter)
            // Refused at the stream ping of the first probe, half a period after its ping.
            #expect(ping <= dead && dead < ping + 0.6)
            let known = [b.known50After, b.known90After, b.known99After, b.known100After].compactMap { $0 }
            #expect(known.count == 4 && known == known.sorted() && known[0] >= dead)
            #expect(b.learnedVia.values.reduce(0, +) == live)
            #expect(b.learnedVia[.refused, default: 0] >= 1)
            #expect(b.lastLearnedVia != nil)
        }
        #expect(traced.dissemination.max == traced.crashes.compactMap { $0.breakdown?.known100After }.max())
        // No pause in this run: no member may take itself for stalled (an idle gossip
        // ticker once made a quarter of the members do so on every new update).
        let health = try #require(traced.health)
        #expect(health.stalls == 0)
        #expect(health.maximum == 0)
    }
}
