import Store

extension SchedulerCore {
    /// Something that happened: a message from the inbox, or the outcome of an action performed.
    enum Event {
        /// New work may be due (a submit, a retry made by a user).
        case wake
        /// The periodic tick: restart paused workers, kill stuck ones, look for due tasks.
        case tick
        case result(WorkerRef, FetchResult)
        /// An order the worker held queued and never started (it waited too long for a slot, or
        /// was asked back in a drain): its task goes back without the attempt counting.
        case unstarted(WorkerRef, LeaseKey)
        case exited(WorkerRef, Termination, String?)
        /// Abort the running tasks with these seqs (they were canceled).
        case abort([Int64])
        /// Begin the drain: nothing new is claimed; in-flight tasks get the grace period.
        case shutdown
        /// The process of `Action.launch` runs.
        case launched(WorkerRef)
        /// The process of `Action.launch` could not be started.
        case launchFailed(WorkerRef)
        /// `Action.recordAndClaim` committed and claimed these tasks, in the store's order.
        case claimed([ClaimedTask])
        /// `Action.recordAndClaim` failed: its results are to be recorded on a later pass.
        case recordFailed([AttemptResult])
        /// `Action.returnLost` failed: its leases are to be returned on a later pass.
        case returnLostFailed([LeaseKey])
        /// `Action.giveBack` failed: its leases are to be given back on a later pass.
        case giveBackFailed([LeaseKey])
        /// `Action.fetchRobots` ended with this answer for the origin.
        case robotsFetched(origin: String, RobotsAnswer)
    }

    /// Something for `Scheduler` to do, in the order given.
    enum Action {
        /// Start a worker process for this slot and generation; answer `.launched` or `.launchFailed`.
        case launch(WorkerRef)
        /// Write these fetch orders to one worker in one batch. A failed write is only logged: the
        /// worker is dying, and its exit returns the tasks.
        case dispatch(Dispatch)
        /// Ask a worker to abort the fetch holding this lease; a failed write is ignored.
        case cancel(LeaseKey, on: WorkerRef)
        /// Ask a worker to hand back the orders it holds queued (the drain began).
        case handBack(WorkerRef)
        /// Return unstarted tasks to the queue; the attempt does not count. Answer
        /// `.giveBackFailed` if it could not be written.
        case giveBack([LeaseKey], now: Int64)
        /// Return unstarted tasks to the queue, due again at `until` (their origin's robots.txt is
        /// being fetched, or failing); the attempt does not count. Answer `.giveBackFailed` if it
        /// could not be written.
        case holdBack([LeaseKey], until: Int64, now: Int64)
        /// Fetch the origin's robots.txt (known to the limits as `host`); answer `.robotsFetched`.
        case fetchRobots(origin: String, host: String)
        /// End a worker's process at once.
        case kill(WorkerRef, KillReason)
        /// Close a worker's order pipe: it aborts what it still runs and exits.
        case stop(WorkerRef)
        /// Return a dead worker's tasks to the queue; the attempt counts (`worker_lost`).
        case returnLost([LeaseKey], now: Int64)
        /// One transaction: record results, then claim due tasks; answer `.claimed` or `.recordFailed`.
        case recordAndClaim(RecordAndClaim)
        /// Return what is still in flight when the drain ends; the attempt does not count.
        case returnInFlight([LeaseKey], now: Int64)
        /// Something worth logging.
        case note(Note)
    }

    /// Fetch orders for one worker, with the ids of their tasks (for the log).
    struct Dispatch {
        let worker: WorkerRef
        private(set) var orders: [Order] = []
        private(set) var tasks: [TaskID] = []

        init(worker: WorkerRef) { self.worker = worker }

        mutating func append(_ order: Order, task: TaskID) {
            orders.append(order)
            tasks.append(task)
        }
    }

    /// The pass's one write: results to record, and how many due tasks to claim within which
    /// per-host allowance (`limit` 0 claims none).
    struct RecordAndClaim {
        let results: [AttemptResult]
        let limit: Int
        let hosts: HostAllowance
        let now: Int64
    }

    /// Why a worker is killed.
    enum KillReason: Equatable {
        /// It holds these tasks long past their timeout and lease margin.
        case stuck([TaskID])
        /// It did not exit within `stopTimeout` of being stopped.
        case didNotStop
    }

    /// What the log should say about a decision.
    enum Note {
        case draining(inFlight: Int, graceMillis: Int)
        /// A worker died outside a drain; its tasks go back to the queue and it is restarted.
        case workerLost(WorkerRef, Termination, error: String?, tasksReturned: Int)
        case attemptFinished(
            TaskID, attempt: Int, statusCode: Int?, failure: FetchFailure.Kind?, disposition: Disposition,
            AttemptDetail)
        /// A task failed without a request: robots.txt disallows it (`robots_disallowed`), or has
        /// been unavailable too long (`robots_unavailable`).
        case refusedByRobots(TaskID, error: String, message: String)
        /// An origin's robots.txt was fetched.
        case robotsFetched(origin: String, result: String)
    }

    /// The rest of a finished attempt, for metrics and the hosts' recent activity.
    struct AttemptDetail: Equatable {
        let host: String
        let durationMillis: Int
        let errorMessage: String?
        let finishedAt: Int64
        /// The host's limit, when this attempt lowered it.
        var limitLowered: Int? = nil
    }
}
