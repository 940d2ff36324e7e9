//! The Prometheus endpoint (`metrics.prometheus_port`) counts requests per route and status.

use kizuna_server::{config::Config, start, Listeners};
use kizuna_testkit::{TestBackend, TestDatabase};
use tokio::net::TcpListener;

#[tokio::test]
async fn metrics_endpoint_reports_requests_per_route() {
    let db = TestDatabase::new(TestBackend::Sqlite).await.expect("sqlite");
    let (address, dir) = db.server_address();
    let mut config = Config::defaults();
    config.database.address = address;
    config.data_dir = dir;
    let listeners = Listeners {
        http: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        metrics: Some(TcpListener::bind("127.0.0.1:0").await.unwrap()),
    };
    let server = start(config, listeners).await.unwrap();
    let http = reqwest::Client::new();
    let base = format!("http://{}", server.http_addr());
    assert!(http.get(format!("{base}/healthcheck")).send().await.unwrap().status().is_success());
    assert_eq!(http.get(format!("{base}/v2/account")).send().await.unwrap().status(), 401);
    let text = http.get(format!("http://{}/metrics", server.metrics_addr().unwrap())).send().await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"kizuna_api_requests_total{route="GET /healthcheck",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"kizuna_api_requests_total{route="GET /v2/account",status="401"} 1"#), "{text}");
    assert!(text.contains("kizuna_api_request_latency_seconds_bucket"), "{text}");
    // Realtime gauges are read at scrape time.
    assert!(text.contains("kizuna_realtime_sessions 0"), "{text}");
    assert!(text.contains("kizuna_realtime_relayed_matches 0"), "{text}");
    assert!(text.contains("kizuna_matchmaker_tickets 0"), "{text}");
    let token = {
        let body = http
            .post(format!("{base}/v2/account/authenticate/device"))
            .basic_auth("defaultkey", Some(""))
            .json(&serde_json::json!({"id": "metrics-device-0001"}))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        body["token"].as_str().unwrap().to_owned()
    };
    let mut socket = kizuna_testkit::socket::TestSocket::connect(&format!("ws://{}/ws?token={token}", server.http_addr())).await.unwrap();
    let created = socket.call(serde_json::json!({"cid": "c", "match_create": {}})).await;
    assert!(created.get("match").is_some(), "{created}");
    let ticket = socket.call(serde_json::json!({"cid": "t", "matchmaker_add": {"min_count": 2, "max_count": 2}})).await;
    assert!(ticket.get("matchmaker_ticket").is_some(), "{ticket}");
    let text = http.get(format!("http://{}/metrics", server.metrics_addr().unwrap())).send().await.unwrap().text().await.unwrap();
    for line in ["kizuna_realtime_sessions 1", "kizuna_realtime_relayed_matches 1", "kizuna_matchmaker_tickets 1"] {
        assert!(text.contains(line), "{line} in {text}");
    }
    drop(socket);
    server.shutdown().await.unwrap();
    db.cleanup().await;
}
