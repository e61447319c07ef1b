//! Simulated PTDaemon and power-dev director, written from the protocol
//! description: deterministic watts from a seed, the meter's ranging
//! behaviour, the protocol's error replies and a way to drop the
//! connection. Tests start them on `127.0.0.1:0`; `yardstick power-sim`
//! serves them to anyone without a meter.

mod director;
mod ptd;

pub use director::{SimDirector, SimDirectorConfig};
pub use ptd::{SimPtd, SimPtdConfig, SIM_IDENTITY_MODEL, SIM_PTD_VERSION};

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A TCP server handling one connection at a time on its own thread (as
/// both PTDaemon and the director do); dropping it stops it.
struct Serving {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl Serving {
    fn start<F>(bind: &str, mut handle: F) -> io::Result<Serving>
    where
        F: FnMut(TcpStream) + Send + 'static,
    {
        let listener = TcpListener::bind(bind)?;
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (stop_flag, open_list) = (stopping.clone(), open.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if let (Ok(clone), Ok(mut list)) = (stream.try_clone(), open_list.lock()) {
                    list.push(clone);
                }
                handle(stream);
                if let Ok(mut list) = open_list.lock() {
                    list.clear();
                }
            }
        });
        Ok(Serving {
            addr,
            stopping,
            open,
            thread: Some(thread),
        })
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Ok(list) = self.open.lock() {
            for stream in list.iter() {
                // Ends a handler blocked on a read; the client may be gone.
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        }
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// SplitMix64: a tiny, fixed generator, so a seed gives the same watts on
/// every machine and every version (rand's generators may change).
pub(crate) fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A number in [0, 1) from `seed` and `index`.
pub(crate) fn unit(seed: u64, index: u64) -> f64 {
    (splitmix64(seed ^ splitmix64(index)) >> 11) as f64 / (1u64 << 53) as f64
}
