#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A line chart written as SVG by hand (no dependencies): named series of (x, y) points,
/// optional log-scale x axis, axis ticks, legend.
public struct SVGLineChart: Sendable {
    /// One line.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logX = false
    public var series: [Series]
    public var width = 720.0
    public var height = 440.0

    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logX = logX
        self.series = series
    }

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    public func render() -> String {
        let left = 70.0, right = 20.0, top = 40.0, bottom = 60.0
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let all = series.flatMap(\.points).filter { !logX || $0.x > 0 }
        let xs = all.map { logX ? log10($0.x) : $0.x }
        let ys = all.map(\.y)
        var xMin = xs.min() ?? 0, xMax = xs.max() ?? 1
        if logX { xMin = xMin.rounded(.down); xMax = xMax.rounded(.up) } else { xMin = min(0, xMin) }
        if xMax <= xMin { xMax = xMin + 1 }
        let yMin = min(0, ys.min() ?? 0)
        var yMax = ys.max() ?? 1
        if yMax <= yMin { yMax = yMin + 1 }
        yMax *= 1.05
        func px(_ x: Double) -> Double { left + ((logX ? log10(x) : x) - xMin) / (xMax - xMin) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (y - yMin) / (yMax - yMin) * plotHeight }

        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(Int(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>\n"
        // Axes and ticks.
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(top + plotHeight))\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\" stroke=\"black\"/>\n"
        for tick in xTicks(xMin, xMax) {
            let x = left + (tick - xMin) / (xMax - xMin) * plotWidth
            let label = logX ? label(pow(10, tick)) : label(tick)
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + plotHeight))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(f(x))\" y=\"\(f(top + plotHeight + 16))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        for tick in niceTicks(yMin, yMax) {
            let y = py(tick)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(label(tick))</text>\n"
        }
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 18))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(16 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        // Lines and legend.
        for (index, line) in series.enumerated() {
            let color = Self.colors[index % Self.colors.count]
            let points = line.points.filter { !logX || $0.x > 0 }.map { "\(f(px($0.x))),\(f(py($0.y)))" }
            if !points.isEmpty {
                svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
                for point in points {
                    let xy = point.split(separator: ",")
                    svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(color)\"/>\n"
                }
            }
            let legendY = top + 14 + Double(index) * 16
            svg += "<rect x=\"\(f(left + 10))\" y=\"\(f(legendY - 9))\" width=\"12\" height=\"3\" fill=\"\(color)\"/>\n"
            svg += "<text x=\"\(f(left + 28))\" y=\"\(f(legendY - 3))\">\(escape(line.name))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private func xTicks(_ low: Double, _ high: Double) -> [Double] {
        if logX { return stride(from: low, through: high, by: 1).map { $0 } }
        return niceTicks(low, high)
    }

    /// About five round tick values between `low` and `high`.
    func niceTicks(_ low: Double, _ high: Double) -> [Double] {
        let span = high - low
        guard span > 0, span.isFinite else { return [low] }
        let raw = span / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var ticks: [Double] = []
        var tick = (low / step).rounded(.up) * step
        while tick <= high + step * 1e-9, ticks.count < 20 {
            ticks.append(tick)
            tick += step
        }
        return ticks
    }

    private func label(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e12 { return String(Int64(value)) }
        return String((value * 1000).rounded() / 1000)
    }

    private func f(_ value: Double) -> String { String((value * 10).rounded() / 10) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// The plots of `locality bench stateful`.
public enum StatefulPlots {
    /// Latency CDF per system (x: latency in ms, log scale; y: percentile).
    public static func latencyCDF(_ report: StatefulReport, order: [String], closedLoop: Bool) -> String {
        let series = order.compactMap { name -> SVGLineChart.Series? in
            guard let result = report.systems[name] else { return nil }
            let figures = closedLoop ? result.closedLoop : (result.fixedRate.first ?? result.closedLoop)
            return SVGLineChart.Series(name: name, points: figures.cdf.map { ($0.milliseconds, $0.percentile) })
        }
        let title = closedLoop
            ? "Latency CDF, closed loop (\(report.connections) connections)"
            : "Latency CDF at \(Int(report.systems.values.first?.latencyAtRPS ?? 0)) req/s offered"
        return SVGLineChart(title: title, xLabel: "latency (ms, log scale)", yLabel: "percentile", logX: true, series: series).render()
    }

    /// Achieved vs offered throughput per system.
    public static func throughputVsOffered(_ report: StatefulReport, order: [String]) -> String {
        let series = order.compactMap { name -> SVGLineChart.Series? in
            guard let result = report.systems[name] else { return nil }
            return SVGLineChart.Series(name: name, points: result.fixedRate.map { ($0.offeredRPS ?? 0, $0.throughputRPS) })
        }
        return SVGLineChart(title: "Throughput vs offered load", xLabel: "offered (requests/s)", yLabel: "achieved (requests/s)", series: series).render()
    }
}
