//! Names the OS groups once (`bsd`, `apple`, `solarish`) so the code can say "any BSD" without
//! listing targets, as rustix does. This is one of the three places `target_os` may appear.
//!
//! It also fixes the distribution flavour, the paths a distribution patched into its C runit
//! (`RUNIT_FLAVOUR=upstream|debian|void` at build time, upstream by default; `ci/install`
//! detects it). The paths reach the code as `env!` strings, read in `src/flavour.rs` only, so
//! that `--version` can name them in constant text.

/// One flavour: name, sv's default SVDIR, the stop and reboot flag files, the runit that
/// runit-init falls back to when none lies beside it.
struct Flavour {
    name: &'static str,
    svdir: &'static str,
    stopit: &'static str,
    reboot: &'static str,
    runit: &'static str,
}

/// As the distributions build C runit (design/COMPAT.md, "Distributions"): Debian patched
/// stopit and reboot into /run; Void keeps runit's names, as symlinks into /run/runit, and
/// moved the programs to /usr/bin.
const FLAVOURS: [Flavour; 3] = [
    Flavour {
        name: "upstream",
        svdir: "/service/",
        stopit: "/etc/runit/stopit",
        reboot: "/etc/runit/reboot",
        runit: "/sbin/runit",
    },
    Flavour {
        name: "debian",
        svdir: "/etc/service/",
        stopit: "/run/runit.stopit",
        reboot: "/run/runit.reboot",
        runit: "/sbin/runit",
    },
    Flavour {
        name: "void",
        svdir: "/var/service/",
        stopit: "/etc/runit/stopit",
        reboot: "/etc/runit/reboot",
        runit: "/usr/bin/runit",
    },
];

fn flavour() -> &'static Flavour {
    let wanted = std::env::var("RUNIT_FLAVOUR").unwrap_or_default();
    let wanted = if wanted.is_empty() { "upstream" } else { wanted.as_str() };
    match FLAVOURS.iter().find(|f| f.name == wanted) {
        Some(f) => f,
        None => {
            eprintln!("RUNIT_FLAVOUR={wanted}: not one of upstream, debian, void");
            std::process::exit(1);
        }
    }
}

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
    // Abstract socket names (the notification socket's on Linux), which a test squats on.
    // cgroups, which contain a service's process tree on Linux.
    if os == "linux" {
        println!("cargo:rustc-cfg=pid_namespaces");
        println!("cargo:rustc-cfg=abstract_sockets");
        println!("cargo:rustc-cfg=cgroups");
    }
    let f = flavour();
    for (key, value) in [
        ("RUNIT_FLAVOUR_NAME", f.name),
        ("RUNIT_FLAVOUR_SVDIR", f.svdir),
        ("RUNIT_FLAVOUR_STOPIT", f.stopit),
        ("RUNIT_FLAVOUR_REBOOT", f.reboot),
        ("RUNIT_FLAVOUR_RUNIT", f.runit),
    ] {
        println!("cargo:rustc-env={key}={value}");
    }
    println!("cargo:rerun-if-env-changed=RUNIT_FLAVOUR");
    println!("cargo:rerun-if-changed=build.rs");
}
