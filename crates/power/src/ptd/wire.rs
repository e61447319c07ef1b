//! The line protocol both PTDaemon and power-dev's director speak: one
//! command or reply per line, `\r\n` sent, `\n` (with an optional `\r`)
//! accepted; files go as chunks, each a decimal length line then the bytes,
//! ended by a `0` line.

use super::PtdError;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long a reply may take before the peer counts as gone (the director
/// sleeps 10 s around each measurement on a real meter).
pub(crate) const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

/// The largest line accepted (a file chunk header or a PTDaemon sample line
/// is short; this only bounds a misbehaving peer).
const MAX_LINE: usize = 1 << 20;

/// One TCP connection speaking the line protocol.
pub(crate) struct LineConn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// `PTDaemon`, `the power director`, `the client`, for messages.
    pub(crate) peer: &'static str,
}

impl LineConn {
    /// Connect to `addr` (host:port).
    pub(crate) fn connect(addr: &str, peer: &'static str) -> Result<Self, PtdError> {
        let resolved = addr
            .to_socket_addrs()
            .map_err(|source| PtdError::Connect {
                peer,
                addr: addr.to_string(),
                source,
            })?
            .next()
            .ok_or_else(|| PtdError::BadAddress(addr.to_string()))?;
        let stream =
            TcpStream::connect_timeout(&resolved, Duration::from_secs(10)).map_err(|source| {
                PtdError::Connect {
                    peer,
                    addr: addr.to_string(),
                    source,
                }
            })?;
        Self::from_stream(stream, peer).map_err(|source| PtdError::Io {
            peer,
            context: "setting up the connection".into(),
            source,
        })
    }

    /// Wrap an accepted connection.
    pub(crate) fn from_stream(stream: TcpStream, peer: &'static str) -> std::io::Result<Self> {
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        stream.set_nodelay(true)?;
        let writer = stream.try_clone()?;
        Ok(Self {
            reader: BufReader::new(stream),
            writer,
            peer,
        })
    }

    /// Send one line.
    pub(crate) fn send(&mut self, line: &str) -> std::io::Result<()> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.writer.write_all(&bytes)
    }

    /// The next line, or `None` when the peer closed the connection.
    pub(crate) fn recv(&mut self) -> std::io::Result<Option<String>> {
        let mut line = Vec::new();
        let read = (&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)?;
        if read == 0 || line.last() != Some(&b'\n') {
            return Ok(None);
        }
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(String::from_utf8_lossy(&line).into_owned()))
    }

    /// Send `command` and wait for its one-line reply.
    pub(crate) fn command(&mut self, command: &str) -> Result<String, PtdError> {
        self.send(command)
            .map_err(|source| self.io_error(command, source))?;
        self.recv_reply(command)
    }

    /// The reply to `command`, already sent.
    pub(crate) fn recv_reply(&mut self, command: &str) -> Result<String, PtdError> {
        match self.recv() {
            Ok(Some(reply)) => Ok(reply),
            Ok(None) => Err(PtdError::Disconnected {
                peer: self.peer,
                during: command.to_string(),
            }),
            Err(source) if is_disconnect(&source) => Err(PtdError::Disconnected {
                peer: self.peer,
                during: command.to_string(),
            }),
            Err(source) => Err(self.io_error(command, source)),
        }
    }

    /// Send a whole file as chunks.
    pub(crate) fn send_file(&mut self, content: &[u8]) -> std::io::Result<()> {
        for chunk in content.chunks(1 << 20) {
            self.send(&chunk.len().to_string())?;
            self.writer.write_all(chunk)?;
        }
        self.send("0")
    }

    /// Receive a file sent as chunks after `command`.
    pub(crate) fn recv_file(&mut self, command: &str) -> Result<Vec<u8>, PtdError> {
        let mut content = Vec::new();
        loop {
            let header = self.recv_reply(command)?;
            let length: usize = header.trim().parse().map_err(|_| PtdError::Rejected {
                peer: self.peer,
                command: command.to_string(),
                reply: header.clone(),
            })?;
            if length == 0 {
                return Ok(content);
            }
            let start = content.len();
            content.resize(start + length, 0);
            self.reader
                .read_exact(&mut content[start..])
                .map_err(|source| {
                    if is_disconnect(&source) {
                        PtdError::Disconnected {
                            peer: self.peer,
                            during: command.to_string(),
                        }
                    } else {
                        self.io_error(command, source)
                    }
                })?;
        }
    }

    /// Close both directions now (a dropped connection, as a fault).
    pub(crate) fn shutdown(&self) {
        // The peer may already be gone; closing is all that is wanted.
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
    }

    fn io_error(&self, command: &str, source: std::io::Error) -> PtdError {
        if is_disconnect(&source) {
            return PtdError::Disconnected {
                peer: self.peer,
                during: command.to_string(),
            };
        }
        PtdError::Io {
            peer: self.peer,
            context: format!("sending {command:?}"),
            source,
        }
    }
}

/// Errors that mean the peer went away rather than a local failure.
fn is_disconnect(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected
    )
}
