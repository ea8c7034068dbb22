/// Task counts per state (`queued`, `running`, `succeeded`, `failed`, `canceled`).
typealias StateCounts = [String: Int]

let taskStates = ["queued", "running", "succeeded", "failed", "canceled"]
