//! `kizuna-bench SCENARIO --target URL [--server-key K] [--clients N] [--duration 10s]
//! [--warmup 2s] [--rate R] [--json]`

use std::time::Duration;

use kizuna_bench::{run, RunOptions, Scenario, Target};

fn parse_duration(s: &str) -> Option<Duration> {
    let (num, unit) = s.find(|c: char| !c.is_ascii_digit() && c != '.').map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num.parse().ok()?;
    Some(Duration::from_secs_f64(match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    }))
}

fn usage() -> String {
    let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
    format!(
        "usage: kizuna-bench SCENARIO --target http://host:7350 [--server-key defaultkey] [--clients 64] \
         [--duration 10s] [--warmup 2s] [--rate REQ_PER_SEC] [--size N] [--server-pid PID] [--json]\nscenarios: {} \
         (rpc-echo needs a runtime function `echo` on the target that returns its payload, e.g. Lua \
         `nk.register_rpc(function(ctx, payload) return payload end, \"echo\")`; without one it reports \"skipped\"), \
         socket-hold (--clients sockets held for --duration; --server-pid for memory per socket), \
         status-fanout (--clients followers of one user updating status for --duration), \
         chat-fanout (--clients room members, --senders 10 sending for --duration), \
         match-relay (--clients players in relayed matches of --players 4, each sending --size 64 bytes \
         --tick-rate 10 times a second for --duration), \
         matchmaker (--clients players in --regions 8, one ticket each, waiting up to --duration for a match)",
        names.join(", ")
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match real_main().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kizuna-bench: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn real_main() -> anyhow::Result<std::process::ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", usage());
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let socket_scenario = matches!(args[0].as_str(), "socket-hold" | "status-fanout" | "chat-fanout" | "match-relay" | "matchmaker");
    let scenario = Scenario::parse(&args[0]);
    if scenario.is_none() && !socket_scenario {
        anyhow::bail!("unknown scenario {:?}\n{}", args[0], usage());
    }
    let mut target = None;
    let mut server_key = "defaultkey".to_owned();
    let mut options = RunOptions { clients: 64, duration: Duration::from_secs(10), warmup: Duration::from_secs(2), rate: None, size: None };
    let mut json = false;
    let mut server_pid = None;
    let mut senders = 10;
    let mut players = 4;
    let mut tick_rate = 10;
    let mut regions = 8;
    let mut i = 1;
    while i < args.len() {
        let flag = args[i].as_str();
        let mut value = || {
            i += 1;
            args.get(i).cloned().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag {
            "--target" => target = Some(value()?),
            "--server-key" => server_key = value()?,
            "--clients" => options.clients = value()?.parse()?,
            "--duration" => options.duration = parse_duration(&value()?).ok_or_else(|| anyhow::anyhow!("bad --duration"))?,
            "--warmup" => options.warmup = parse_duration(&value()?).ok_or_else(|| anyhow::anyhow!("bad --warmup"))?,
            "--rate" => options.rate = Some(value()?.parse()?),
            "--size" => options.size = Some(value()?.parse()?),
            "--json" => json = true,
            "--server-pid" => server_pid = Some(value()?.parse()?),
            "--senders" => senders = value()?.parse()?,
            "--players" => players = value()?.parse()?,
            "--tick-rate" => tick_rate = value()?.parse()?,
            "--regions" => regions = value()?.parse()?,
            other => anyhow::bail!("unknown flag {other}\n{}", usage()),
        }
        i += 1;
    }
    let target = Target::new(&target.ok_or_else(|| anyhow::anyhow!("--target is required"))?, &server_key)?;
    let Some(scenario) = scenario else {
        // Socket scenarios: --clients is the number of sockets (followers for status-fanout).
        let out = if args[0] == "socket-hold" {
            let r = kizuna_bench::socket::socket_hold(&target, options.clients, options.duration, server_pid).await?;
            let failed = r.failed > 0 || r.pongs < r.connected;
            (serde_json::to_value(&r)?, failed)
        } else if args[0] == "chat-fanout" {
            let r = kizuna_bench::socket::chat_fanout(&target, options.clients, senders, options.duration).await?;
            let failed = r.delivery.missing > 0;
            (serde_json::to_value(&r)?, failed)
        } else if args[0] == "matchmaker" {
            let r = kizuna_bench::socket::matchmaker(&target, options.clients, regions, options.duration).await?;
            // Players left without partners are the algorithm's answer, not errors; sockets the
            // server closed are.
            let failed = r.closed_sockets > 0;
            (serde_json::to_value(&r)?, failed)
        } else if args[0] == "match-relay" {
            let size = options.size.unwrap_or(64);
            let r = kizuna_bench::socket::match_relay(&target, options.clients, players, tick_rate, size, options.duration).await?;
            let failed = r.delivery.missing > 0 || r.closed_sockets > 0;
            (serde_json::to_value(&r)?, failed)
        } else {
            let r = kizuna_bench::socket::status_fanout(&target, options.clients, options.duration).await?;
            let failed = r.delivery.missing > 0;
            (serde_json::to_value(&r)?, failed)
        };
        if json {
            println!("{}", out.0);
        } else {
            println!("{}", serde_json::to_string_pretty(&out.0)?);
            println!("{}", if out.1 { "result: ERRORS (failed or closed sockets, missing pongs or undelivered events)" } else { "result: no errors" });
        }
        return Ok(if out.1 { std::process::ExitCode::FAILURE } else { std::process::ExitCode::SUCCESS });
    };
    let report = match run(scenario, target, options).await {
        Ok(report) => report,
        Err(e) if e.downcast_ref::<kizuna_bench::scenario::Skipped>().is_some() => {
            println!("{e}\nresult: skipped");
            return Ok(std::process::ExitCode::SUCCESS);
        }
        Err(e) => return Err(e),
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(if report.error_count() == 0 { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE })
}
