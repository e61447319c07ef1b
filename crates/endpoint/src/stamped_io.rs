//! A TCP stream that remembers when the data of its latest read arrived, so
//! a response's arrival is stamped when its bytes reached the socket rather
//! than when the task that parses them ran. With many streams on one client
//! thread the difference is the time spent on the other connections that
//! became readable in the same turn of the event loop.
//!
//! On Linux the stamp is the kernel's receive time of the data
//! (`SO_TIMESTAMPNS`: the newest segment a `recvmsg` returned), taken when
//! the segment was received, before the client was even woken; elsewhere,
//! or if the kernel gives none, it is the time the read returned. Either
//! stamp is no earlier than the bytes' arrival (a read that returns
//! several segments carries the newest one's time), so a latency from it is
//! never shorter than the truth.

use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The process's reference instant: stamps are stored as nanoseconds after
/// it, so one atomic holds one.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// When a connection's latest read returned data (shared between the
/// connection's driver task, which reads, and the request, which parses).
#[derive(Debug, Default)]
pub struct ReadStamp(AtomicU64);

impl ReadStamp {
    fn set(&self, at: Instant) {
        // Stored + 1 so that 0 means "no read yet".
        let ns = at.saturating_duration_since(origin()).as_nanos() as u64;
        self.0.store(ns + 1, Ordering::Release);
    }

    /// The instant of the latest read that returned data, if any. Every
    /// byte handed on so far was read at or before it.
    pub fn get(&self) -> Option<Instant> {
        match self.0.load(Ordering::Acquire) {
            0 => None,
            ns => Some(origin() + std::time::Duration::from_nanos(ns - 1)),
        }
    }

    /// The latest read's instant, or `fallback` when it is later (a frame
    /// can only have been read before it was handed on).
    pub fn arrival(&self, fallback: Instant) -> Instant {
        self.get().map_or(fallback, |t| t.min(fallback))
    }

    /// [`arrival`](Self::arrival), but never before `not_before`: an instant
    /// the caller knows the bytes came after (the request they answer was
    /// sent then). A stamp before it can only be a clock error (the
    /// real-time clock stepped between receipt and read); the known bound is
    /// then the better estimate.
    pub fn arrival_after(&self, not_before: Instant, fallback: Instant) -> Instant {
        self.arrival(fallback).max(not_before)
    }
}

/// Whether reads of this process were stamped by the kernel, and whether
/// some fell back to the read's own time (reported with the results: which
/// clock the arrival stamps came from). The kernel stamps received data
/// only once its time stamping is on: turning it on for the first socket
/// of the system takes effect a moment later, so the first reads of a run
/// can lack a stamp.
static KERNEL_STAMPS_SEEN: AtomicBool = AtomicBool::new(false);
static READ_STAMPS_SEEN: AtomicBool = AtomicBool::new(false);

fn mark(flag: &AtomicBool) {
    // Read first: after the first time this is a load, not a shared write.
    if !flag.load(Ordering::Relaxed) {
        flag.store(true, Ordering::Relaxed);
    }
}

/// True once a read carried the kernel's receive time stamp.
pub fn kernel_stamps_seen() -> bool {
    KERNEL_STAMPS_SEEN.load(Ordering::Relaxed)
}

/// What arrival times were stamped with so far, in words.
pub fn stamp_source() -> &'static str {
    match (
        KERNEL_STAMPS_SEEN.load(Ordering::Relaxed),
        READ_STAMPS_SEEN.load(Ordering::Relaxed),
    ) {
        (true, false) => "kernel receive time (SO_TIMESTAMPNS)",
        (true, true) => {
            "kernel receive time (SO_TIMESTAMPNS); socket read time for reads the kernel did not stamp"
        }
        (false, _) => "socket read time",
    }
}

/// A [`TcpStream`] that stamps its [`ReadStamp`] on every read that returns
/// data; writes pass straight through.
#[derive(Debug)]
pub struct StampedStream {
    inner: TcpStream,
    stamp: Arc<ReadStamp>,
    /// `SO_TIMESTAMPNS` is on: reads go through `recvmsg`.
    kernel: bool,
}

impl StampedStream {
    pub fn new(inner: TcpStream) -> (Self, Arc<ReadStamp>) {
        origin(); // fix the reference before the first stamp
        let stamp = Arc::new(ReadStamp::default());
        let kernel = kernel::enable(&inner);
        (
            StampedStream {
                inner,
                stamp: Arc::clone(&stamp),
                kernel,
            },
            stamp,
        )
    }
}

impl AsyncRead for StampedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.kernel {
            return kernel::poll_read(&this.inner, &this.stamp, cx, buf);
        }
        let before = buf.filled().len();
        let res = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            mark(&READ_STAMPS_SEEN);
            this.stamp.set(Instant::now());
        }
        res
    }
}

#[cfg(target_os = "linux")]
mod kernel {
    //! Reads through `recvmsg` with `SO_TIMESTAMPNS`.

    use std::os::fd::AsRawFd;
    use std::task::{ready, Context, Poll};
    use std::time::{Duration, Instant};

    use tokio::io::{Interest, ReadBuf};
    use tokio::net::TcpStream;

    use super::{mark, ReadStamp, KERNEL_STAMPS_SEEN, READ_STAMPS_SEEN};

    /// Turns on receive time stamps; false if the kernel refuses.
    pub(super) fn enable(s: &TcpStream) -> bool {
        let on: libc::c_int = 1;
        // SAFETY: a valid socket descriptor we own and an int option value
        // of the size we pass.
        let rc = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        rc == 0
    }

    pub(super) fn clock(id: libc::clockid_t) -> Option<Duration> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes into the timespec we own.
        if unsafe { libc::clock_gettime(id, &mut ts) } != 0 {
            return None;
        }
        Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }

    /// How many times [`realtime_bracket`] reads the clocks at most, and the
    /// bracket width at which it stops early (typical vDSO reads take tens
    /// of nanoseconds; a wider bracket had a pause or an interrupt in it).
    const BRACKET_TRIES: usize = 4;
    const GOOD_BRACKET: Duration = Duration::from_micros(1);

    /// CLOCK_REALTIME read between two `Instant`s: `(before, real, after)`,
    /// the real-time reading taken somewhere in `[before, after]`. Of a few
    /// tries, the narrowest bracket: a pause (preemption, an interrupt)
    /// between the reads widens one bracket, rarely all of them.
    fn realtime_bracket() -> Option<(Instant, Duration, Instant)> {
        let mut best: Option<(Instant, Duration, Instant)> = None;
        for _ in 0..BRACKET_TRIES {
            let before = Instant::now();
            let real = clock(libc::CLOCK_REALTIME)?;
            let after = Instant::now();
            let width = after.saturating_duration_since(before);
            if best.is_none_or(|(b, _, a)| width < a.saturating_duration_since(b)) {
                best = Some((before, real, after));
            }
            if width <= GOOD_BRACKET {
                break;
            }
        }
        best
    }

    /// The kernel's stamp `received` is CLOCK_REALTIME; its age (the
    /// real-time clock now minus it) dated back from an `Instant` gives the
    /// instant (immune to clock steps before the receipt, which move both
    /// readings alike). The age is dated back from the *end* of the
    /// narrowest bracket around the real-time reading, so a pause between
    /// the clock reads can only make the stamp late (by at most the bracket
    /// width), never early; and it is never before `not_before`, an instant
    /// the data is known to have arrived after (the connection's previous
    /// stamp), nor after the end of the bracket (it was read by then).
    pub(super) fn to_instant(received: Duration, not_before: Option<Instant>) -> Instant {
        let Some((_, real, after)) = realtime_bracket() else {
            return Instant::now();
        };
        let at = after
            .checked_sub(real.saturating_sub(received))
            .unwrap_or(after);
        match not_before {
            Some(earliest) => at.max(earliest.min(after)),
            None => at,
        }
    }

    /// One `recvmsg` into the unfilled part of `buf`: bytes read and the
    /// kernel's receive time, if it sent one.
    fn recv(fd: libc::c_int, buf: &mut ReadBuf<'_>) -> std::io::Result<(usize, Option<Duration>)> {
        // SAFETY: the kernel only writes into this memory (never reads it),
        // so it need not be initialized first (as tokio's own read does);
        // the caller marks what was written as initialized.
        let unfilled = unsafe { buf.unfilled_mut() };
        let mut iov = libc::iovec {
            iov_base: unfilled.as_mut_ptr().cast(),
            iov_len: unfilled.len(),
        };
        // Room for one SCM_TIMESTAMPNS control message (u64 alignment).
        let mut control = [0u64; 8];
        // SAFETY: zeroed msghdr is a valid empty header; we then point it at
        // buffers that outlive the call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: fd is an open socket; msg points at valid buffers.
        let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut stamp = None;
        // SAFETY: the CMSG_* walk stays inside `control`, as the kernel
        // filled it (msg_controllen says how much).
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                    stamp = Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        Ok((n as usize, stamp))
    }

    pub(super) fn poll_read(
        s: &TcpStream,
        stamp: &ReadStamp,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(s.poll_read_ready(cx))?;
            match s.try_io(Interest::READABLE, || recv(s.as_raw_fd(), buf)) {
                Ok((n, received)) => {
                    // SAFETY: recvmsg wrote n bytes at the start of the
                    // unfilled part.
                    unsafe { buf.assume_init(n) };
                    buf.advance(n);
                    if n > 0 {
                        let at = match received {
                            Some(r) if r > Duration::ZERO => {
                                mark(&KERNEL_STAMPS_SEEN);
                                // In-order delivery: these bytes became
                                // readable no earlier than the previous ones.
                                to_instant(r, stamp.get())
                            }
                            _ => {
                                mark(&READ_STAMPS_SEEN);
                                Instant::now()
                            }
                        };
                        stamp.set(at);
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod kernel {
    use std::task::{Context, Poll};

    use tokio::io::ReadBuf;
    use tokio::net::TcpStream;

    use super::ReadStamp;

    pub(super) fn enable(_: &TcpStream) -> bool {
        false
    }

    pub(super) fn poll_read(
        _: &TcpStream,
        _: &ReadStamp,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Err(std::io::Error::other("no kernel time stamps here")))
    }
}

impl AsyncWrite for StampedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A real-time reading taken at some moment converts to an instant no
    /// earlier than that moment (never early, whatever pauses fall between
    /// the conversion's clock reads: many tries, on a loaded machine too)
    /// and no later than the end of the conversion.
    #[cfg(target_os = "linux")]
    #[test]
    fn converted_kernel_stamps_are_never_early() {
        use std::time::Duration;
        let mut latest_excess = Duration::ZERO;
        for _ in 0..20_000 {
            let taken_after = Instant::now();
            let received = kernel::clock(libc::CLOCK_REALTIME).expect("CLOCK_REALTIME");
            let at = kernel::to_instant(received, None);
            let done = Instant::now();
            assert!(
                taken_after <= at && at <= done,
                "stamp {:?} outside [{taken_after:?}, {done:?}]",
                at
            );
            latest_excess = latest_excess.max(at - taken_after);
        }
        eprintln!("largest lateness seen: {latest_excess:?}");
    }

    /// A stamp the clocks would put before an instant the data is known to
    /// have arrived after is clamped to it; one after it is kept.
    #[cfg(target_os = "linux")]
    #[test]
    fn converted_kernel_stamps_respect_the_known_earlier_instant() {
        use std::time::Duration;
        let real_now = kernel::clock(libc::CLOCK_REALTIME).expect("CLOCK_REALTIME");
        // Received (by the real-time clock) a second ago, but known to have
        // arrived after `not_before` (as if the clock stepped forward since).
        let not_before = Instant::now();
        let at = kernel::to_instant(real_now - Duration::from_secs(1), Some(not_before));
        assert_eq!(at, not_before);
        // Received after `earlier`: the conversion stands.
        let earlier = Instant::now() - Duration::from_secs(10);
        let received = kernel::clock(libc::CLOCK_REALTIME).expect("CLOCK_REALTIME");
        let at = kernel::to_instant(received, Some(earlier));
        assert!(
            at > earlier + Duration::from_secs(9),
            "{at:?} vs {earlier:?}"
        );
        // ReadStamp::arrival_after applies the caller's bound the same way.
        let stamp = ReadStamp::default();
        let t0 = Instant::now();
        stamp.set(t0);
        let later = t0 + Duration::from_millis(5);
        assert_eq!(
            stamp.arrival_after(later, later + Duration::from_secs(1)),
            later
        );
        assert_eq!(
            stamp.arrival_after(t0 - Duration::from_millis(5), later),
            t0
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_read_with_data_is_stamped_and_none_before() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let (mut s, stamp) = StampedStream::new(client);
        assert!(stamp.get().is_none());
        let before = Instant::now();
        server.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).await.unwrap();
        let after = Instant::now();
        assert_eq!(&buf[..n], b"hello");
        let t = stamp.get().expect("stamped");
        assert!(before <= t && t <= after);
        // A frame handed on earlier than the stamp keeps its own time.
        assert_eq!(stamp.arrival(before), before);
        assert_eq!(stamp.arrival(after), t);

        // Linux stamps received data once its time stamping, turned on by
        // the first such socket, has taken effect (a moment later): then
        // every stamp lies between the write and the end of the read.
        #[cfg(target_os = "linux")]
        {
            let give_up = Instant::now() + std::time::Duration::from_secs(5);
            while !kernel_stamps_seen() && Instant::now() < give_up {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                let before = Instant::now();
                server.write_all(b"x").await.unwrap();
                assert_eq!(s.read(&mut buf).await.unwrap(), 1);
                let t = stamp.get().expect("stamped");
                assert!(before <= t && t <= Instant::now());
            }
            assert!(kernel_stamps_seen(), "Linux gives TCP receive time stamps");
            assert!(stamp_source().starts_with("kernel"), "{}", stamp_source());
        }
    }
}
