//! An SMTP server for tests: speaks just enough SMTP for a client such as lettre (greeting, EHLO/HELO,
//! MAIL FROM, RCPT TO, DATA, RSET, NOOP, QUIT; no extensions), records every accepted mail, and can be told to
//! refuse mails (a transient `451` to MAIL FROM) to simulate an outage. The SMTP server is outside the product,
//! so a mock is the honest stand-in; the tests' RabbitMQ and PostgreSQL stay the real ones.

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
        let joined = self.data.replace("=\r\n", "");
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
}

#[derive(Default)]
struct State {
    mails: Mutex<Vec<Mail>>,
    refusing: AtomicBool,
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

    /// How many mails were refused so far.
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
            if state.refusing.load(Ordering::SeqCst) {
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
}
