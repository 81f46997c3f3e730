import LocalityBench

/// The demo's SVG: p50, p99 and p99.9 latency per second of the workload, and the
/// throughput, with the second the node was killed named in the title.
struct DemoPlot {
    let ledger: DemoLedger.State
    let victim: String
    let killSecond: Double

    func svg() -> String {
        let used = ledger.seconds.enumerated().filter { $0.element.latencies.count > 0 || $0.element.errors > 0 }
        func series(_ name: String, _ percentile: Double) -> SVGLineChart.Series {
            SVGLineChart.Series(name: name, points: used.map { (Double($0.offset) + 0.5, $0.element.latencies.milliseconds(at: percentile)) })
        }
        let latency = SVGLineChart(
            title: "Latency per second (SIGKILL \(victim) at \(Int(killSecond)) s)", xLabel: "seconds", yLabel: "ms",
            series: [series("p50", 50), series("p99", 99), series("p99.9", 99.9)])
        let throughput = SVGLineChart(
            title: "Requests per second and errors", xLabel: "seconds", yLabel: "per second",
            series: [
                SVGLineChart.Series(name: "ok", points: used.map { (Double($0.offset) + 0.5, Double($0.element.latencies.count)) }),
                SVGLineChart.Series(name: "errors", points: used.map { (Double($0.offset) + 0.5, Double($0.element.errors)) }),
            ])
        return stack([latency.render(), throughput.render()], height: latency.height)
    }

    /// Two SVG documents one above the other in one document.
    private func stack(_ documents: [String], height: Double) -> String {
        let width = 720.0
        var out = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height) * documents.count)">"#
        for (index, document) in documents.enumerated() {
            out += #"<g transform="translate(0,\#(Int(height) * index))">\#(document)</g>"#
        }
        return out + "</svg>\n"
    }
}
