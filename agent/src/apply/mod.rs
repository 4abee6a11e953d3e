//! The pure parts of applying a render, testable without a cluster: the inventory of what a
//! Sync applied (Flux's id format), what to prune and in which order, the apply stages and
//! order, per-object annotations (`policy`), and Secret changes described by key and keyed
//! digest only. The calls to the API server live with the controller.

pub mod inventory;
pub mod policy;
pub mod secret_changes;
pub mod stage;
