//! Latency probes: sequential requests, percentiles reported. A measurement fails only when a
//! request does.

use std::time::Duration;

use serde_json::json;

use super::{Ctx, INFO, Outcome};
use crate::report::Check;

const ALIVE_LATENCY: Check = Check {
    id: "perf-ping-latency",
    scenario: None,
    level: INFO,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/utilities/ping",
    title: "latency of ping (2026-07-28: server/discover), sequential",
};
const TOOLS_LATENCY: Check = Check {
    id: "perf-tools-list-latency",
    scenario: None,
    level: INFO,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/tools#listing-tools",
    title: "latency of tools/list, sequential",
};

pub(super) const CATALOGUE: &[Check] = &[ALIVE_LATENCY, TOOLS_LATENCY];

pub(super) async fn run(ctx: &mut Ctx<'_>) {
    probe(ctx, &ALIVE_LATENCY, ctx.era().alive_method()).await;
    if ctx.session.declares("tools", None) {
        probe(ctx, &TOOLS_LATENCY, "tools/list").await;
    } else {
        ctx.skip(&TOOLS_LATENCY, "the server declares no tools capability");
    }
}

async fn probe(ctx: &mut Ctx<'_>, check: &Check, method: &str) {
    if !ctx.wants(check) {
        return;
    }
    let samples = ctx.options.perf_samples.max(1);
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        match ctx.session.request(method, json!({})).await {
            Ok(exchange) if exchange.result().is_some() => latencies.push(exchange.elapsed),
            Ok(exchange) => {
                ctx.record(
                    check,
                    Outcome::fail(
                        format!("{method} was not answered with a result"),
                        &exchange,
                    ),
                );
                return;
            }
            Err(error) => {
                ctx.lost(check, &error);
                ctx.record(check, Outcome::no_answer(method, &error));
                return;
            }
        }
    }
    latencies.sort_unstable();
    let at = |quantile: f64| {
        let index = ((latencies.len() as f64 - 1.0) * quantile).round() as usize;
        latencies.get(index).copied().unwrap_or_default()
    };
    let show = |duration: Duration| format!("{:.2} ms", duration.as_secs_f64() * 1000.0);
    ctx.record(
        check,
        Outcome::Pass(Some(format!(
            "{samples} requests: p50 {}, p90 {}, p99 {}, max {}",
            show(at(0.5)),
            show(at(0.9)),
            show(at(0.99)),
            show(at(1.0))
        ))),
    );
}
