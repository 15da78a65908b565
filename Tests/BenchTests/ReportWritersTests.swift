import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import shardvault_bench

/// The JSON, Markdown and SVG the bench writes.
@Suite struct ReportWritersTests {
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                        nan: "nan")
        return decoder
    }

    @Test func jsonRoundTripKeepsResultsRatiosAndNonFiniteNumbers() throws {
        var report = BenchFixtures.compareReport(values: ["native": [100, 200, 300], "shardvault": [50, 100, 150]])
        report.results[0].max = .infinity
        let path = BenchFixtures.temporaryPath("report.json")
        try writeReportJSON(report, to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"max\" : \"inf\""))
        let back = try Self.decoder().decode(CompareReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(back.mode == "compare")
        #expect(back.results.map(\.name) == report.results.map(\.name))
        #expect(back.results.map(\.samples) == report.results.map(\.samples))
        #expect(back.results[0].max == .infinity)
        #expect(back.ratios.map(\.value) == report.ratios.map(\.value))
        #expect(back.runs.count == 6)
        #expect(back.configuration.phases == report.configuration.phases)
        // The diff reads the same file through its own, smaller schema.
        let diffView = try ReportDiff.load(path)
        #expect(diffView.mode == "compare")
        #expect(diffView.results.count == 4)
    }

    @Test func textTablesAlignAndRenderAsMarkdown() {
        var table = TextTable(header: ["phase", "unit", "native"], firstNumericColumn: 2)
        table.rows = [["write", "MB/s", "12.5"], ["untar", "s", "3"]]
        #expect(table.plain() == """
            phase  unit  native
            -------------------
            write  MB/s    12.5
            untar  s          3
            """)
        #expect(table.markdown() == """
            | phase | unit | native |
            | --- | --- | ---: |
            | write | MB/s | 12.5 |
            | untar | s | 3 |
            """)
    }

    @Test func compareMarkdownHasMediansAndRatios() {
        let report = BenchFixtures.compareReport(values: ["native": [100, 200, 300], "shardvault": [50, 100, 150]])
        let markdown = CompareTables.markdown(report)
        #expect(markdown.contains("| phase | unit | native | shardvault |"))
        #expect(markdown.contains("| write 1MiB+fsync | MB/s | 200 (100–300) | 100 (50.0–150) |"))
        #expect(markdown.contains("| untar | s | 200 (100–300) | 100 (50.0–150) |"))
        #expect(markdown.contains("| write 1MiB+fsync | 0.50× |"))
        #expect(markdown.contains("| untar | 2.00× |"))
        #expect(markdown.contains("| iterations passed |  | 3/3 | 3/3 |"))
    }

    /// Collects what a parser saw: elements by name with their attributes, and all text.
    final class Collector: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        var text = ""
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append((elementName, attributes))
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    }

    static func parse(_ svg: String) throws -> Collector {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        let parsed = parser.parse()
        #expect(parsed, "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")")
        return collector
    }

    @Test func compareChartIsWellFormedWithABarPerPhaseAndOtherTarget() throws {
        let report = BenchFixtures.compareReport(values: ["native": [100, 200, 300], "shardvault": [50, 100, 150],
                                                          "gocryptfs": [200, 400, 600]])
        let chart = try #require(CompareChart.make(report))
        #expect(chart.series == ["shardvault", "gocryptfs"])
        #expect(chart.groups.map(\.label) == ["write 1MiB+fsync", "untar"])
        let svg = try Self.parse(chart.render())
        #expect(svg.elements.first?.name == "svg")
        let bars = svg.elements.filter { $0.name == "rect" && $0.attributes["class"] == "bar" }
        #expect(bars.count == 4)
        #expect(svg.elements.filter { $0.attributes["class"] == "reference" }.count == 1)
        // Whiskers only where paired ratios spread: here every pair has the same ratio.
        #expect(svg.elements.filter { $0.attributes["class"] == "whisker" }.isEmpty)
        #expect(svg.text.contains("speed relative to native"))
        // A lone target has nothing to compare with.
        #expect(CompareChart.make(BenchFixtures.compareReport(values: ["native": [1]]))?.series.isEmpty == true)
    }

    @Test func chartTextIsEscaped() throws {
        var chart = SvgChart(title: "a<b & c>\"d\"", subtitle: "'q' <&", valueLabel: "x & y", series: ["s<&1", "s2"])
        chart.groups = [SvgChart.Group(label: "g<&>", bars: [SvgChart.Bar(value: 2, low: 1.5, high: 3), nil]),
                        SvgChart.Group(label: "h", bars: [SvgChart.Bar(value: 0.5), SvgChart.Bar(value: 0.25)])]
        let rendered = chart.render()
        #expect(rendered.contains("a&lt;b &amp; c&gt;&quot;d&quot;"))
        #expect(!rendered.contains("g<&>"))
        let svg = try Self.parse(rendered)
        #expect(svg.text.contains("a<b & c>\"d\""))
        #expect(svg.text.contains("s<&1"))
        #expect(svg.text.contains("g<&>"))
        #expect(svg.elements.filter { $0.name == "rect" && $0.attributes["class"] == "bar" }.count == 3)
        #expect(chart.drawnBarCount == 3)
        #expect(svg.elements.filter { $0.attributes["class"] == "whisker" }.count == 1)
        #expect(SvgChart.escape("<&>\"'") == "&lt;&amp;&gt;&quot;&apos;")
    }

    @Test func axisRangesAndTicks() {
        var chart = SvgChart(title: "t", valueLabel: "v", series: ["a"])
        chart.groups = [SvgChart.Group(label: "g", bars: [SvgChart.Bar(value: 3.2, low: 0.4, high: 7)])]
        let range = chart.axisRange()
        #expect(range.low == 0.1 && range.high == 10)
        #expect(chart.ticks() == [0.1, 0.2, 0.5, 1, 2, 5, 10])
        chart.scale = .linear
        #expect(chart.axisRange().low == 0)
        #expect(chart.ticks().first == 0)
        #expect(chart.ticks().allSatisfy { $0 <= chart.axisRange().high })
        // Non-positive values cannot sit on a log axis: not drawn, and the document stays valid.
        chart.scale = .logarithmic
        chart.groups[0].bars = [SvgChart.Bar(value: 0)]
        #expect(chart.drawnBarCount == 0)
        #expect(chart.render().hasSuffix("</svg>\n"))
    }
}
