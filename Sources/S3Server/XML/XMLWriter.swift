/// Builds the small XML documents S3 answers with. Text is escaped; element names are ours.
struct XMLWriter {
    private(set) var text = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
    private var open: [String] = []

    static let namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    /// Opens the document's root element in the S3 namespace.
    init(root: String) {
        text += "<\(root) xmlns=\"\(Self.namespace)\">"
        open.append(root)
    }

    /// A document whose root has no namespace (the Error document).
    init(plainRoot root: String) {
        text += "<\(root)>"
        open.append(root)
    }

    mutating func start(_ name: String) {
        text += "<\(name)>"
        open.append(name)
    }

    mutating func end() {
        text += "</\(open.removeLast())>"
    }

    mutating func element(_ name: String, _ value: String) {
        text += "<\(name)>\(Self.escape(value))</\(name)>"
    }

    mutating func element(_ name: String, _ value: some BinaryInteger) {
        text += "<\(name)>\(value)</\(name)>"
    }

    mutating func element(_ name: String, _ value: Bool) {
        text += "<\(name)>\(value ? "true" : "false")</\(name)>"
    }

    mutating func optional(_ name: String, _ value: String?) {
        if let value { element(name, value) }
    }

    /// Closes every open element and returns the document.
    mutating func finish() -> String {
        while !open.isEmpty { end() }
        return text
    }

    static func escape(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            // Control characters cannot appear in XML 1.0 text even escaped as entities
            // (except tab, LF, CR); keys holding them are listed with encoding-type=url.
            case "\u{9}", "\u{A}", "\u{D}": escaped += "&#\(scalar.value);"
            default:
                if scalar.value < 0x20 { escaped += "&#\(scalar.value);" } else { escaped.unicodeScalars.append(scalar) }
            }
        }
        return escaped
    }
}
