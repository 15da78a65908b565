import Foundation

/// A grouped bar chart written as a standalone SVG document, by hand (no dependencies): one
/// group of bars per category, one bar per series, optional min–max whiskers per bar, a
/// reference line (1.0 for ratios), a linear or logarithmic value axis, and a legend. Every
/// piece of text is XML-escaped, so names from the command line cannot break the document.
struct SvgChart {
    struct Bar {
        var value: Double
        /// Whisker ends (paired min–max), drawn when both are present and differ.
        var low: Double? = nil
        var high: Double? = nil
    }

    struct Group {
        var label: String
        /// One entry per series, in `series` order; nil leaves a gap (no value for that series).
        var bars: [Bar?]
    }

    enum Scale { case linear, logarithmic }

    var title: String
    var subtitle: String? = nil
    var valueLabel: String
    var series: [String]
    var groups: [Group] = []
    var scale: Scale = .logarithmic
    /// Drawn across the plot as a dashed line (ratios: 1.0 means "as fast as the baseline").
    var reference: Double? = 1.0

    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
                          "#9c755f", "#bab0ac"]

    /// Escapes the five XML special characters for text and attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Number of bars drawn (values present, positive on a log axis).
    var drawnBarCount: Int {
        groups.reduce(0) { $0 + $1.bars.compactMap { $0 }.filter { isDrawable($0.value) }.count }
    }

    private func isDrawable(_ value: Double) -> Bool {
        value.isFinite && (scale == .linear || value > 0)
    }

    /// The value range the axis spans: every bar, whisker and the reference, with some room.
    func axisRange() -> (low: Double, high: Double) {
        var values = groups.flatMap { $0.bars.compactMap { $0 }.flatMap { [$0.value, $0.low, $0.high].compactMap { $0 } } }
            .filter(isDrawable)
        if let reference { values.append(reference) }
        guard let low = values.min(), let high = values.max() else { return scale == .linear ? (0, 1) : (0.1, 10) }
        switch scale {
        case .linear:
            let top = high <= 0 ? 1 : high * 1.1
            return (Swift.min(0, low), top)
        case .logarithmic:
            // Whole decades around the data, at least one on each side of 1 when the reference is 1.
            let lowDecade = floor(log10(low) + 1e-9)
            var highDecade = ceil(log10(high) - 1e-9)
            if highDecade <= lowDecade { highDecade = lowDecade + 1 }
            return (pow(10, lowDecade), pow(10, highDecade))
        }
    }

    /// Axis ticks: 1-2-5 per decade on a log axis (thinned to the ends of each decade when many),
    /// about six round numbers on a linear one.
    func ticks() -> [Double] {
        let (low, high) = axisRange()
        switch scale {
        case .logarithmic:
            let decades = Int((log10(high) - log10(low)).rounded())
            let steps: [Double] = decades > 3 ? [1] : [1, 2, 5]
            var values: [Double] = []
            var decade = low
            while decade <= high * 1.0001 {
                for step in steps where decade * step <= high * 1.0001 { values.append(decade * step) }
                decade *= 10
            }
            return values
        case .linear:
            let span = high - low
            let raw = span / 6
            let magnitude = pow(10, floor(log10(raw)))
            let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
            var values: [Double] = []
            var value = (low / step).rounded(.down) * step
            while value <= high + step * 1e-6 {
                if value >= low - step * 1e-6 { values.append(value) }
                value += step
            }
            return values
        }
    }

    static func tickLabel(_ value: Double) -> String {
        if value >= 100 || value == value.rounded() && value >= 1 { return String(format: "%.0f", value) }
        if value >= 1 { return String(format: "%.1f", value) }
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    static func valueLabel(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }

    /// The SVG document.
    func render() -> String {
        let barWidth = 18.0, barGap = 4.0, groupGap = 26.0
        let right = 20.0, top = subtitle == nil ? 50.0 : 66.0, plotHeight = 300.0
        let perGroup = Double(max(series.count, 1)) * (barWidth + barGap) - barGap
        // Wide enough for the bars, the title and the subtitle (≈ average glyph widths of sans-serif).
        let textWidth = max(Double(title.count) * 9.5, Double(subtitle?.count ?? 0) * 6.3) - right
        let plotWidth = max(320, textWidth, Double(groups.count) * (perGroup + groupGap) + groupGap)
        // The first group's label is rotated 40° leftwards from the middle of its slot: room for it.
        let firstLabelReach = Double(groups.first?.label.count ?? 0) * 6.3 * cos(40 * Double.pi / 180)
        let left = max(70, firstLabelReach - plotWidth / Double(max(groups.count, 1)) / 2 + 10)
        let longestLabel = groups.map(\.label.count).max() ?? 0
        // Group labels are rotated 40° under the plot; leave room for the longest.
        let labelRoom = min(260, 20 + Double(longestLabel) * 5.2)
        let legendTop = top + plotHeight + labelRoom + 10
        let legendRows = (series.count + 2) / 3
        let width = left + plotWidth + right
        let height = legendTop + Double(legendRows) * 20 + 16

        let (low, high) = axisRange()
        func y(_ value: Double) -> Double {
            let fraction: Double
            switch scale {
            case .linear: fraction = (value - low) / (high - low)
            case .logarithmic: fraction = (log10(max(value, low)) - log10(low)) / (log10(high) - log10(low))
            }
            return top + plotHeight * (1 - min(max(fraction, 0), 1))
        }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }

        var svg: [String] = []
        svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
                   + "viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"12\">")
        svg.append("<title>\(Self.escape(title))</title>")
        svg.append("<rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>")
        svg.append("<text x=\"\(f(left))\" y=\"24\" font-size=\"16\" font-weight=\"bold\">\(Self.escape(title))</text>")
        if let subtitle {
            svg.append("<text x=\"\(f(left))\" y=\"44\" fill=\"#555555\">\(Self.escape(subtitle))</text>")
        }

        // Axis, grid and tick labels.
        svg.append("<g class=\"axis\" stroke=\"#dddddd\" stroke-width=\"1\">")
        for tick in ticks() {
            svg.append("<line x1=\"\(f(left))\" y1=\"\(f(y(tick)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y(tick)))\"/>")
        }
        svg.append("</g>")
        for tick in ticks() {
            svg.append("<text x=\"\(f(left - 6))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\" fill=\"#333333\">"
                       + "\(Self.escape(Self.tickLabel(tick)))</text>")
        }
        svg.append("<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\" stroke=\"#333333\"/>")
        svg.append("<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(left + plotWidth))\" "
                   + "y2=\"\(f(top + plotHeight))\" stroke=\"#333333\"/>")
        let axisTitle = valueLabel + (scale == .logarithmic ? " (log scale)" : "")
        svg.append("<text transform=\"translate(16 \(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\" "
                   + "fill=\"#333333\">\(Self.escape(axisTitle))</text>")

        // Bars, whiskers and group labels.
        for (index, group) in groups.enumerated() {
            // Groups share the plot's width evenly, each centred in its slot.
            let slot = plotWidth / Double(groups.count)
            let groupLeft = left + Double(index) * slot + (slot - perGroup) / 2
            for (seriesIndex, bar) in group.bars.enumerated() {
                guard let bar, isDrawable(bar.value), seriesIndex < series.count else { continue }
                let x = groupLeft + Double(seriesIndex) * (barWidth + barGap)
                // Log axis: bars grow from the reference (up: faster, down: slower); linear: from 0.
                let base = scale == .linear ? y(max(low, 0)) : y(reference ?? low)
                let barTop = y(bar.value)
                let colour = Self.palette[seriesIndex % Self.palette.count]
                var tooltip = "\(group.label), \(series[seriesIndex]): \(String(format: "%.3g", bar.value))"
                if let barLow = bar.low, let barHigh = bar.high, barLow != barHigh {
                    tooltip += String(format: " (%.3g–%.3g)", barLow, barHigh)
                }
                svg.append("<rect class=\"bar\" x=\"\(f(x))\" y=\"\(f(min(barTop, base)))\" width=\"\(f(barWidth))\" "
                           + "height=\"\(f(abs(base - barTop)))\" fill=\"\(colour)\"><title>\(Self.escape(tooltip))</title></rect>")
                // The value, just past the bar's end (a bar near the reference has almost no height).
                let above = barTop <= base
                svg.append("<text class=\"value\" x=\"\(f(x + barWidth / 2))\" y=\"\(f(above ? barTop - 3 : barTop + 10))\" "
                           + "text-anchor=\"middle\" font-size=\"9\" fill=\"#333333\">\(Self.escape(Self.valueLabel(bar.value)))</text>")
                if let barLow = bar.low, let barHigh = bar.high, barLow != barHigh, isDrawable(barLow), isDrawable(barHigh) {
                    let centre = x + barWidth / 2
                    svg.append("<g class=\"whisker\" stroke=\"#222222\" stroke-width=\"1.2\">"
                               + "<line x1=\"\(f(centre))\" y1=\"\(f(y(barLow)))\" x2=\"\(f(centre))\" y2=\"\(f(y(barHigh)))\"/>"
                               + "<line x1=\"\(f(centre - 4))\" y1=\"\(f(y(barLow)))\" x2=\"\(f(centre + 4))\" y2=\"\(f(y(barLow)))\"/>"
                               + "<line x1=\"\(f(centre - 4))\" y1=\"\(f(y(barHigh)))\" x2=\"\(f(centre + 4))\" y2=\"\(f(y(barHigh)))\"/>"
                               + "</g>")
                }
            }
            let labelX = groupLeft + perGroup / 2
            let labelY = top + plotHeight + 14
            svg.append("<text x=\"\(f(labelX))\" y=\"\(f(labelY))\" text-anchor=\"end\" "
                       + "transform=\"rotate(-40 \(f(labelX)) \(f(labelY)))\" fill=\"#333333\">\(Self.escape(group.label))</text>")
        }

        if let reference, reference >= low, reference <= high {
            svg.append("<line class=\"reference\" x1=\"\(f(left))\" y1=\"\(f(y(reference)))\" x2=\"\(f(left + plotWidth))\" "
                       + "y2=\"\(f(y(reference)))\" stroke=\"#000000\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>")
        }

        // Legend: three entries a row.
        for (index, name) in series.enumerated() {
            let x = left + Double(index % 3) * 220
            let rowY = legendTop + Double(index / 3) * 20
            svg.append("<rect x=\"\(f(x))\" y=\"\(f(rowY))\" width=\"12\" height=\"12\" fill=\"\(Self.palette[index % Self.palette.count])\"/>")
            svg.append("<text x=\"\(f(x + 18))\" y=\"\(f(rowY + 10))\">\(Self.escape(name))</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
