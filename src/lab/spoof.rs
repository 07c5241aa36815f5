//! Attackers in front of the lab: an off-path spoofer, for the test that forged answers are
//! ignored, and a rebinder, for the test that a name is resolved once and the address checked
//! is the address contacted.
//!
//! For every UDP query it gets, it first answers with the forger lab's reply twice — once with
//! the wrong message ID from the right address, once with the right ID from another port, the
//! two forgeries a blind spoofer can send — and only then relays the real lab's reply. A client
//! that took either forgery would see the forger's data.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// A running spoofer; it stops when dropped.
pub struct Spoofer {
    addr: SocketAddr,
    forged: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for Spoofer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sends `query` to `server` from a fresh socket and returns its reply, if one comes in time.
async fn ask(server: SocketAddr, query: &[u8]) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind(SocketAddr::new(server.ip(), 0))
        .await
        .ok()?;
    socket.send_to(query, server).await.ok()?;
    let mut buf = vec![0; 65_535];
    let (n, _) = tokio::time::timeout(Duration::from_secs(2), socket.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    buf.truncate(n);
    Some(buf)
}

impl Spoofer {
    /// Listens on an ephemeral UDP port of `real`'s address.
    pub async fn start(real: SocketAddr, forger: SocketAddr) -> io::Result<Self> {
        let socket = Arc::new(UdpSocket::bind(SocketAddr::new(real.ip(), 0)).await?);
        let side = Arc::new(UdpSocket::bind(SocketAddr::new(real.ip(), 0)).await?);
        let addr = socket.local_addr()?;
        let forged = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&forged);
        let task = tokio::spawn(async move {
            let mut buf = vec![0; 65_535];
            while let Ok((n, client)) = socket.recv_from(&mut buf).await {
                let query = buf[..n].to_vec();
                let (socket, side, count) =
                    (Arc::clone(&socket), Arc::clone(&side), Arc::clone(&count));
                tokio::spawn(async move {
                    if query.len() < 12 {
                        return;
                    }
                    if let Some(mut fake) = ask(forger, &query).await {
                        fake[0] ^= 0x5a;
                        let _ = socket.send_to(&fake, client).await;
                        fake[0] ^= 0x5a;
                        let _ = side.send_to(&fake, client).await;
                        count.fetch_add(2, Ordering::Relaxed);
                    }
                    if let Some(real) = ask(real, &query).await {
                        let _ = socket.send_to(&real, client).await;
                    }
                });
            }
        });
        Ok(Self { addr, forged, task })
    }

    /// Where to point the resolver.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Forged answers sent so far.
    pub fn forged(&self) -> u64 {
        self.forged.load(Ordering::Relaxed)
    }
}

/// Answers each question from `first` the first time it is asked and from `then` ever after:
/// DNS rebinding, where a name passes a check with one address and is used with another.
pub struct Rebinder {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Rebinder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Rebinder {
    pub async fn start(first: SocketAddr, then: SocketAddr) -> io::Result<Self> {
        let socket = Arc::new(UdpSocket::bind(SocketAddr::new(first.ip(), 0)).await?);
        let addr = socket.local_addr()?;
        let task = tokio::spawn(async move {
            let seen = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
            let mut buf = vec![0; 65_535];
            while let Ok((n, client)) = socket.recv_from(&mut buf).await {
                let query = buf[..n].to_vec();
                if query.len() < 12 {
                    continue;
                }
                // The question, without the message ID and flags.
                let question = query[12..].to_ascii_lowercase();
                let fresh = seen.lock().expect("rebinder state").insert(question);
                let server = if fresh { first } else { then };
                let (socket, query) = (Arc::clone(&socket), query.clone());
                tokio::spawn(async move {
                    if let Some(reply) = ask(server, &query).await {
                        let _ = socket.send_to(&reply, client).await;
                    }
                });
            }
        });
        Ok(Self { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
