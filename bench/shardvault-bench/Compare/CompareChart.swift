import Foundation

/// `compare --svg FILE`: every measured target's speed relative to the first one asked for (the
/// baseline), one group of bars per phase, one bar per other target. A bar is the ratio of
/// medians (>1: faster than the baseline), its whisker the min–max of the paired iterations'
/// ratios — the same numbers as `CompareRatios`, drawn on a log axis with a line at 1.0.
enum CompareChart {
    static func make(_ report: CompareReport) -> SvgChart? {
        let measured = report.measuredTargets
        guard let baseline = measured.first else { return nil }
        let others = Array(measured.dropFirst())
        let configuration = report.configuration
        var chart = SvgChart(
            title: "compare (\(configuration.workload)): speed relative to \(baseline)",
            subtitle: "\(configuration.scale) scale, \(configuration.iterations) iteration(s), \(report.host.hostname), "
                + "\(report.startedAt); >1: faster than \(baseline); whiskers: min–max of paired iterations",
            valueLabel: "speed ÷ \(baseline)'s", series: others)
        for phase in configuration.phases {
            let bars: [SvgChart.Bar?] = others.map { target in
                CompareRatios.ratio(report, phase, target, baseline).map {
                    SvgChart.Bar(value: $0.value, low: $0.pairedMin, high: $0.pairedMax)
                }
            }
            chart.groups.append(SvgChart.Group(label: phase.title, bars: bars))
        }
        return chart
    }

    /// Writes the chart, or says why there is none (fewer than two measured targets).
    static func write(_ report: CompareReport, to path: String) throws {
        guard let chart = make(report), !chart.series.isEmpty else {
            print("no chart written to \(path): it needs at least two measured targets")
            return
        }
        try chart.render().write(toFile: path, atomically: true, encoding: .utf8)
        print("wrote \(path)")
    }
}
