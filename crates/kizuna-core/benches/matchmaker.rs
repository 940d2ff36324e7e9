//! One matchmaker pass over pools of different sizes: players in 8 regions with a skill, each
//! asking for 2–4 players of its region within a skill band. The pool is rebuilt for every
//! iteration (not measured), since a pass consumes the tickets it matches.

use std::{collections::HashMap, hint::black_box};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use kizuna_core::{
    matchmaker::{Entry, Matchmaker, MatchmakerConfig, TicketRequest},
    query::Query,
    realtime::SessionId,
};
use uuid::Uuid;

fn pool(n: usize) -> Matchmaker {
    let mm = Matchmaker::new(MatchmakerConfig::default());
    for i in 0..n {
        let region = format!("r{}", i % 8);
        let skill = (i * 37 % 100) as f64;
        let query = format!("+properties.region:{region} +properties.skill:>={} +properties.skill:<={}", skill - 20.0, skill + 20.0);
        let entry = Entry { user_id: Uuid::new_v4(), session_id: SessionId(Uuid::new_v4()), username: format!("p{i}") };
        let request = TicketRequest {
            query: Query::parse(&query).expect("valid query"),
            min_count: 2,
            max_count: 4,
            count_multiple: 1,
            string_properties: HashMap::from([("region".to_owned(), region)]),
            numeric_properties: HashMap::from([("skill".to_owned(), skill)]),
        };
        mm.add(entry, request).expect("within the ticket limit");
    }
    mm
}

fn pass(c: &mut Criterion) {
    let mut group = c.benchmark_group("matchmaker_pass");
    group.sample_size(10);
    for n in [100usize, 1_000, 5_000] {
        group.bench_function(format!("{n}_tickets"), |b| {
            b.iter_batched(|| pool(n), |mm| black_box(mm.process().len()), BatchSize::LargeInput)
        });
    }
    group.finish();
}

criterion_group!(benches, pass);
criterion_main!(benches);
