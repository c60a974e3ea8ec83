# mtalog: build, test, example and install targets around cargo.
#
#   make                 cargo build --release, and the mtalog command (feature cli)
#   make example         build and run the C MTA simulator on a fixed day, logs in ./logs/
#                        (an earlier run's ./logs is removed first)
#   make test            Rust tests (with the mtalog command's), valgrind tests (ignored by
#                        default), the C examples and the install check
#   make bench-report    mtalog report vs pflogsumm on a 1-million-line Postfix log
#   make bench           the benchmark table (N=5000000 calls per case, R=3 rounds; N=... R=... to change)
#   make bench-build     build the benchmark without running it
#   make install         PREFIX=/usr/local, DESTDIR= for staged installs; stripped files
#   make install-debug   make install, plus the debug info (DEBUGDIR, default LIBDIR/debug)
#   make install-check   install and uninstall into a scratch root and check the files
#   make clean

CARGO      ?= cargo
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=
VERSION    := 0.1.0
SOMAJOR    := 0
INSTALL    ?= install
STRIP      ?= strip
OBJCOPY    ?= objcopy
# install-debug: debug files at DEBUGDIR + the installed file's path (gdb's layout: with
# PREFIX=/usr this is /usr/lib/debug, gdb's default debug-file-directory).
DEBUGDIR   ?= $(LIBDIR)/debug

RELEASE    := target/release
SO         := $(RELEASE)/libmtalog.so
STATIC     := $(RELEASE)/libmtalog.a
TEST_N     ?= 2000
BENCH_LINES ?= 1000000
N          ?= 5000000
R          ?= 3

# The example's simulated day: it starts at 2026-11-23 00:00:00 UTC and runs in UTC, so
# `make example` writes the same logs on every machine and every day, and the examples in
# docs/ are its real output (tests/docs.rs checks them against a fresh run).
EXAMPLE_START = 1795392000

all: release

# One build of the library and the command: the `cli` feature changes nothing in the
# library, and building the library with and without it would compile it twice each time.
release:
	$(CARGO) build --release --features cli

examples: release
	$(MAKE) -C examples_c

example: examples
	@if [ -e logs ]; then echo "make example: removing ./logs of an earlier run (each run starts from empty logs)"; fi
	rm -rf logs
	mkdir -p logs/postfix logs/imta
	TZ=UTC examples_c/mta_sim -t $(EXAMPLE_START) -c examples_c/mtalog.conf -l $(SO)
	ls -l logs logs/*

test: examples
	$(CARGO) test --features cli --all-targets
	$(CARGO) test -- --ignored
	examples_c/link_host
	tmp=$$(mktemp -d) && (cd $$tmp && $(CURDIR)/examples_c/minimal_host && \
	  grep -q '@D@dest.example@' mainlog.ec); rc=$$?; rm -rf $$tmp; exit $$rc
	tmp=$$(mktemp -d) && mkdir -p $$tmp/logs/postfix $$tmp/logs/imta && \
	  (cd $$tmp && $(CURDIR)/examples_c/mta_sim -n $(TEST_N) \
	     -c $(CURDIR)/examples_c/mtalog.conf -l $(CURDIR)/$(SO)); \
	  rc=$$?; rm -rf $$tmp; exit $$rc
	$(MAKE) install-check

# make install and make install-debug into scratch roots: every file docs/install.md lists
# is there, stripped, and works; the debug files match; uninstall removes them all again.
install-check:
	MAKE="$(MAKE)" VERSION=$(VERSION) SOMAJOR=$(SOMAJOR) scripts/install-check.sh

bench-report: examples
	scripts/bench-report.sh $(BENCH_LINES)

bench-build: release
	$(MAKE) -C bench all

bench: bench-build
	$(MAKE) -C bench run N=$(N) R=$(R)

install: release
	$(MAKE) -C examples_c mtalog_ctl
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    mtalog.pc.in > $(RELEASE)/mtalog.pc
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 0755 $(RELEASE)/mtalog $(DESTDIR)$(BINDIR)/mtalog
	$(INSTALL) -m 0755 examples_c/mtalog_ctl $(DESTDIR)$(BINDIR)/mtalog_ctl
	$(INSTALL) -m 0755 $(SO) $(DESTDIR)$(LIBDIR)/libmtalog.so.$(VERSION)
	ln -sf libmtalog.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmtalog.so.$(SOMAJOR)
	ln -sf libmtalog.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libmtalog.so
	$(INSTALL) -m 0644 $(STATIC) $(DESTDIR)$(LIBDIR)/libmtalog.a
	$(INSTALL) -m 0644 include/mtalog.h $(DESTDIR)$(INCLUDEDIR)/mtalog.h
	$(INSTALL) -m 0644 $(RELEASE)/mtalog.pc $(DESTDIR)$(PKGCONFIGDIR)/mtalog.pc
	$(STRIP) --strip-unneeded $(DESTDIR)$(BINDIR)/mtalog $(DESTDIR)$(BINDIR)/mtalog_ctl \
	    $(DESTDIR)$(LIBDIR)/libmtalog.so.$(VERSION)
	$(STRIP) --strip-debug $(DESTDIR)$(LIBDIR)/libmtalog.a

# The debug info that make install strips: one .debug file per binary and shared library,
# named by a .gnu_debuglink in the stripped file, and the static library with its debug
# info (link against DEBUGDIR$(LIBDIR)/libmtalog.a for a host with mtalog's debug info).
DEBUG_PAIRS = $(RELEASE)/mtalog:$(BINDIR)/mtalog examples_c/mtalog_ctl:$(BINDIR)/mtalog_ctl \
              $(SO):$(LIBDIR)/libmtalog.so.$(VERSION)
install-debug: install
	$(INSTALL) -d $(DESTDIR)$(DEBUGDIR)$(BINDIR) $(DESTDIR)$(DEBUGDIR)$(LIBDIR)
	for pair in $(DEBUG_PAIRS); do \
	  from=$${pair%%:*}; to=$${pair#*:}; \
	  $(OBJCOPY) --only-keep-debug $$from $(DESTDIR)$(DEBUGDIR)$$to.debug && \
	  chmod 0644 $(DESTDIR)$(DEBUGDIR)$$to.debug && \
	  $(OBJCOPY) --add-gnu-debuglink=$(DESTDIR)$(DEBUGDIR)$$to.debug $(DESTDIR)$$to || exit 1; \
	done
	$(INSTALL) -m 0644 $(STATIC) $(DESTDIR)$(DEBUGDIR)$(LIBDIR)/libmtalog.a

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mtalog $(DESTDIR)$(BINDIR)/mtalog_ctl $(DESTDIR)$(LIBDIR)/libmtalog.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmtalog.so.$(SOMAJOR) \
	      $(DESTDIR)$(LIBDIR)/libmtalog.so $(DESTDIR)$(LIBDIR)/libmtalog.a \
	      $(DESTDIR)$(INCLUDEDIR)/mtalog.h $(DESTDIR)$(PKGCONFIGDIR)/mtalog.pc \
	      $(DESTDIR)$(DEBUGDIR)$(BINDIR)/mtalog.debug $(DESTDIR)$(DEBUGDIR)$(BINDIR)/mtalog_ctl.debug \
	      $(DESTDIR)$(DEBUGDIR)$(LIBDIR)/libmtalog.so.$(VERSION).debug \
	      $(DESTDIR)$(DEBUGDIR)$(LIBDIR)/libmtalog.a

clean:
	$(CARGO) clean
	$(MAKE) -C examples_c clean
	$(MAKE) -C bench clean
	rm -rf logs

.PHONY: all release examples example test bench bench-build bench-report install install-debug \
        install-check uninstall clean
