/// Settings of the HTTP listener.
public struct HTTPServerConfiguration: Sendable {
    /// An IPv4 or IPv6 address literal.
    public var host: String
    /// 0 picks a free port; `HTTPServer.port` tells which.
    public var port: Int
    public var threads: Int
    /// Largest request body accepted; larger ones get 413 and are not read.
    public var maxRequestBytes: Int
    /// Seconds an idle connection is kept.
    public var connectionTimeoutSeconds: Int
    /// Seconds a connection has for its request line and headers, from its accept or from the end
    /// of its previous response; then it is closed (with a 408 when it still takes one).
    public var headerTimeoutSeconds: Int
    /// Bytes a second a request body must average after its first second, or its connection is
    /// closed as by `headerTimeoutSeconds`; 0 for no floor.
    public var minBodyRate: Int
    /// Connections open at once; more are closed at accept.
    public var connectionLimit: Int
    /// Connections open at once from one client address; 0 for no limit.
    public var perIPConnectionLimit: Int

    /// No defaults here: the application that runs the server holds them.
    public init(
        host: String, port: Int, threads: Int, maxRequestBytes: Int, connectionTimeoutSeconds: Int,
        headerTimeoutSeconds: Int, minBodyRate: Int, connectionLimit: Int, perIPConnectionLimit: Int
    ) {
        self.host = host
        self.port = port
        self.threads = threads
        self.maxRequestBytes = maxRequestBytes
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.minBodyRate = minBodyRate
        self.connectionLimit = connectionLimit
        self.perIPConnectionLimit = perIPConnectionLimit
    }
}
