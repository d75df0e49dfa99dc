//! Loopback addresses for tests.

/// A loopback port that nothing listens on: bound, then closed again, so connecting to it is
/// very likely refused (until some other socket takes the port, which the OS avoids doing soon).
pub fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.local_addr().expect("a local address").port()
}
