//! The `/metrics` listener: HTTP/1.x for a scraper (one request per connection, then close; the
//! request head is parsed by `httparse`). Connections are read and written on their own threads, with timeouts, so that a slow or
//! vanished client never holds the run loop; the loop only reads the maps, when a scrape asks, and
//! hands the snapshot back (see `metrics::Server`).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::Duration;

/// The most bytes of a request head (request line and headers).
const MAX_HEAD: usize = 8 * 1024;
/// The most bytes read after answering (see `respond`).
const MAX_DRAIN: u64 = 64 * 1024;
/// Connections served at once; more are closed at once.
pub const MAX_CONNECTIONS: usize = 32;
/// How long a client may take to send its request, or to take the response.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a scrape waits for the run loop to read the maps.
const LOOP_TIMEOUT: Duration = Duration::from_secs(30);

/// What a scrape asked the run loop for: a snapshot, sent back on `reply`, that the connection's
/// thread renders itself.
pub struct Ask<T> {
    pub reply: Sender<Arc<T>>,
}

/// A parsed request: what to answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// GET or HEAD /metrics, with the Accept header.
    Metrics { head: bool, accept: Option<String> },
    /// The status line and extra headers of an error answer.
    Error(&'static str, &'static str),
}

/// Parses a request head (through its blank line) with `httparse`.
pub fn parse(head: &[u8]) -> Request {
    const BAD: Request = Request::Error("400 Bad Request", "");
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    if !matches!(req.parse(head), Ok(httparse::Status::Complete(_))) {
        return BAD;
    }
    let (Some(method), Some(target)) = (req.method, req.path) else { return BAD };
    if !target.starts_with('/') {
        return BAD;
    }
    let accept = req.headers.iter().find(|h| h.name.eq_ignore_ascii_case("accept"));
    let accept = accept.map(|h| String::from_utf8_lossy(h.value).trim().to_string());
    let path = target.split(['?', '#']).next().unwrap_or("");
    if path != "/metrics" {
        return Request::Error("404 Not Found", "");
    }
    match method {
        "GET" => Request::Metrics { head: false, accept },
        "HEAD" => Request::Metrics { head: true, accept },
        _ => Request::Error("405 Method Not Allowed", "Allow: GET, HEAD\r\n"),
    }
}

/// Reads a request head: up to the blank line, at most [`MAX_HEAD`] bytes.
fn read_head(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(end + 4);
            return Ok(Some(head));
        }
        if head.len() >= MAX_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
    }
}

/// Writes the response, then closes our side and reads what the client still sends (briefly, a
/// bounded amount) so that closing with unread input does not reset the connection under the answer.
fn respond(stream: &mut TcpStream, status: &str, extra: &str, content_type: &str, body: &[u8], head: bool) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    if !head {
        out.extend_from_slice(body);
    }
    stream.write_all(&out)?;
    stream.flush()?;
    stream.shutdown(Shutdown::Write)?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    let _ = io::copy(&mut (&*stream).take(MAX_DRAIN), &mut io::sink());
    Ok(())
}

/// Serves one connection: parse, ask the loop (through `asks`, waking it with `wake`), render with
/// `render(snapshot, accept) -> (content type, body)`, answer, close.
fn serve<T>(mut stream: TcpStream, asks: &Sender<Ask<T>>, wake: &dyn Fn(), render: &dyn Fn(&T, Option<&str>) -> (&'static str, String)) -> io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let request = match read_head(&mut stream)? {
        Some(head) => parse(&head),
        None => Request::Error("400 Bad Request", ""),
    };
    let text = "text/plain; charset=utf-8";
    match request {
        Request::Error(status, extra) => respond(&mut stream, status, extra, text, format!("{status}\n").as_bytes(), false),
        Request::Metrics { head, accept } => {
            let (reply, answer) = std::sync::mpsc::channel();
            let snapshot = match asks.send(Ask { reply }) {
                Ok(()) => {
                    wake();
                    answer.recv_timeout(LOOP_TIMEOUT).ok()
                }
                Err(_) => None,
            };
            match snapshot {
                Some(s) => {
                    let (content_type, body) = render(&s, accept.as_deref());
                    respond(&mut stream, "200 OK", "", content_type, body.as_bytes(), head)
                }
                // The run loop has ended (vt is stopping) or could not read the maps.
                None => respond(&mut stream, "503 Service Unavailable", "", text, b"vt is not tracing\n", head),
            }
        }
    }
}

/// Accepts connections until the listener is shut down, each served on a thread of its own.
pub fn accept_loop<T: Send + Sync + 'static>(
    listener: TcpListener,
    asks: Sender<Ask<T>>,
    wake: Arc<dyn Fn() + Send + Sync>,
    render: Arc<dyn Fn(&T, Option<&str>) -> (&'static str, String) + Send + Sync>,
) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            // EMFILE and the like pass; a shut-down listener ends the loop.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
            let _ = stream.shutdown(Shutdown::Both);
            continue;
        }
        active.fetch_add(1, Ordering::AcqRel);
        let (asks, wake, render, done) = (asks.clone(), wake.clone(), render.clone(), active.clone());
        let spawned = std::thread::Builder::new().name("vt-metrics".into()).spawn(move || {
            let _ = serve(stream, &asks, &*wake, &*render);
            done.fetch_sub(1, Ordering::AcqRel);
        });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Takes every waiting ask.
pub fn drain<T>(asks: &Receiver<Ask<T>>) -> Vec<Ask<T>> {
    asks.try_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        let ok = parse(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text\r\n\r\n");
        assert_eq!(ok, Request::Metrics { head: false, accept: Some("application/openmetrics-text".into()) });
        assert_eq!(parse(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Request::Metrics { head: false, accept: None });
        assert_eq!(parse(b"HEAD /metrics HTTP/1.1\r\n\r\n"), Request::Metrics { head: true, accept: None });
        assert_eq!(parse(b"POST /metrics HTTP/1.1\r\n\r\n"), Request::Error("405 Method Not Allowed", "Allow: GET, HEAD\r\n"));
        assert_eq!(parse(b"GET / HTTP/1.1\r\n\r\n"), Request::Error("404 Not Found", ""));
        for bad in [&b"GET /metrics\r\n\r\n"[..], b"GET metrics HTTP/1.1\r\n\r\n", b"GET /metrics HTTP/2\r\n\r\n", b"\xff\xfe", b"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", b"GET /metrics HTTP/1.1\r\n", b""] {
            assert_eq!(parse(bad), Request::Error("400 Bad Request", ""), "{bad:?}");
        }
    }
}
