//! The state that the handle, the listener threads and the connection threads share, and the
//! server's life: two listeners (hub and CDN), one thread per connection, and shutdown.

use crate::content::Content;
use crate::{serve, Fault, Request};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

#[derive(Default)]
pub(crate) struct Repo {
    pub files: BTreeMap<String, Content>,
    pub direct: bool,
    pub token: Option<String>,
    pub commit: String,
}

/// Files and faults, as the handle's methods set them.
#[derive(Default)]
pub(crate) struct State {
    pub repos: HashMap<String, Repo>,
    pub queued: HashMap<String, VecDeque<Fault>>,
    pub persistent: HashMap<String, Fault>,
    pub throttle: Option<u64>,
}

/// Open connections (to close them on stop) and whether the hub has stopped.
#[derive(Default)]
struct Life {
    stopped: bool,
    conns: HashMap<u64, TcpStream>,
    next_id: u64,
}

pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub log: Mutex<Vec<Request>>,
    /// Body bytes written to sockets.
    pub sent: AtomicU64,
    /// `http://127.0.0.1:PORT` of the CDN listener.
    pub cdn: String,
    life: Mutex<Life>,
    wake: Condvar,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Sleeps until `due` or until the hub stops; false when it stopped.
    pub fn sleep_until(&self, due: Instant) -> bool {
        let mut life = lock(&self.life);
        loop {
            let now = Instant::now();
            if life.stopped || now >= due {
                return !life.stopped;
            }
            life = self.wake.wait_timeout(life, due - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    pub fn wait_for_stop(&self) {
        let mut life = lock(&self.life);
        while !life.stopped {
            life = self.wake.wait(life).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The running listeners; dropping it stops everything.
pub(crate) struct Server {
    pub shared: Arc<Shared>,
    pub endpoint: String,
    listeners: Vec<(SocketAddr, JoinHandle<()>)>,
}

impl Server {
    /// Binds the hub on 127.0.0.1:`port` and the CDN on a free port, and starts accepting.
    pub fn start(port: u16) -> io::Result<Server> {
        let hub_listener = TcpListener::bind(("127.0.0.1", port))?;
        let cdn_listener = TcpListener::bind(("127.0.0.1", 0))?;
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            log: Mutex::default(),
            sent: AtomicU64::new(0),
            cdn: format!("http://{}", cdn_listener.local_addr()?),
            life: Mutex::default(),
            wake: Condvar::new(),
        });
        let endpoint = format!("http://{}", hub_listener.local_addr()?);
        let mut listeners = Vec::new();
        for listener in [hub_listener, cdn_listener] {
            let addr = listener.local_addr()?;
            let shared = shared.clone();
            listeners.push((addr, thread::spawn(move || accept_loop(&shared, listener))));
        }
        Ok(Server { shared, endpoint, listeners })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        {
            let mut life = lock(&self.shared.life);
            life.stopped = true;
            for conn in life.conns.values() {
                let _ = conn.shutdown(Shutdown::Both);
            }
        }
        self.shared.wake.notify_all();
        for (addr, handle) in self.listeners.drain(..) {
            // Wake the blocked accept(); it sees `stopped` and returns, closing the listener.
            if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
                let _ = handle.join();
            }
        }
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: TcpListener) {
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(_) if lock(&shared.life).stopped => return,
            Err(_) => {
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let Ok(clone) = stream.try_clone() else { continue };
        let id = {
            let mut life = lock(&shared.life);
            if life.stopped {
                return;
            }
            life.next_id += 1;
            let id = life.next_id;
            life.conns.insert(id, clone);
            id
        };
        let shared = shared.clone();
        thread::spawn(move || {
            serve::connection(&shared, stream);
            lock(&shared.life).conns.remove(&id);
        });
    }
}
