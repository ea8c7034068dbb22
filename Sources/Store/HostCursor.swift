/// The opaque cursor of `GET /v1/hosts` pages: a position in the busiest-first order.
public enum HostCursor {
    public static func cursor(_ offset: Int) -> String { Cursor.encode(Int64(offset)) }

    /// The position a host cursor stands for; throws `invalidCursor` for one this service did not issue.
    public static func offset(_ cursor: String) throws -> Int { Int(clamping: try Cursor.decode(cursor)) }
}
