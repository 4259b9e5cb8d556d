//! Random identifiers and secrets.

use rand::Rng;
use sha2::{Digest, Sha256};

/// A numeric id in the 15-16 digit range Databricks uses for SCIM ids and workspace ids.
pub fn numeric_id() -> i64 {
    rand::rng().random_range(1_000_000_000_000_000..9_000_000_000_000_000)
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill(bytes.as_mut_slice());
    hex::encode(bytes)
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}
