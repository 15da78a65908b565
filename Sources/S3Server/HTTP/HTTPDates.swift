import Glibc
import Vault

/// The three time formats of the S3 wire: SigV4's basic ISO 8601 ("20240102T030405Z"),
/// HTTP dates (RFC 7231 IMF-fixdate, for Last-Modified and the If-* headers), and the
/// ISO 8601 with milliseconds of XML documents. All UTC; formatted without locale or
/// shared formatter state, so any thread may call them.
enum HTTPDates {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Seconds since the epoch of "yyyyMMdd'T'HHmmss'Z'", or nil.
    static func parseAmzDate(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int32(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0 ..< 4), let month = number(4 ..< 6), let day = number(6 ..< 8),
              let hour = number(9 ..< 11), let minute = number(11 ..< 13), let second = number(13 ..< 15),
              (1 ... 12).contains(month), (1 ... 31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Int64(timegm(&parts))
    }

    /// Seconds since the epoch of an HTTP date in the IMF-fixdate form every client sends
    /// ("Sun, 06 Nov 1994 08:49:37 GMT"), or nil (an unparsable If-* date is ignored, as
    /// RFC 7232 asks).
    static func parseHTTPDate(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int32(parts[1]), let year = Int32(parts[3]),
              let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int32(clock[0]), let minute = Int32(clock[1]), let second = Int32(clock[2]) else { return nil }
        var broken = tm()
        broken.tm_year = year - 1900
        broken.tm_mon = Int32(month)
        broken.tm_mday = day
        broken.tm_hour = hour
        broken.tm_min = minute
        broken.tm_sec = second
        return Int64(timegm(&broken))
    }

    static func httpDate(seconds: Int64) -> String {
        let parts = brokenDown(seconds)
        return "\(weekdays[Int(parts.tm_wday)]), \(pad(parts.tm_mday, 2)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)) GMT"
    }

    static func httpDate(_ time: Timestamp) -> String {
        httpDate(seconds: seconds(time))
    }

    /// "2024-01-02T03:04:05.678Z".
    static func iso8601(_ time: Timestamp) -> String {
        let parts = brokenDown(seconds(time))
        let milliseconds = Int32((time - seconds(time) * 1_000_000_000) / 1_000_000)
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(milliseconds, 3))Z"
    }

    /// Whole seconds of a nanosecond timestamp, rounded down (also before 1970).
    static func seconds(_ time: Timestamp) -> Int64 {
        time >= 0 ? time / 1_000_000_000 : (time - 999_999_999) / 1_000_000_000
    }

    static func nowSeconds() -> Int64 {
        Int64(time(nil))
    }

    private static func brokenDown(_ seconds: Int64) -> tm {
        var clock = time_t(seconds)
        var parts = tm()
        gmtime_r(&clock, &parts)
        return parts
    }

    private static func pad(_ value: Int32, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
