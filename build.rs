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
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
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
