//! The client's threads: N shards, each an OS thread running its own
//! single-threaded tokio runtime with its own connections. Requests never
//! cross threads after dispatch, so there is no lock contention and no
//! work-stealing overhead on the hot path (the design of wrk and oha).
//!
//! Two ways in: [`Dispatcher::submit`] queues one request on a shard (the
//! core's `issue_query` and the constant-rate driver use it; a shard runs
//! at most its share of `max_connections` at once and queues the rest, and
//! that queueing time is recorded as the request's send wait), and
//! [`Dispatcher::run_closed_loop`] runs virtual users that each own one
//! connection (fixed concurrency).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch, Semaphore};

use crate::client::{connect, exec, Connection, ExecCtx, Hook};
use crate::error::EndpointError;
use crate::record::RequestRecord;

/// One queued request.
#[derive(Debug)]
pub struct Job {
    pub seq: u64,
    pub sample: usize,
    pub run: u64,
    pub scheduled: Instant,
    pub hook: Hook,
}

/// Counts finished requests; a thread can wait for a target count.
#[derive(Debug, Default)]
pub struct DoneCounter {
    count: Mutex<u64>,
    cv: Condvar,
}

impl DoneCounter {
    fn add(&self) {
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        *c += 1;
        self.cv.notify_all();
    }

    pub fn get(&self) -> u64 {
        *self.count.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `target` requests finished or `timeout` passed; returns
    /// the count.
    pub fn wait_for(&self, target: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        while *c < target {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            c = match self.cv.wait_timeout(c, deadline - now) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        *c
    }
}

struct Shard {
    handle: tokio::runtime::Handle,
    tx: mpsc::UnboundedSender<Job>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    idle: Arc<Mutex<Vec<Connection>>>,
}

/// Counters of the client itself, for the report.
#[derive(Debug, Default)]
pub struct ClientCounters {
    pub submitted: AtomicU64,
    /// Highest number of requests in flight at once.
    pub max_in_flight: AtomicU64,
    in_flight: AtomicU64,
    /// Requests that had to wait for a free connection slot.
    pub waited_for_slot: AtomicU64,
}

/// The client: shards, their connection pools and the collected records.
pub struct Dispatcher {
    shards: Vec<Shard>,
    next: AtomicUsize,
    pub ctx: Arc<ExecCtx>,
    records: Arc<Mutex<Vec<RequestRecord>>>,
    pub done: Arc<DoneCounter>,
    pub counters: Arc<ClientCounters>,
    pub max_connections: usize,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("shards", &self.shards.len())
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl Dispatcher {
    /// Starts `threads` shards sharing at most `max_connections`
    /// connections (each shard gets an equal share, at least one).
    pub fn start(
        ctx: ExecCtx,
        threads: usize,
        max_connections: usize,
        busy_poll: bool,
    ) -> Result<Dispatcher, EndpointError> {
        let threads = threads.max(1);
        let ctx = Arc::new(ctx);
        let records = Arc::new(Mutex::new(Vec::new()));
        let done = Arc::new(DoneCounter::default());
        let counters = Arc::new(ClientCounters::default());
        let per_shard = max_connections.div_ceil(threads).max(1);
        let mut shards = Vec::with_capacity(threads);
        for i in 0..threads {
            let (thread, handle, stop_tx) = spawn_runtime_thread(format!("ys-client-{i}"))?;
            if busy_poll {
                // A task that always yields keeps the runtime from parking in
                // epoll_wait: the I/O driver is polled without a timeout on
                // every turn, so a frame is stamped as soon as it is
                // readable instead of after a thread wake-up.
                handle.spawn(async {
                    loop {
                        tokio::task::yield_now().await;
                    }
                });
            }
            let (tx, rx) = mpsc::unbounded_channel();
            let idle = Arc::new(Mutex::new(Vec::new()));
            handle.spawn(shard_loop(
                Arc::clone(&ctx),
                rx,
                per_shard,
                Arc::clone(&idle),
                Arc::clone(&records),
                Arc::clone(&done),
                Arc::clone(&counters),
            ));
            shards.push(Shard {
                handle,
                tx,
                stop: Some(stop_tx),
                thread: Some(thread),
                idle,
            });
        }
        Ok(Dispatcher {
            shards,
            next: AtomicUsize::new(0),
            ctx,
            records,
            done,
            counters,
            max_connections: per_shard * threads,
        })
    }

    pub fn threads(&self) -> usize {
        self.shards.len()
    }

    /// The runtime of shard `i` (modulo the shard count), for drivers that
    /// run their own tasks on the client threads (multi-turn sessions).
    pub fn shard_handle(&self, i: usize) -> &tokio::runtime::Handle {
        &self.shards[i % self.shards.len()].handle
    }

    /// Queues a request on the next shard (round robin). Never blocks.
    pub fn submit(&self, job: Job) -> Result<(), EndpointError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.shards.len();
        self.counters.submitted.fetch_add(1, Ordering::Relaxed);
        self.shards[i]
            .tx
            .send(job)
            .map_err(|_| EndpointError::Runtime(std::io::Error::other("client shard stopped")))
    }

    /// Opens up to `n` connections ahead of the run (spread over the
    /// shards) so connection set-up is not measured. Returns how many
    /// opened.
    pub fn prewarm(&self, n: usize, timeout: Duration) -> usize {
        let opened = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(DoneCounter::default());
        let per = n.div_ceil(self.shards.len());
        let mut total = 0u64;
        for s in &self.shards {
            for _ in 0..per.min(n - total as usize) {
                total += 1;
                let (ctx, idle, opened, finished) = (
                    Arc::clone(&self.ctx),
                    Arc::clone(&s.idle),
                    Arc::clone(&opened),
                    Arc::clone(&finished),
                );
                s.handle.spawn(async move {
                    if let Ok(Ok(c)) =
                        tokio::time::timeout(ctx.timeouts.connect, connect(&ctx.target)).await
                    {
                        idle.lock().unwrap_or_else(|e| e.into_inner()).push(c);
                        opened.fetch_add(1, Ordering::Relaxed);
                    }
                    finished.add();
                });
            }
        }
        finished.wait_for(total, timeout);
        opened.load(Ordering::Relaxed)
    }

    /// Waits until every submitted request has its record (the core hears
    /// of a completion at `[DONE]`, slightly before the record is filed).
    /// Returns false if some are still running after `timeout`.
    pub fn quiesce(&self, timeout: Duration) -> bool {
        let target = self.counters.submitted.load(Ordering::Acquire);
        self.done.wait_for(target, timeout) >= target
    }

    /// Takes every record collected so far.
    pub fn take_records(&self) -> Vec<RequestRecord> {
        std::mem::take(&mut *self.records.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `concurrency` virtual users, each with its own connection, each
    /// sending its next request as soon as its previous one completes (a
    /// closed loop, as MLPerf Endpoints). `warmup` requests are sent first
    /// (not recorded); then all users start together. Users stop starting
    /// requests at `duration` or after `max_requests` in total; requests
    /// already started finish. `order` maps the i-th request to a prompt.
    pub fn run_closed_loop(
        &self,
        concurrency: usize,
        order: Arc<Vec<usize>>,
        duration: Option<Duration>,
        max_requests: Option<u64>,
        warmup: u64,
        run: u64,
    ) -> Result<ClosedLoopRun, EndpointError> {
        if order.is_empty() {
            return Err(EndpointError::Config("no prompts".into()));
        }
        let concurrency = concurrency.max(1);
        let ready = Arc::new(DoneCounter::default());
        let finished = Arc::new(DoneCounter::default());
        let (go_tx, go_rx) = watch::channel::<Option<(Instant, Option<Instant>)>>(None);
        let counter = Arc::new(AtomicU64::new(0));
        let warm_counter = Arc::new(AtomicU64::new(0));
        let records = Arc::clone(&self.records);
        for u in 0..concurrency {
            let shard = &self.shards[u % self.shards.len()];
            let ctx = Arc::clone(&self.ctx);
            let (ready, finished, counter, warm_counter, order, records) = (
                Arc::clone(&ready),
                Arc::clone(&finished),
                Arc::clone(&counter),
                Arc::clone(&warm_counter),
                Arc::clone(&order),
                Arc::clone(&records),
            );
            let mut go = go_rx.clone();
            shard.handle.spawn(async move {
                let mut conn: Option<Connection> =
                    match tokio::time::timeout(ctx.timeouts.connect, connect(&ctx.target)).await {
                        Ok(Ok(c)) => Some(c),
                        _ => None, // the first request reconnects and records the failure
                    };
                loop {
                    let i = warm_counter.fetch_add(1, Ordering::Relaxed);
                    if i >= warmup {
                        break;
                    }
                    let rec = RequestRecord::new(
                        i,
                        order[i as usize % order.len()],
                        Instant::now(),
                        ctx.stream,
                    );
                    let _ = exec(&ctx, &mut conn, rec, &Hook::None).await;
                }
                ready.add();
                let start = loop {
                    if let Some(v) = *go.borrow_and_update() {
                        break v;
                    }
                    if go.changed().await.is_err() {
                        finished.add();
                        return;
                    }
                };
                let (_origin, deadline) = start;
                let mut mine = Vec::new();
                loop {
                    let now = Instant::now();
                    if deadline.is_some_and(|d| now >= d) {
                        break;
                    }
                    let i = counter.fetch_add(1, Ordering::Relaxed);
                    if max_requests.is_some_and(|m| i >= m) {
                        break;
                    }
                    let mut rec =
                        RequestRecord::new(i, order[i as usize % order.len()], now, ctx.stream);
                    rec.run = run;
                    mine.push(exec(&ctx, &mut conn, rec, &Hook::None).await);
                }
                records
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(mine);
                finished.add();
            });
        }
        // Everyone connected and warmed up (or gave up trying).
        let limit = self.ctx.timeouts.total * 2 + Duration::from_secs(5);
        ready.wait_for(concurrency as u64, limit.max(Duration::from_secs(60)));
        let origin = Instant::now();
        let deadline = duration.map(|d| origin + d);
        let _ = go_tx.send(Some((origin, deadline)));
        let wait = duration.unwrap_or(Duration::from_secs(u64::MAX / 4))
            + self.ctx.timeouts.total
            + Duration::from_secs(5);
        let got = finished.wait_for(concurrency as u64, wait);
        let end = Instant::now();
        let mut recs = self.take_records();
        recs.retain(|r| r.run == run);
        recs.sort_by_key(|r| r.seq);
        Ok(ClosedLoopRun {
            records: recs,
            origin,
            end,
            users_finished: got as usize,
            concurrency,
        })
    }
}

/// The outcome of a closed-loop run.
#[derive(Debug)]
pub struct ClosedLoopRun {
    pub records: Vec<RequestRecord>,
    pub origin: Instant,
    pub end: Instant,
    pub users_finished: usize,
    pub concurrency: usize,
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        for s in &mut self.shards {
            if let Some(stop) = s.stop.take() {
                let _ = stop.send(());
            }
        }
        for s in &mut self.shards {
            if let Some(t) = s.thread.take() {
                let _ = t.join();
            }
        }
    }
}

async fn shard_loop(
    ctx: Arc<ExecCtx>,
    mut rx: mpsc::UnboundedReceiver<Job>,
    max_conns: usize,
    idle: Arc<Mutex<Vec<Connection>>>,
    records: Arc<Mutex<Vec<RequestRecord>>>,
    done: Arc<DoneCounter>,
    counters: Arc<ClientCounters>,
) {
    let slots = Arc::new(Semaphore::new(max_conns));
    while let Some(job) = rx.recv().await {
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                counters.waited_for_slot.fetch_add(1, Ordering::Relaxed);
                match Arc::clone(&slots).acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => return,
                }
            }
        };
        let conn = idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let (ctx, idle, records, done, counters) = (
            Arc::clone(&ctx),
            Arc::clone(&idle),
            Arc::clone(&records),
            Arc::clone(&done),
            Arc::clone(&counters),
        );
        let n = counters.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        counters.max_in_flight.fetch_max(n, Ordering::Relaxed);
        tokio::spawn(async move {
            let mut conn = conn;
            let mut rec = RequestRecord::new(job.seq, job.sample, job.scheduled, ctx.stream);
            rec.run = job.run;
            let rec = exec(&ctx, &mut conn, rec, &job.hook).await;
            if let Some(c) = conn {
                if !c.is_closed() {
                    idle.lock().unwrap_or_else(|e| e.into_inner()).push(c);
                }
            }
            drop(permit);
            counters.in_flight.fetch_sub(1, Ordering::Relaxed);
            records.lock().unwrap_or_else(|e| e.into_inner()).push(rec);
            done.add();
        });
    }
}

/// Starts an OS thread running a single-threaded tokio runtime until the
/// returned sender fires (or is dropped); returns the thread, a handle to
/// spawn tasks on it, and the stop sender. One runtime per thread keeps each
/// connection's I/O on one core without cross-thread wake-ups.
pub(crate) fn spawn_runtime_thread(
    name: String,
) -> Result<(JoinHandle<()>, tokio::runtime::Handle, oneshot::Sender<()>), EndpointError> {
    let (htx, hrx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = htx.send(Err(e));
                    return;
                }
            };
            let _ = htx.send(Ok(rt.handle().clone()));
            rt.block_on(async {
                let _ = stop_rx.await;
            });
        })
        .map_err(EndpointError::Runtime)?;
    let handle = hrx
        .recv()
        .map_err(|e| EndpointError::Runtime(std::io::Error::other(e.to_string())))?
        .map_err(EndpointError::Runtime)?;
    Ok((thread, handle, stop_tx))
}
