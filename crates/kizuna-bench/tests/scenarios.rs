//! Every REST scenario against a real server, short and small: figures are sane and error-free.

use std::time::Duration;

use kizuna_bench::{run, RunOptions, Scenario, Target};
use kizuna_testkit::{TestBackend, TestServer};

#[tokio::test]
async fn every_rest_scenario_runs_without_errors_on_sqlite() {
    let server = TestServer::start(TestBackend::Sqlite).await.expect("sqlite is always available");
    let target = Target::new(&server.url(""), "defaultkey").unwrap();
    for scenario in Scenario::ALL {
        let options = RunOptions { clients: 4, duration: Duration::from_millis(300), warmup: Duration::from_millis(50), rate: None, size: Some(30) };
        if scenario == Scenario::RpcEcho {
            // Kizuna registers no runtime functions yet (no Lua runtime): the scenario says it is
            // skipped instead of reporting a run of errors.
            let err = run(scenario, target.clone(), options).await.unwrap_err();
            assert!(err.downcast_ref::<kizuna_bench::scenario::Skipped>().is_some(), "{err}");
            assert!(err.to_string().contains("no runtime function `echo`"), "{err}");
            continue;
        }
        let report = run(scenario, target.clone(), options).await.unwrap();
        assert_eq!(report.error_count(), 0, "{}", report.table());
        assert!(report.requests_ok > 0, "{}", report.table());
        assert!(report.p50_ms <= report.p99_ms && report.p99_ms <= report.max_ms, "{}", report.table());
    }
    server.stop().await;
}

#[tokio::test]
async fn open_loop_sends_about_the_requested_rate_and_counts_errors() {
    let server = TestServer::start(TestBackend::Sqlite).await.expect("sqlite is always available");
    let good = Target::new(&server.url(""), "defaultkey").unwrap();
    let options = RunOptions { clients: 2, duration: Duration::from_millis(500), warmup: Duration::ZERO, rate: Some(100.0), size: None };
    let report = run(Scenario::AccountGet, good, options.clone()).await.unwrap();
    // 100/s for 0.5 s is 50 requests; allow for scheduling at the edges.
    assert!((40..=55).contains(&report.requests_ok), "{}", report.table());
    // A wrong server key: every auth-new request fails with 401, and the report says so.
    let bad = Target::new(&server.url(""), "wrongkey").unwrap();
    let report = run(Scenario::AuthNew, bad, options).await.unwrap();
    assert_eq!(report.requests_ok, 0);
    assert!(report.errors.get("http 401").copied().unwrap_or(0) > 0, "{}", report.table());
    assert!(report.table().ends_with("ERRORS\n"));
    server.stop().await;
}

#[tokio::test]
async fn socket_scenarios_run_against_a_real_server() {
    let server = TestServer::start(TestBackend::Sqlite).await.expect("sqlite is always available");
    let target = Target::new(&server.url(""), "defaultkey").unwrap();
    // The test server runs in this process, so its pid is ours: the memory figure is computed.
    let hold = kizuna_bench::socket::socket_hold(&target, 20, Duration::from_millis(50), Some(std::process::id())).await.unwrap();
    assert_eq!((hold.connected, hold.failed, hold.pongs), (20, 0, 20));
    assert!(hold.server_bytes_per_socket.is_some());
    let fanout = kizuna_bench::socket::status_fanout(&target, 5, Duration::from_millis(300)).await.unwrap();
    assert!(fanout.updates > 0);
    assert_eq!(fanout.delivery.missing, 0, "{fanout:?}");
    assert_eq!(fanout.delivery.delivered, fanout.updates * 5);
    assert!(fanout.delivery.p50_ms <= fanout.delivery.p99_ms);
    let chat = kizuna_bench::socket::chat_fanout(&target, 6, 2, Duration::from_millis(300)).await.unwrap();
    assert!(chat.messages > 0);
    assert_eq!(chat.delivery.missing, 0, "{chat:?}");
    assert_eq!(chat.delivery.delivered, chat.messages * 6);
    assert!(chat.delivery.p50_ms <= chat.delivery.p99_ms);
    // 3 matches of 3 players (the 10th player is left out), 50 ticks a second.
    let relay = kizuna_bench::socket::match_relay(&target, 10, 3, 50, 16, Duration::from_millis(300)).await.unwrap();
    assert_eq!((relay.matches, relay.players_per_match), (3, 3));
    assert!(relay.sent >= 9, "{relay:?}");
    assert_eq!((relay.delivery.missing, relay.closed_sockets), (0, 0), "{relay:?}");
    assert_eq!(relay.delivery.delivered, relay.sent * 2);
    assert!(relay.delivery.p50_ms <= relay.delivery.p99_ms);
    server.stop().await;
}

#[tokio::test]
async fn matchmaker_scenario_groups_every_player() {
    let server = kizuna_testkit::TestServer::start_with(TestBackend::Sqlite, |c| c.matchmaker.interval_sec = 1)
        .await
        .expect("sqlite is always available");
    let target = Target::new(&server.url(""), "defaultkey").unwrap();
    // 8 players in 2 regions with skill bands: groups of 2–4 form by the second pass; a player
    // whose band holds nobody left can stay alone (matching is one-directional, as in Nakama).
    let mm = kizuna_bench::socket::matchmaker(&target, 8, 2, Duration::from_secs(5)).await.unwrap();
    assert_eq!(mm.matched + mm.unmatched, 8, "{mm:?}");
    assert_eq!(mm.closed_sockets, 0, "{mm:?}");
    assert!(mm.matched >= 6 && mm.matches * 2 <= mm.matched && mm.matched <= mm.matches * 4, "{mm:?}");
    assert!(mm.p50_ms <= mm.p99_ms && mm.p99_ms <= mm.max_ms);
    server.stop().await;
}
