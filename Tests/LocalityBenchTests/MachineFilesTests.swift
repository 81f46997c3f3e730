import LocalityBench
import Testing

/// The parsers behind `bench stateful --pin`: CPU lists, `taskset` output, `/proc` files.
@Suite struct MachineFilesTests {
    @Test func cpuListParsesRangesAndSingles() {
        #expect(CPUList(parsing: "0-1")?.cpus == [0, 1])
        #expect(CPUList(parsing: "0-2, 5,7-8")?.cpus == [0, 1, 2, 5, 7, 8])
        #expect(CPUList(parsing: "3")?.cpus == [3])
    }

    @Test func cpuListRejectsWhatIsNotAList() {
        for text in ["", "a", "1-", "-1", "2-1", "0,,1x", "1-2-3"] { #expect(CPUList(parsing: text) == nil, "\(text)") }
    }

    @Test func cpuListPrintsCollapsedRanges() {
        #expect(CPUList([6, 0, 1, 2, 3, 3]).description == "0-3,6")
        #expect(CPUList([1]).description == "1")
    }

    @Test func cpuListFromTasksetOutputTakesTheLastReportedList() {
        #expect(CPUList(tasksetOutput: "pid 24450's current affinity list: 0,1\n")?.cpus == [0, 1])
        #expect(CPUList(tasksetOutput: "pid 7's current affinity list: 0-1\npid 7's new affinity list: 0\n")?.cpus == [0])
        #expect(CPUList(tasksetOutput: "taskset: failed") == nil)
    }

    @Test func cpuListFromProcStatus() {
        let status = "Name:\tlocality\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t1\n"
        #expect(CPUList(procStatus: status)?.cpus == [0, 1])
        #expect(CPUList(procStatus: "Name:\tx\n") == nil)
    }

    @Test func parentPIDSkipsACommandNameWithSpacesAndParentheses() {
        #expect(ProcFiles.parentPID(stat: "24455 (postgres: checkpointer ) S 24450 24450 24450 0 -1") == 24450)
        #expect(ProcFiles.parentPID(stat: "1 (a) b) R 0 1") == 0)
        #expect(ProcFiles.parentPID(stat: "garbage") == nil)
    }

    @Test func listeningInodesMatchThePortInListenStateOnly() {
        let text = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:D439 00000000:0000 0A 00000000:00000000 00:00000000 00000000   107        0 81234 1 0000000000000000 100 0 0 10 0
               1: 0100007F:D439 0100007F:9C40 01 00000000:00000000 00:00000000 00000000   107        0 81299 1 0000000000000000 20 4 30 10 -1
               2: 0100007F:F99F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 90001 1 0000000000000000 100 0 0 10 0
            """
        #expect(ProcFiles.listeningInodes(port: 54329, netTCP: text) == [81234])
        #expect(ProcFiles.listeningInodes(port: 63903, netTCP: text) == [90001])
        #expect(ProcFiles.listeningInodes(port: 1, netTCP: text).isEmpty)
    }

    @Test func pidFileFirstLine() {
        #expect(ProcFiles.pid(pidFile: "24450\n/tmp/locality-services/postgres/data\n1796521860\n") == 24450)
        #expect(ProcFiles.pid(pidFile: "812\n") == 812)
        #expect(ProcFiles.pid(pidFile: "") == nil)
    }
}
