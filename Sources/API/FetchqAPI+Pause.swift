import Engine
import HTTPServer
import Store

// Pausing and resuming: `POST /v1/jobs/{id}/pause|resume` and `POST /v1/hosts/{host}/pause|resume`.

extension FetchqAPI {
    /// `POST /v1/jobs/{id}/pause` and `/resume`: the job as `GET /v1/jobs/{id}` shows it.
    func setPaused(_ paused: Bool, job id: String) throws -> Reply {
        guard let jobID = JobID(id) else { throw Problem.notFound("Job \(id)") }
        let (store, logger, wake, now) = (self.store, self.logger, self.wake, clock.wallMillis())
        return .later {
            do {
                guard
                    let job = try await paused
                        ? store.pause(job: jobID, now: now) : store.resume(job: jobID, now: now)
                else { return Problem.notFound("Job \(id)").response }
                if !paused { wake() }
                logger.info(paused ? "job paused" : "job resumed", metadata: ["job.id": "\(jobID)"])
                return .json(200, Representation.job(job))
            } catch let error as StoreError where error.code == .conflict {
                return Problem.jobCompleted(id).response
            } catch {
                return Problem.writeFailed(error, logger: logger, "pausing or resuming a job failed").response
            }
        }
    }

    /// `POST /v1/hosts/{host}/pause`: the host as `GET /v1/hosts` lists it.
    func pauseHost(_ name: String, _ request: HTTPRequest) throws -> Reply {
        let host = try HostPauseRequest.host(name)
        try checkJSONWrite(request)
        let now = clock.wallMillis()
        let until = try HostPauseRequest.until(request.body, now: now)
        let (store, logger, api) = (self.store, self.logger, self)
        return .later {
            do {
                try await store.pause(host: host, until: until, now: now)
                logger.info("host paused", metadata: ["host": "\(host)", "host.paused_until": "\(until)"])
                return .json(200, Representation.host(try await api.hostRecord(host)))
            } catch {
                return Problem.writeFailed(error, logger: logger, "pausing a host failed").response
            }
        }
    }

    /// `POST /v1/hosts/{host}/resume`: ends a pause made with `/pause` at once (a pause the host
    /// asked for with Retry-After is kept until its end).
    func resumeHost(_ name: String) throws -> Reply {
        let host = try HostPauseRequest.host(name)
        let (store, logger, wake, api) = (self.store, self.logger, self.wake, self)
        return .later {
            do {
                try await store.resume(host: host)
                wake()
                logger.info("host resumed", metadata: ["host": "\(host)"])
                return .json(200, Representation.host(try await api.hostRecord(host)))
            } catch {
                return Problem.writeFailed(error, logger: logger, "resuming a host failed").response
            }
        }
    }
}

extension Problem {
    /// A pause or resume of a job whose tasks are all final.
    static func jobCompleted(_ id: String) -> Problem {
        Problem(
            status: 409, code: "job_completed", title: "Job is completed",
            detail: "Job \(id) is completed: every task is final, so there is nothing to pause or resume.")
    }
}
