//! The behaviour every store adapter must show, as suites each adapter's tests run against its
//! own store (feature `behaviour-suites`, turned on by the adapter crates' dev-dependencies).

pub mod catalog_store;
pub mod purchase_store;
