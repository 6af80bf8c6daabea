//! `sse-testserver --port N [--cross-port M] [--tls-port T] [--static DIR]`: the scenario server
//! on loopback (cross-origin listener on N+1 and TLS on N+2 unless given).
//! `sse-testserver --write-corpora DIR`: writes the benchmark corpora as `DIR/NAME.sse` and exits
//! (for benchmarks outside Rust, which must parse the very same bytes).

use tokio::net::TcpListener;

fn usage() -> ! {
    eprintln!(
        "usage: sse-testserver [--port N] [--cross-port M] [--tls-port T] [--static DIR] | --write-corpora DIR"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut port = 8787u16;
    let mut cross_port = None;
    let mut tls_port = None;
    let mut static_dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--port" => port = value().parse().unwrap_or_else(|_| usage()),
            "--cross-port" => cross_port = Some(value().parse().unwrap_or_else(|_| usage())),
            "--tls-port" => tls_port = Some(value().parse().unwrap_or_else(|_| usage())),
            "--static" => static_dir = Some(value()),
            "--write-corpora" => {
                let dir = std::path::PathBuf::from(value());
                for c in sse_testserver::corpus::Corpus::ALL {
                    let path = dir.join(format!("{}.sse", c.name()));
                    if let Err(e) = std::fs::create_dir_all(&dir)
                        .and_then(|()| std::fs::write(&path, c.generate(c.default_events())))
                    {
                        eprintln!("sse-testserver: cannot write {}: {e}", path.display());
                        std::process::exit(1);
                    }
                }
                return;
            }
            _ => usage(),
        }
    }
    let cross_port = cross_port.unwrap_or(port.wrapping_add(1));
    let tls_port = tls_port.unwrap_or(port.wrapping_add(2));
    let bind = |p: u16| async move {
        TcpListener::bind(("127.0.0.1", p))
            .await
            .unwrap_or_else(|e| {
                eprintln!("sse-testserver: cannot listen on 127.0.0.1:{p}: {e}");
                std::process::exit(1)
            })
    };
    let (main, cross, tls) = (
        bind(port).await,
        bind(cross_port).await,
        bind(tls_port).await,
    );
    match sse_testserver::serve(main, cross, tls, static_dir).await {
        Ok(server) => {
            println!(
                "sse-testserver listening on {} (cross-origin {}, TLS {})",
                server.url(),
                server.cross_origin_url(),
                server.tls_url()
            );
            // What Chromium needs to trust the TLS listener for a test (also at /certificate).
            println!(
                "sse-testserver TLS certificate SPKI sha256: {} (--ignore-certificate-errors-spki-list)",
                server.certificate_spki()
            );
            let _ = tokio::signal::ctrl_c().await;
        }
        Err(e) => {
            eprintln!("sse-testserver: {e}");
            std::process::exit(1)
        }
    }
}
