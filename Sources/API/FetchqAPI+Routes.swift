import HTTPServer

extension FetchqAPI {
    /// Every route of the API, one line each. The 404 and 405 answers, the metrics' route label and
    /// the contract test against `openapi.yaml` all read this table. Health, the contract and the
    /// dashboard's files are open (the page holds no data: it asks `/v1` for everything, with the
    /// token); everything under `/v1`, and `/metrics`, needs a token when tokens are set.
    static let routes: RouteTable<FetchqAPI> = [
        .get("/", .open) { _, _ in .now(DashboardFile.page.response) },
        .get("/dashboard.css", .open) { _, _ in .now(DashboardFile.style.response) },
        .get("/dashboard.js", .open) { _, _ in .now(DashboardFile.script.response) },
        .get("/healthz", .open) { api, _ in .now(api.health()) },
        .get("/openapi.yaml", .open) { _, _ in .now(FetchqAPI.openAPIResponse) },
        .read("/metrics") { api, _ in try await api.scrapeMetrics() },
        .read("/v1/hosts") { api, call in try await api.listHosts(call.query) },
        .post("/v1/hosts/{host}/pause") { api, call in try api.pauseHost(call["host"], call.request) },
        .post("/v1/hosts/{host}/resume") { api, call in try api.resumeHost(call["host"]) },
        .read("/v1/nodes") { api, _ in try await api.listNodes() },
        .read("/v1/stats") { api, _ in try await api.stats() },
        .read("/v1/jobs") { api, call in try await api.listJobs(call.query) },
        .post("/v1/jobs") { api, call in try api.submit(call.request) },
        .get("/v1/jobs/{id}") { api, call in try api.job(call["id"], call.request) },
        .delete("/v1/jobs/{id}") { api, call in api.deleteJob(call["id"]) },
        .read("/v1/jobs/{id}/tasks") { api, call in try await api.listTasks(of: call["id"], call.query) },
        .post("/v1/jobs/{id}/tasks") { api, call in try api.append(call.request, to: call["id"]) },
        .post("/v1/jobs/{id}/cancel") { api, call in try api.cancelJob(call["id"]) },
        .post("/v1/jobs/{id}/seal") { api, call in try api.seal(call["id"]) },
        .post("/v1/jobs/{id}/pause") { api, call in try api.setPaused(true, job: call["id"]) },
        .post("/v1/jobs/{id}/resume") { api, call in try api.setPaused(false, job: call["id"]) },
        .read("/v1/jobs/{id}/results") { api, call in try await api.results(of: call["id"], call.query) },
        .get("/v1/jobs/{id}/deliveries") { api, call in try api.deliveries(of: call["id"], call.request) },
        .read("/v1/tasks/{id}") { api, call in try await api.task(call["id"]) },
        .read("/v1/tasks/{id}/body") { api, call in try await api.body(of: call["id"]) },
        .post("/v1/tasks/{id}/cancel") { api, call in try api.cancelTask(call["id"]) },
        .post("/v1/tasks/{id}/retry") { api, call in try api.retryTask(call["id"]) },
        .post("/v1/deliveries/{id}/redeliver") { api, call in api.redeliver(call["id"]) },
    ]

    /// `openapi.yaml`, as embedded at build time.
    private static let openAPIResponse = HTTPResponse(
        status: 200, headers: [("Content-Type", "application/yaml")], body: Array(OpenAPIDocument.text.utf8))
}
