//! The pure parts of applying a render, testable without a cluster: the inventory of what a
//! Sync applied (Flux's id format), what to prune and in which order, the apply stages,
//! drift (a server-side dry run compared with the live object), and Secret changes described
//! by key and digest only. The calls to the API server live with the controller.

pub mod drift;
pub mod inventory;
pub mod stage;
