//! `runcomfy`: run RunComfy Model API models from the command line.

#![warn(clippy::unwrap_used, clippy::expect_used)]

fn main() {}
