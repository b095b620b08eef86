//! Sending log lines through UDP for `u`/`U` config lines (all OSes), IPv4 or IPv6.

use std::io;
use std::net::{SocketAddr, UdpSocket};

/// An unconnected, non-blocking socket aimed at one address: a slow or absent receiver must
/// never hold up logging.
#[derive(Debug)]
pub struct Udp {
    sock: UdpSocket,
    to: SocketAddr,
}

impl Udp {
    pub fn new(to: SocketAddr) -> io::Result<Udp> {
        let local: SocketAddr = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }
            .parse()
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let sock = UdpSocket::bind(local)?;
        sock.set_nonblocking(true)?;
        Ok(Udp { sock, to })
    }

    /// Sends one message; a short send is an error, as in C.
    pub fn send(&self, msg: &[u8]) -> io::Result<()> {
        let n = self.sock.send_to(msg, self.to)?;
        if n != msg.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short UDP send"));
        }
        Ok(())
    }
}
