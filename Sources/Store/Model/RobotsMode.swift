/// Whether a job's GET and HEAD tasks are checked against their origin's robots.txt first
/// (`obey`), or sent as they are (`ignore`, the service's default unless set otherwise).
public enum RobotsMode: String, Sendable, CaseIterable {
    case obey
    case ignore
}
