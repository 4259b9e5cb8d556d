//! The in-process side of the TPC-H benchmark (`scripts/bench-tpch.sh`): the same queries
//! on DataFusion over the same Delta files, with no server, governance or result encoding
//! in between. Prints `<query> <best ms> <rows>` per query.
//!
//! Usage: tpch_inprocess <queries-dir> <iterations> <table>=<file:// url> ...

use std::time::Instant;

use datafusion::prelude::{SessionConfig, SessionContext};
use deltalake::DeltaTableBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [queries_dir, iterations, tables @ ..] = args.as_slice() else {
        return Err("usage: tpch_inprocess <queries-dir> <iterations> <table>=<url> ...".into());
    };
    let iterations: usize = iterations.parse()?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(cores));
    for table in tables {
        let (name, url) = table.split_once('=').ok_or("tables are given as name=url")?;
        let delta = DeltaTableBuilder::from_url(url::Url::parse(url)?)?.build()?;
        ctx.register_table(name, delta.table_provider().await?)?;
    }
    let mut paths: Vec<_> = std::fs::read_dir(queries_dir)?.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let sql = std::fs::read_to_string(&path)?;
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string();
        let mut best = f64::MAX;
        let mut rows = 0;
        for _ in 0..iterations {
            let started = Instant::now();
            let batches = ctx.sql(&sql).await?.collect().await?;
            best = best.min(started.elapsed().as_secs_f64() * 1000.0);
            rows = batches.iter().map(|b| b.num_rows()).sum();
        }
        println!("{name} {best:.1} {rows}");
    }
    Ok(())
}
