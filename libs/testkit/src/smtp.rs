//! An SMTP server for tests: speaks just enough SMTP for a client such as lettre (greeting, EHLO/HELO,
//! MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT; no extensions), records every accepted mail, and can be told to
//! refuse mails (a transient `451` to MAIL FROM: an outage; a permanent `550`: a rejection), all of them or the
//! next few. The SMTP server is outside the product, so a mock is the honest stand-in; the tests' RabbitMQ and
//! PostgreSQL stay the real ones. [`Parsed`] reads a mail back (headers, MIME parts), from the mock or from an
//! `.eml` file.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One mail the mock accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The envelope sender (MAIL FROM), without the angle brackets.
    pub from: String,
    /// The envelope recipients (RCPT TO), without the angle brackets.
    pub to: Vec<String>,
    /// The message as sent after DATA (headers and body), dot-unstuffed, without the final `.` line.
    pub data: String,
}

impl Mail {
    /// The message with quoted-printable soft line breaks and `=XX` escapes undone (lettre encodes long or
    /// non-ASCII bodies that way), for assertions on the text.
    pub fn text(&self) -> String {
        decode_quoted_printable(&self.data)
    }

    /// The message read back: its headers and MIME parts.
    pub fn parsed(&self) -> Parsed {
        Parsed::new(&self.data)
    }
}

/// A mail read back from its RFC 5322 text: headers (unfolded) and, for a `multipart/*` mail, its parts (one
/// level), each body decoded from `7bit`, `8bit` or `quoted-printable`. Just enough for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub headers: Vec<(String, String)>,
    /// The body as it is (undecoded).
    pub body: String,
    /// The parts of a multipart mail; empty for a single-part one.
    pub parts: Vec<Part>,
}

/// One MIME part of a [`Parsed`] mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub headers: Vec<(String, String)>,
    /// The body, transfer-decoded.
    pub body: String,
}

impl Part {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Splits `text` into its unfolded header fields and its body (after the first empty line).
fn split_headers(text: &str) -> (Vec<(String, String)>, String) {
    let text = text.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    (headers, body.to_owned())
}

/// Undoes quoted-printable: soft line breaks and `=XX` escapes.
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Parsed {
    /// Reads `text` (CRLF or LF line ends).
    pub fn new(text: &str) -> Parsed {
        let (headers, body) = split_headers(text);
        let boundary = find(&headers, "Content-Type")
            .filter(|t| t.to_ascii_lowercase().starts_with("multipart/"))
            .and_then(|t| t.split(';').map(str::trim).find_map(|p| p.strip_prefix("boundary=")))
            .map(|b| b.trim_matches('"').to_owned());
        let mut parts = Vec::new();
        if let Some(boundary) = boundary {
            let delimiter = format!("--{boundary}");
            for chunk in body.split(delimiter.as_str()).skip(1) {
                if chunk.starts_with("--") {
                    break;
                }
                let chunk = chunk.strip_prefix('\n').unwrap_or(chunk);
                let (part_headers, part_body) = split_headers(chunk);
                let part_body = part_body.strip_suffix('\n').unwrap_or(&part_body).to_owned();
                let encoding = find(&part_headers, "Content-Transfer-Encoding").unwrap_or("7bit");
                let body = if encoding.eq_ignore_ascii_case("quoted-printable") {
                    decode_quoted_printable(&part_body)
                } else {
                    part_body
                };
                parts.push(Part { headers: part_headers, body });
            }
        }
        Parsed { headers, body, parts }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// The first part whose `Content-Type` starts with `content_type` (e.g. `text/html`).
    pub fn part(&self, content_type: &str) -> Option<&Part> {
        self.parts.iter().find(|p| p.header("Content-Type").is_some_and(|t| t.starts_with(content_type)))
    }
}

/// What the mock answers to MAIL FROM.
#[derive(Default)]
struct State {
    mails: Mutex<Vec<Mail>>,
    refusing: AtomicBool,
    /// Refuse (451) this many more MAIL FROMs, then accept.
    refuse_next: AtomicUsize,
    rejecting: AtomicBool,
    refused: AtomicUsize,
    changed: Notify,
}

/// A listening SMTP mock; stops listening when dropped.
pub struct SmtpMock {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpMock {
    /// Listens on a free port of 127.0.0.1, accepting mails.
    pub async fn start() -> SmtpMock {
        SmtpMock::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    /// Listens on `addr`: a test starts a client against a port nobody listens on (the SMTP server is down),
    /// then starts the mock there (it is back).
    pub async fn start_on(addr: SocketAddr) -> SmtpMock {
        let listener = TcpListener::bind(addr).await.expect("bind the SMTP mock");
        let addr = listener.local_addr().expect("SMTP mock address");
        let state = Arc::new(State::default());
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, &state).await;
                });
            }
        });
        SmtpMock { addr, state, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `smtp://127.0.0.1:<port>`, for a service's `smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The mails accepted so far, in order.
    pub fn messages(&self) -> Vec<Mail> {
        self.state.mails.lock().unwrap().clone()
    }

    /// Waits until at least `n` mails were accepted and returns them all; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        let waiting = async {
            loop {
                let changed = self.state.changed.notified();
                let mails = self.messages();
                if mails.len() >= n {
                    return mails;
                }
                changed.await;
            }
        };
        tokio::time::timeout(timeout, waiting)
            .await
            .unwrap_or_else(|_| panic!("the SMTP mock got {} of {n} mails within {timeout:?}", self.messages().len()))
    }

    /// While `refusing`, every MAIL FROM is answered `451` (a transient failure: the client should retry).
    pub fn refuse(&self, refusing: bool) {
        self.state.refusing.store(refusing, Ordering::SeqCst);
    }

    /// The next `n` MAIL FROMs are answered `451`, the ones after accepted (unless [`SmtpMock::refuse`] says
    /// otherwise).
    pub fn refuse_next(&self, n: usize) {
        self.state.refuse_next.store(n, Ordering::SeqCst);
    }

    /// While `rejecting`, every MAIL FROM is answered `550` (a permanent failure: retrying will not help).
    pub fn reject(&self, rejecting: bool) {
        self.state.rejecting.store(rejecting, Ordering::SeqCst);
    }

    /// How many mails were refused (`451` or `550`) so far.
    pub fn refused(&self) -> usize {
        self.state.refused.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` mails were refused; panics after `timeout`.
    pub async fn wait_for_refusals(&self, n: usize, timeout: Duration) {
        let waiting = async {
            loop {
                let changed = self.state.changed.notified();
                if self.refused() >= n {
                    return;
                }
                changed.await;
            }
        };
        tokio::time::timeout(timeout, waiting)
            .await
            .unwrap_or_else(|_| panic!("the SMTP mock refused {} of {n} mails within {timeout:?}", self.refused()));
    }
}

fn address(argument: &str) -> String {
    let argument = argument.trim();
    let end = argument.find('>').map_or(argument.len(), |i| i + 1);
    argument[..end].trim_start_matches('<').trim_end_matches('>').to_owned()
}

/// One client's conversation.
async fn serve(stream: TcpStream, state: &State) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 smtp-mock ready\r\n").await?;
    let (mut from, mut to) = (None::<String>, Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 smtp-mock\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            let next = state.refuse_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
            if state.rejecting.load(Ordering::SeqCst) {
                state.refused.fetch_add(1, Ordering::SeqCst);
                state.changed.notify_waiters();
                b"550 5.7.1 rejected\r\n"
            } else if next || state.refusing.load(Ordering::SeqCst) {
                state.refused.fetch_add(1, Ordering::SeqCst);
                state.changed.notify_waiters();
                b"451 4.3.0 try again later\r\n"
            } else {
                from = Some(address(&command[10..]));
                to.clear();
                b"250 2.1.0 ok\r\n"
            }
        } else if upper.starts_with("RCPT TO:") {
            if from.is_some() {
                to.push(address(&command[8..]));
                b"250 2.1.5 ok\r\n"
            } else {
                b"503 5.5.1 MAIL first\r\n"
            }
        } else if upper == "DATA" {
            if from.is_none() || to.is_empty() {
                write.write_all(b"503 5.5.1 RCPT first\r\n").await?;
                continue;
            }
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                // Dot-unstuffing: a line the client started with an extra dot.
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            let mail = Mail { from: from.take().unwrap_or_default(), to: std::mem::take(&mut to), data };
            state.mails.lock().unwrap().push(mail);
            state.changed.notify_waiters();
            b"250 2.0.0 queued\r\n"
        } else if upper == "RSET" {
            (from, to) = (None, Vec::new());
            b"250 2.0.0 ok\r\n"
        } else if upper.starts_with("NOOP") {
            b"250 2.0.0 ok\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt as _;

    async fn say(stream: &mut TcpStream, line: &str) -> String {
        stream.write_all(line.as_bytes()).await.unwrap();
        let mut buf = [0u8; 256];
        let n = stream.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[tokio::test]
    async fn records_a_mail_and_refuses_on_demand() {
        let mock = SmtpMock::start().await;
        let mut stream = TcpStream::connect(mock.addr()).await.unwrap();
        let mut buf = [0u8; 64];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"220"));
        assert!(say(&mut stream, "EHLO test\r\n").await.starts_with("250"));
        mock.refuse(true);
        assert!(say(&mut stream, "MAIL FROM:<a@x>\r\n").await.starts_with("451"));
        assert_eq!(mock.refused(), 1);
        mock.refuse(false);
        assert!(say(&mut stream, "MAIL FROM:<a@x> SIZE=10\r\n").await.starts_with("250"));
        assert!(say(&mut stream, "RCPT TO:<b@y>\r\n").await.starts_with("250"));
        assert!(say(&mut stream, "DATA\r\n").await.starts_with("354"));
        assert!(say(&mut stream, "Subject: hi\r\n\r\n..dot\r\nsoft=\r\nly =3D\r\n.\r\n").await.starts_with("250"));
        assert!(say(&mut stream, "QUIT\r\n").await.starts_with("221"));
        let mails = mock.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(mails[0].from, "a@x");
        assert_eq!(mails[0].to, ["b@y"]);
        assert_eq!(mails[0].data, "Subject: hi\r\n\r\n.dot\r\nsoft=\r\nly =3D\r\n");
        assert_eq!(mails[0].text(), "Subject: hi\r\n\r\n.dot\r\nsoftly =\r\n");
    }

    #[tokio::test]
    async fn refuses_the_next_few_and_rejects_on_demand() {
        let mock = SmtpMock::start().await;
        let mut stream = TcpStream::connect(mock.addr()).await.unwrap();
        let mut buf = [0u8; 64];
        let _ = stream.read(&mut buf).await.unwrap();
        mock.refuse_next(2);
        for expected in ["451", "451", "250"] {
            assert!(say(&mut stream, "MAIL FROM:<a@x>\r\n").await.starts_with(expected), "{expected}");
        }
        mock.reject(true);
        assert!(say(&mut stream, "MAIL FROM:<a@x>\r\n").await.starts_with("550"));
        assert_eq!(mock.refused(), 3);
    }

    #[test]
    fn parses_a_multipart_mail() {
        let raw = "From: a@x\r\nTo: \"b\" <b@y>\r\nContent-Type: multipart/alternative;\r\n boundary=\"XY\"\r\n\r\n\
                   --XY\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\
                   plain text\r\n--XY\r\nContent-Type: text/html; charset=utf-8\r\n\
                   Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>soft=\r\nly =3D</p>\r\n--XY--\r\n";
        let parsed = Parsed::new(raw);
        assert_eq!(parsed.header("to"), Some("\"b\" <b@y>"));
        assert_eq!(parsed.header("Content-Type"), Some("multipart/alternative; boundary=\"XY\""));
        assert_eq!(parsed.parts.len(), 2);
        assert_eq!(parsed.part("text/plain").unwrap().body, "plain text");
        assert_eq!(parsed.part("text/html").unwrap().body, "<p>softly =</p>");
        assert!(Parsed::new("Subject: one\r\n\r\nbody\r\n").parts.is_empty());
    }
}
