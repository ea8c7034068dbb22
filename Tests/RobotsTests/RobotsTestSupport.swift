import Robots

/// Parses robots.txt text written inline in a test.
func parseRobots(_ text: String) -> RobotsTxt {
    RobotsTxt(parsing: text.utf8)
}
