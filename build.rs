//! Names the OS groups once (`bsd`, `apple`, `solarish`) so the code can say "any BSD" without
//! listing targets, as rustix does. This is one of the three places `target_os` may appear.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let alias = match os.as_str() {
        "freebsd" | "openbsd" | "netbsd" | "dragonfly" => Some("bsd"),
        "macos" | "ios" => Some("apple"),
        "illumos" | "solaris" => Some("solarish"),
        _ => None,
    };
    if let Some(a) = alias {
        println!("cargo:rustc-cfg={a}");
    }
    // Features rather than OS names, for code outside the platform layer (the tests): PID and
    // mount namespaces, which the PID-1 tests boot runit in, exist on Linux only.
    if os == "linux" {
        println!("cargo:rustc-cfg=pid_namespaces");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
