//! A small blocking HTTP/1.1 client over one keep-alive connection, for `tests/serve.rs` and
//! `benches/serve.rs`: write a request, read the status, the headers and a `Content-Length` body. Every
//! read and write is bounded by the connection's timeout, so a test never hangs on a server that went away.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A keep-alive connection.
pub struct Conn<S: Read + Write> {
    reader: BufReader<S>,
    host: String,
}

pub fn connect(addr: SocketAddr, timeout: Duration) -> std::io::Result<Conn<TcpStream>> {
    let s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    Ok(Conn {
        reader: BufReader::new(s),
        host: addr.to_string(),
    })
}

impl<S: Read + Write> Conn<S> {
    /// Wrap any stream (a Unix socket); its timeouts are the caller's to set.
    pub fn over(stream: S, host: &str) -> Self {
        Conn {
            reader: BufReader::new(stream),
            host: host.to_owned(),
        }
    }

    /// The stream, to write a request by hand.
    pub fn stream(&mut self) -> &mut S {
        self.reader.get_mut()
    }

    /// Send one request and read its answer.
    pub fn send(&mut self, method: &str, path: &str, body: &[u8]) -> std::io::Result<Reply> {
        self.write(method, path, body)?;
        self.read()
    }

    pub fn get(&mut self, path: &str) -> std::io::Result<Reply> {
        self.send("GET", path, b"")
    }

    pub fn post(&mut self, path: &str, body: &str) -> std::io::Result<Reply> {
        self.send("POST", path, body.as_bytes())
    }

    /// Write one request (head and body in one write).
    pub fn write(&mut self, method: &str, path: &str, body: &[u8]) -> std::io::Result<()> {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        self.reader.get_mut().write_all(&req)?;
        self.reader.get_mut().flush()
    }

    /// Read one answer.
    pub fn read(&mut self) -> std::io::Result<Reply> {
        let bad =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(&format!("not a status line: {line:?}")))?;
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(bad("the headers end early"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_owned(), v.trim().to_owned());
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.parse().map_err(|_| bad("bad content-length"))?;
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        let body = String::from_utf8(body).map_err(|_| bad("the body is not UTF-8"))?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}
