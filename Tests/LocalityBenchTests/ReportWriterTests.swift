import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LocalityBench
import Testing

@Suite struct ReportWriterTests {
    static func figures(_ throughput: Double, p99: Double, offered: Double? = nil) -> PhaseFigures {
        PhaseFigures(
            offeredRPS: offered, throughputRPS: throughput, p50: p99 / 4, p99: p99, p999: p99 * 2, requests: 1_000, errors: 0, unsent: 0,
            cdf: [.init(milliseconds: p99 / 4, percentile: 50), .init(milliseconds: p99, percentile: 99), .init(milliseconds: p99 * 2, percentile: 100)]
        )
    }

    static func result(_ system: String, throughput: Double, p99: Double) -> SystemResult {
        var result = SystemResult(
            system: system, store: system == "locality" ? "sqlite" : system, durability: "d", throughputRPS: throughput,
            p50: p99 / 4, p99: p99, p999: p99 * 2, latencyAtRPS: 500, errors: 0, correct: true, verifiedKeys: 10, mismatches: 0,
            problems: [], closedLoop: figures(throughput, p99: p99 * 3),
            fixedRate: [figures(500, p99: p99, offered: 500), figures(min(throughput, 4_000), p99: p99 * 5, offered: 4_000)]
        )
        result.front = system == "locality" ? BenchAPI.gateway.rawValue : BenchAPI.benchFront.rawValue
        return result
    }

    static func report() -> StatefulReport {
        var report = StatefulReport(
            date: "2026-11-26T09:00:00Z", command: "locality bench stateful", durationSeconds: 2, connections: 8,
            workload: WorkloadSettings(), note: "n",
            systems: [
                "locality": result("locality", throughput: 20_000, p99: 0.5),
                "postgres": result("postgres", throughput: 2_000, p99: 5),
                "redis": result("redis", throughput: 10_000, p99: 1),
            ]
        )
        report.pinning = "servers on CPU 0, load generator on CPU 1: test"
        report.computeRatios()
        return report
    }

    @Test func ratiosAreAgainstEachBaseline() {
        let locality = Self.report().systems["locality"]!
        #expect(locality.throughputRatioVsPostgres == 10)
        #expect(locality.p99RatioVsPostgres == 0.1)
        #expect(locality.throughputRatioVsRedis == 2)
        #expect(locality.p99RatioVsRedis == 0.5)
        #expect(Self.report().systems["postgres"]!.throughputRatioVsPostgres == 1)
    }

    @Test func jsonHasTheHeadlineKeys() throws {
        let data = try JSONEncoder().encode(Self.report())
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let systems = object["systems"] as! [String: Any]
        let locality = systems["locality"] as! [String: Any]
        for key in ["throughput_rps", "p50_ms", "p99_ms", "p999_ms", "errors", "correct", "throughput_ratio_vs_postgres",
                    "p99_ratio_vs_postgres", "throughput_ratio_vs_redis", "p99_ratio_vs_redis"] {
            #expect(locality[key] != nil, "missing \(key)")
        }
        #expect(locality["correct"] as? Bool == true)
        #expect(locality["front"] as? String == "gateway")
        #expect((systems["postgres"] as? [String: Any])?["front"] as? String == "bench-front")
        #expect(object["pinning"] as? String == "servers on CPU 0, load generator on CPU 1: test")
    }

    @Test func tableHasOneRowPerSystemInOrder() {
        let table = MarkdownTable.render(Self.report(), order: ["locality", "postgres", "redis"])
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("| locality") || $0.hasPrefix("| postgres") || $0.hasPrefix("| redis") }
        #expect(rows.count == 3 + 6)  // summary rows + 2 fixed-rate rows each
        #expect(rows[0].hasPrefix("| locality | sqlite | gateway | 20000 | 0.125 | 0.5 | 1 | 500 | 0 | yes | 10 / 0.1 | 2 / 0.5 |"))
        #expect(rows[1].hasPrefix("| postgres | postgres | bench-front |"))
        #expect(rows[2].hasPrefix("| redis"))
    }

    @Test func tableSaysHowTheCPUsWereShared() {
        var report = Self.report()
        report.generatorCPUSeconds = 3
        report.wallSeconds = 10
        #expect(MarkdownTable.render(report, order: ["locality"]).contains("CPU pinning: servers on CPU 0, load generator on CPU 1: test."))
        report.pinning = nil
        #expect(MarkdownTable.render(report, order: ["locality"]).contains("on the same cores as the servers"))
    }

    @Test func svgIsWellFormedWithOneLinePerSystem() throws {
        let report = Self.report()
        for svg in [
            StatefulPlots.latencyCDF(report, order: ["locality", "postgres", "redis"], closedLoop: false),
            StatefulPlots.throughputVsOffered(report, order: ["locality", "postgres", "redis"]),
        ] {
            #expect(svg.hasPrefix("<svg"))
            #expect(svg.components(separatedBy: "<polyline").count - 1 == 3)
            for name in ["locality", "postgres", "redis"] { #expect(svg.contains(">\(name)</text>")) }
            #expect(!svg.contains("nan") && !svg.contains("inf"))
            _ = try XMLDocument(xmlString: svg)
        }
    }

    @Test func chartHandlesEmptyAndSinglePointSeries() throws {
        let empty = SVGLineChart(title: "a < b & c", xLabel: "x", yLabel: "y", logX: true, series: []).render()
        #expect(empty.contains("a &lt; b &amp; c"))
        _ = try XMLDocument(xmlString: empty)
        let single = SVGLineChart(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "s", points: [(5, 5)])]).render()
        #expect(!single.contains("nan"))
        _ = try XMLDocument(xmlString: single)
    }
}
