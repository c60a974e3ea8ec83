//! Builds the va_list shim (src/shim.c) and generates the C header into $OUT_DIR/mtalog.h.
//! The committed include/mtalog.h is compared with it by tests/header.rs.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");

    cc::Build::new()
        .file("src/shim.c")
        .flag_if_supported("-fvisibility=hidden")
        .warnings(true)
        .compile("mtalog_shim");

    // The shared library's soname, so that installed links resolve as usual.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmtalog.so.0");

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("mtalog.h");
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let counters = std::fs::read_to_string(crate_dir.join("src/pipeline/stats.rs"))
        .expect("src/pipeline/stats.rs is readable");
    let prologue = config.after_includes.take().unwrap_or_default();
    config.after_includes = Some(prologue + &stats_struct(&counters));
    match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(&out);
        }
        Err(cbindgen::Error::ParseSyntaxError { .. }) => {
            // Let rustc report the real syntax error.
            println!("cargo:warning=cbindgen could not parse the sources; header not generated");
        }
        Err(e) => panic!("cbindgen failed: {e}"),
    }
}

/// The C `struct mtalog_stats`, from the one list of counters (`for_each_counter!` in
/// src/pipeline/stats.rs: doc comments, then `name,`). Written here rather than by cbindgen
/// because C cannot have a typedef and a function of the same name.
fn stats_struct(source: &str) -> String {
    let start = source
        .find("macro_rules! for_each_counter")
        .expect("for_each_counter! in stats.rs");
    let body = &source[start..];
    let body = &body[body.find("$m! {").expect("the list") + 5..];
    let mut out = String::from(
        "/**
 * Counters of one logger, filled by mtalog_stats(). Set `struct_size` to
 * `sizeof(struct mtalog_stats)` first; only members that lie within it are written, so a
 * host built against an older header keeps working. (The struct has no typedef: its name
 * is also the name of the function that fills it.)
 */
struct mtalog_stats {
  /** sizeof(struct mtalog_stats) as the caller was compiled. */
  size_t struct_size;
",
    );
    let mut doc: Vec<String> = Vec::new();
    for line in body.lines().map(str::trim) {
        if line.starts_with('}') {
            break;
        }
        if let Some(d) = line.strip_prefix("///") {
            doc.push(d.trim().replace('`', ""));
        } else if let Some(name) = line.strip_suffix(',') {
            out.push_str(&format!("  /** {} */\n  uint64_t {name};\n", doc.join(" ")));
            doc.clear();
        }
    }
    out.push_str("};\n");
    out
}
