//! Issue 12, "one HTTP stack": what moving the MCP Streamable HTTP transport from ureq (sync,
//! no runtime) to reqwest (which oci-client already brings) would cost the gate's `run --url`.
//! Both clients POST the same JSON-RPC message to the same loopback HTTP/1.1 keep-alive server
//! (a std thread in this process, answering `application/json`), interleaved, in one run:
//!
//! - **first request**: build a client and make one request (what every gated session pays
//!   once before the first message is relayed);
//! - **per request**: one round trip on a warm client (what every relayed message pays).
//!
//! Three clients: ureq as its defaults configure it (a global timeout: ureq then resolves the
//! host on a new thread before every request, pooled connection or not), mcpseal's own
//! `HttpTransport` (ureq with the kept-addresses resolver of `src/mcp/transport.rs`, and its
//! strict JSON parse of the reply, which the other two rows do not do), and reqwest blocking.
//!
//! Run: `cargo bench --bench http_stack`. Medians of 21 runs; plain std timing.

mod common;
use common::median_ms;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

const BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}"#;
const REPLY: &str =
    r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}"#;

/// A keep-alive HTTP/1.1 server answering every POST with REPLY; one thread per connection.
fn server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = c.set_nodelay(true);
                let mut w = c.try_clone().expect("clone");
                let mut r = BufReader::new(c);
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some(v) = l
                            .to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().to_owned())
                        {
                            len = v.parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{REPLY}",
                        REPLY.len()
                    );
                    if w.write_all(resp.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}/mcp")
}

fn ureq_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn ureq_post(a: &ureq::Agent, url: &str) {
    let mut r = a
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .send(BODY)
        .expect("ureq post");
    let s = r.body_mut().read_to_string().expect("ureq body");
    assert_eq!(s.len(), REPLY.len());
}

fn mcpseal_transport(url: &str) -> mcpseal::mcp::transport::HttpTransport {
    mcpseal::mcp::transport::HttpTransport::new(
        url,
        &Default::default(),
        Duration::from_secs(10),
        1 << 20,
    )
}

fn mcpseal_post(t: &mut mcpseal::mcp::transport::HttpTransport, msg: &serde_json::Value) {
    let replies = t.post_values(msg).expect("mcpseal post");
    assert_eq!(replies.len(), 1);
}

fn reqwest_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

fn reqwest_post(c: &reqwest::blocking::Client, url: &str) {
    let r = c
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(BODY)
        .send()
        .expect("reqwest post");
    let s = r.text().expect("reqwest body");
    assert_eq!(s.len(), REPLY.len());
}

fn main() {
    let url = server();
    const N: usize = 500;
    let msg: serde_json::Value = serde_json::from_str(BODY).expect("body");
    let ua = ureq_agent();
    let mut mt = mcpseal_transport(&url);
    let rc = reqwest_client();
    // Warm all three (connections open, code paged in).
    for _ in 0..50 {
        ureq_post(&ua, &url);
        mcpseal_post(&mut mt, &msg);
        reqwest_post(&rc, &url);
    }
    let (mut u_first, mut m_first, mut r_first) = (vec![], vec![], vec![]);
    let (mut u_req, mut m_req, mut r_req) = (vec![], vec![], vec![]);
    let per = |ms: f64| ms * 1000.0 / N as f64;
    for _ in 0..5 {
        u_first.push(median_ms(|| ureq_post(&ureq_agent(), &url)));
        m_first.push(median_ms(|| {
            mcpseal_post(&mut mcpseal_transport(&url), &msg)
        }));
        r_first.push(median_ms(|| reqwest_post(&reqwest_client(), &url)));
        u_req.push(per(median_ms(|| (0..N).for_each(|_| ureq_post(&ua, &url)))));
        m_req.push(per(median_ms(|| {
            (0..N).for_each(|_| mcpseal_post(&mut mt, &msg))
        })));
        r_req.push(per(median_ms(|| {
            (0..N).for_each(|_| reqwest_post(&rc, &url))
        })));
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (uf, mf, rf) = (med(&mut u_first), med(&mut m_first), med(&mut r_first));
    let (ur, mr, rr) = (med(&mut u_req), med(&mut m_req), med(&mut r_req));
    println!(
        "| | ureq 3, default resolver | mcpseal HttpTransport (ureq 3, kept addresses) | reqwest 0.13 blocking | reqwest / mcpseal |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| client + first request | {uf:.3} ms | {mf:.3} ms | {rf:.3} ms | {:.2} |",
        rf / mf
    );
    println!(
        "| per request, warm client | {ur:.1} µs | {mr:.1} µs | {rr:.1} µs | {:.2} |",
        rr / mr
    );
}
