//! Real HTTP/1.1 endpoints on loopback for the outbound client to talk to: a [`Receiver`] that
//! records what it got and answers as told, and a [`Tripwire`], a listener that is never
//! accepted from, to prove that nothing connected to it.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// How the receiver answers.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// `200 OK` with body `ok`.
    Ok,
    /// The given status, extra headers and body.
    Status(u16, Vec<(&'static str, String)>, &'static str),
    /// Reads the request, then never answers.
    Hang,
    /// Sends `200` headers announcing a body, then never sends it.
    HangInBody,
    /// `200` with a body of this many bytes, written as fast as the client reads.
    Huge(usize),
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Log {
    connections: AtomicUsize,
    requests: Mutex<Vec<Received>>,
    /// Bytes of a `Huge` body actually written before the client hung up.
    written: AtomicUsize,
}

pub struct Receiver {
    pub addr: SocketAddr,
    log: Arc<Log>,
    task: JoinHandle<()>,
}

impl Receiver {
    pub async fn start(ip: IpAddr, behavior: Behavior) -> Self {
        Self::start_inner(ip, behavior, None).await
    }

    pub async fn start_tls(ip: IpAddr, behavior: Behavior, tls: TlsAcceptor) -> Self {
        Self::start_inner(ip, behavior, Some(tls)).await
    }

    async fn start_inner(ip: IpAddr, behavior: Behavior, tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Log::default());
        let task_log = log.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                task_log.connections.fetch_add(1, Ordering::SeqCst);
                let log = task_log.clone();
                let behavior = behavior.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(tls) => {
                            // A failed handshake (the client refused our certificate) just
                            // ends the connection.
                            if let Ok(stream) = tls.accept(stream).await {
                                let _ = serve(stream, &behavior, &log).await;
                            }
                        }
                        None => {
                            let _ = serve(stream, &behavior, &log).await;
                        }
                    }
                });
            }
        });
        Self { addr, log, task }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn connections(&self) -> usize {
        self.log.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.log.requests.lock().unwrap().clone()
    }

    pub fn huge_bytes_written(&self) -> usize {
        self.log.written.load(Ordering::SeqCst)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() > 1 << 20 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Received {
        method,
        target,
        headers,
        body,
    })
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    behavior: &Behavior,
    log: &Log,
) -> io::Result<()> {
    let request = read_request(&mut stream).await?;
    log.requests.lock().unwrap().push(request);
    match behavior {
        Behavior::Ok => respond(&mut stream, 200, &[], "ok").await,
        Behavior::Status(status, headers, body) => {
            respond(&mut stream, *status, headers, body).await
        }
        Behavior::Hang => std::future::pending().await,
        Behavior::HangInBody => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
                .await?;
            stream.flush().await?;
            std::future::pending().await
        }
        Behavior::Huge(total) => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {total}\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
            let block = vec![b'x'; 16 * 1024];
            let mut sent = 0;
            while sent < *total {
                let n = block.len().min(total - sent);
                // Ends with an error once the client hangs up, which is the point.
                stream.write_all(&block[..n]).await?;
                sent += n;
                log.written.store(sent, Ordering::SeqCst);
            }
            stream.flush().await
        }
    }
}

async fn respond<S: AsyncWrite + Unpin>(
    stream: &mut S,
    status: u16,
    headers: &[(&'static str, String)],
    body: &str,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// A listener nobody accepts from. The kernel completes a TCP handshake and queues the connection
/// before the client's `connect` returns, so once a request attempt is over, any connection it
/// made is waiting in the queue: a non-blocking `accept` finding nothing proves there was none.
pub struct Tripwire {
    listeners: Vec<std::net::TcpListener>,
    pub port: u16,
}

impl Tripwire {
    /// Listens on the same port on 127.0.0.1 and ::1 (and on `extra` addresses of the loopback
    /// range), so every spelling of loopback lands here.
    pub fn on_loopback(extra: &[IpAddr]) -> Self {
        // The IPv4 port might be taken on ::1 by someone else; try a few.
        for _ in 0..20 {
            let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = v4.local_addr().unwrap().port();
            let mut listeners = vec![v4];
            let others = std::iter::once("::1".parse().unwrap()).chain(extra.iter().copied());
            let mut ok = true;
            for ip in others {
                match std::net::TcpListener::bind(SocketAddr::new(ip, port)) {
                    Ok(l) => listeners.push(l),
                    Err(_) => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                for l in &listeners {
                    l.set_nonblocking(true).unwrap();
                }
                return Self { listeners, port };
            }
        }
        panic!("no port free on both 127.0.0.1 and ::1");
    }

    /// Whether any connection arrived on any of the addresses.
    pub fn touched(&self) -> bool {
        self.listeners.iter().any(|l| match l.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            Err(e) => panic!("tripwire accept: {e}"),
        })
    }
}
