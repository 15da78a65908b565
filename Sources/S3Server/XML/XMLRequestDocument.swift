import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A request body in XML (DeleteObjects, CompleteMultipartUpload) read into a tree of elements.
/// Anything that is not well-formed XML, or is not the expected root, is MalformedXML.
struct XMLElementNode {
    var name: String
    var text = ""
    var children: [XMLElementNode] = []

    func child(_ name: String) -> XMLElementNode? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLElementNode] { children.filter { $0.name == name } }

    /// Parses `bytes`, requiring the root element to be `root`.
    static func parse(_ bytes: [UInt8], root: String) throws(S3Error) -> XMLElementNode {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        guard parser.parse(), let document = builder.root else {
            throw S3Error(.malformedXML, "the XML you provided was not well-formed or did not validate against our published schema")
        }
        guard document.name == root else {
            throw S3Error(.malformedXML, "expected a <\(root)> document, got <\(document.name)>")
        }
        return document
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var stack: [XMLElementNode] = []
        var root: XMLElementNode?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            stack.append(XMLElementNode(name: elementName))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            guard let finished = stack.popLast() else { return }
            if stack.isEmpty {
                root = finished
            } else {
                stack[stack.count - 1].children.append(finished)
            }
        }
    }
}
