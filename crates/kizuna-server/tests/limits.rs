//! Connection limits (issue #18, slowloris): header and body read timeouts and the connection
//! cap keep a server with silent or trickling clients answering real requests.

use std::time::Duration;

use kizuna_testkit::{server_test, Auth};
use reqwest::Method;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Reads until the server closes the connection; returns what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection in time")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

server_test!(unfinished_headers_are_cut_off_after_the_read_timeout, |c| { c.socket.read_timeout_ms = 300; }, |server| {
    // Half a request, then silence; and a connection that never sends a byte.
    let mut trickle = TcpStream::connect(server.addr()).await.unwrap();
    trickle.write_all(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut silent = TcpStream::connect(server.addr()).await.unwrap();
    read_until_closed(&mut trickle).await;
    read_until_closed(&mut silent).await;
});

server_test!(a_body_that_never_arrives_is_refused, |c| { c.socket.read_timeout_ms = 300; }, |server| {
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let head = "POST /v2/account/authenticate/device HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ZGVmYXVsdGtleTo=\r\n\
                Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let reply = read_until_closed(&mut stream).await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    assert!(reply.contains("Request body was not received in time."), "{reply}");
});

server_test!(silent_connections_cannot_starve_real_requests, |c| {
    c.socket.read_timeout_ms = 300;
    c.socket.max_connections = 4;
}, |server| {
    // More silent connections than the server takes: the ones over the cap wait in the backlog,
    // the accepted ones are cut off after the read timeout, and a real request gets through.
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(server.addr()).await.unwrap());
    }
    let reply = tokio::time::timeout(Duration::from_secs(10), server.call(Method::GET, "/healthcheck", Auth::None, None))
        .await
        .expect("a real request is answered");
    assert_eq!(reply.status, 200);
    drop(idle);
});

server_test!(connections_over_the_cap_wait_for_a_free_slot, |c| { c.socket.max_connections = 2; }, |server| {
    let held = [TcpStream::connect(server.addr()).await.unwrap(), TcpStream::connect(server.addr()).await.unwrap()];
    // Both slots are taken: a third connection is not served while they stay open...
    let client = reqwest::Client::new();
    let waiting = client.get(server.url("/healthcheck")).send();
    let mut waiting = std::pin::pin!(waiting);
    assert!(tokio::time::timeout(Duration::from_millis(500), waiting.as_mut()).await.is_err(), "served over the cap");
    // ...and is as soon as one closes.
    drop(held);
    let reply = tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("served once a slot frees").unwrap();
    assert_eq!(reply.status(), 200);
});
