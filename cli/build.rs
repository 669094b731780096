//! Links `runcomfy` with packed relative relocations (DT_RELR) where the platform has them.
//!
//! A position-independent executable carries one relocation per pointer in its read-only data;
//! as 24-byte RELA entries they are 1.2 MB the loader reads at every start, resident for the
//! whole run (issue 19's memory goal). Packed, they take a few KiB; the binary stays PIE.
//! glibc 2.36 and binutils 2.38 (or lld 15) know the format; older GNU ld ignores the option
//! with a warning, and a glibc without DT_RELR keeps ld from packing.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
