//! The store conformance suite against SQLite, in memory and on disk.

mod in_memory {
    kiln_store::store_conformance_suite!(std::sync::Arc::new(kiln_store_sqlite::SqliteStore::open(":memory:").await.expect("open in-memory store")));
}

mod on_disk {
    kiln_store::store_conformance_suite!({
        let dir = std::env::temp_dir().join(format!("kiln-store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{}.db", uuid_like()));
        std::sync::Arc::new(kiln_store_sqlite::SqliteStore::open(path.to_str().expect("utf-8 path")).await.expect("open on-disk store"))
    });

    fn uuid_like() -> String {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        format!("{}", NEXT.fetch_add(1, Ordering::Relaxed))
    }
}
