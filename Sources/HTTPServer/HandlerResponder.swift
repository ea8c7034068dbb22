/// A responder made of a closure, with the plain-text failure answers.
struct HandlerResponder: HTTPResponder {
    let handler: HTTPHandler

    func reply(to request: HTTPRequest) throws -> Reply { try handler(request) }
}
