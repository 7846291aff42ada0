//! The accept loop both test servers share: a tokio runtime on its own
//! thread (so the code under test can start its own), listening on
//! 127.0.0.1, handing every connection to `serve`.

use std::future::Future;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};

/// Starts listening on a free port of 127.0.0.1 and returns it.
pub fn spawn<F, Fut>(serve: F) -> u16
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    spawn_on(std::net::IpAddr::from([127, 0, 0, 1]), serve)
}

/// `spawn` on another local address (any of 127.0.0.0/8 on Linux).
pub fn spawn_on<F, Fut>(ip: std::net::IpAddr, serve: F) -> u16
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let serve = Arc::new(serve);
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = TcpListener::bind((ip, 0)).await.unwrap();
            port_tx.send(listener.local_addr().unwrap().port()).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(serve(stream));
            }
        });
    });
    port_rx.recv().unwrap()
}
