# Makefile for stsdane.
#
# This hand-written Makefile is authoritative.  ./configure (optional)
# only writes config.mak.autogen; a config.mak of your own overrides both.
#
# Targets:
#   all        library, MTA module, fetch module, sts-dane-query   (default)
#   demo       install missing packages, start the local world, show decisions
#   check      install missing packages; unit tests, integration tests,
#              unit tests again under AddressSanitizer + UBSan
#   unit       Criterion unit tests only
#   integration  integration tests only (needs root for the local world)
#   postfix-e2e  stsdane-policyd with Debian's Postfix (needs root)
#   bench      benchmarks (see docs/performance.md)
#   fuzz       every libFuzzer target for FUZZ_SECONDS (60) each (tests/fuzz)
#   bench-scale  the cost as the cache grows to 10^6 domains, and --refresh
#              of 10^5 (needs root; about 30 minutes on 2 loaded CPUs)
#   install    install under $(DESTDIR)$(PREFIX)
#   clean      remove build/
#   deps       install missing Debian packages (as root)
#
# Variables:
#   PREFIX=/usr/local  DESTDIR=  V=1 (full command lines)
#   DEVELOPER=1 (-Werror)  SANITIZE=address,undefined  BUILD=build

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
PKGLIBDIR ?= $(LIBDIR)/stsdane
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DOCDIR ?= $(PREFIX)/share/doc/stsdane
UNITDIR ?= $(PREFIX)/lib/systemd/system

CC ?= cc
PKG_CONFIG ?= pkg-config
BUILD ?= build

-include config.mak.autogen
-include config.mak

SOVERSION = 0
VERSION = 0.1.0

ifeq ($(V),1)
Q =
QUIET_CC =
QUIET_LD =
else
Q = @
QUIET_CC = @echo '   ' CC $@;
QUIET_LD = @echo '   ' LD $@;
endif

WARN = -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif

OPT ?= -O2 -g
# The library's layers, one folder each (docs/ARCHITECTURE.md).
SRC_DIRS = util parse net tls cache decide report audit api
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden \
	-Iinclude -Isrc $(addprefix -Isrc/,$(SRC_DIRS)) $(WARN) $(OPT)
ifneq ($(SANITIZE),)
BASE_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
SAN_LDFLAGS = -fsanitize=$(SANITIZE)
ZDEFS =
else
ZDEFS = -Wl,-z,defs
endif
BASE_CFLAGS += -DSTSDANE_PKGLIBDIR='"$(PKGLIBDIR)"' \
	-DSTSDANE_SYSCONFDIR='"$(SYSCONFDIR)"'

# hiredis is dlopen()ed by src/cache/cache_redis.c: only its headers here.
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags gnutls gnutls-dane libunbound libidn2 2>/dev/null)
DEP_LIBS := $(shell $(PKG_CONFIG) --libs gnutls gnutls-dane libunbound libidn2 2>/dev/null) -ldb-5.3 -ldl -lpthread \
	$(shell $(PKG_CONFIG) --libs zlib 2>/dev/null)
JANSSON_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
# The fetch module reads the TLS session of an audit fetch.
GNUTLS_LIBS := $(shell $(PKG_CONFIG) --libs gnutls 2>/dev/null)
CRITERION_LIBS := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)

ALL_CFLAGS = $(BASE_CFLAGS) $(DEP_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_LDFLAGS) $(LDFLAGS)

# Library sources: every src/LAYER/*.c but the ones that live elsewhere.
# stsdane-fetch.so, loaded on first use: HTTPS (libcurl) and the TLS-RPT
# report's JSON (libjansson), neither of which a delivery maps.
FETCH_SRC = src/net/fetch_curl.c src/report/report_json.c
LIB_SRC = $(filter-out $(FETCH_SRC),$(foreach d,$(SRC_DIRS),$(wildcard src/$(d)/*.c)))
LIB_OBJ = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
LIB_HDR = $(wildcard src/*.h src/*/*.h include/*.h)
FETCH_OBJ = $(FETCH_SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/util/util.o
CLI_SRC = $(wildcard tools/sts-dane-query/*.c)
CLI_OBJ = $(CLI_SRC:tools/%.c=$(BUILD)/obj/tools/%.o)
EXIM_SRC = $(wildcard exim/*.c)
EXIM_OBJ = $(EXIM_SRC:exim/%.c=$(BUILD)/obj/exim/%.o)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_OBJ = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/obj/unit/%.o)
TESTBIN_SRC = $(wildcard tests/bin/*.c)
TESTBIN = $(TESTBIN_SRC:tests/bin/%.c=$(BUILD)/tests/%)

LIBRARY = $(BUILD)/libstsdane.so.$(SOVERSION)
MODULE = $(BUILD)/stsdane.so
FETCH_MODULE = $(BUILD)/stsdane-fetch.so
EXIM_MODULE = $(BUILD)/stsdane-exim.so
CLI = $(BUILD)/sts-dane-query
UNIT = $(BUILD)/unit-tests

PROGRAMS = $(LIBRARY) $(MODULE) $(FETCH_MODULE) $(CLI)
ifneq ($(EXIM_SRC),)
PROGRAMS += $(EXIM_MODULE)
endif

# stsdane-policyd, the Postfix socketmap server (postfix/, docs/postfix.md):
# the library's objects linked in, as the Exim module has them.
POLICYD_SRC = $(wildcard postfix/*.c)
POLICYD_OBJ = $(POLICYD_SRC:postfix/%.c=$(BUILD)/obj/postfix/%.o)
POLICYD = $(BUILD)/stsdane-policyd
SYSTEMD_LIBS := $(shell $(PKG_CONFIG) --libs libsystemd 2>/dev/null)
PROGRAMS += $(POLICYD)
# The pure parts of it, for the unit tests.
UNIT_OBJ += $(BUILD)/obj/postfix/netstring.o $(BUILD)/obj/postfix/answer.o \
	$(BUILD)/obj/postfix/pconf.o

.PHONY: all demo check unit unit-asan integration e2e postfix-e2e bench bench-scale install \
	uninstall clean deps world-start world-stop testbins fuzz \
	fuzz-build fuzz-replay
.DELETE_ON_ERROR:

all: $(PROGRAMS) testbins

testbins: $(TESTBIN)

$(BUILD)/obj/%.o: src/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/net/fetch_curl.o: src/net/fetch_curl.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) $(CURL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tools/%.o: tools/%.c $(wildcard tools/*/*.h include/*.h)
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/exim/%.o: exim/%.c $(wildcard exim/*.h include/*.h)
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -I/usr/include/exim4 -c -o $@ $<

$(BUILD)/obj/postfix/%.o: postfix/%.c $(wildcard postfix/*.h) include/stsdane.h
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(POLICYD): $(POLICYD_OBJ) $(LIB_OBJ)
	$(QUIET_LD)$(CC) $(ALL_LDFLAGS) -o $@ $(POLICYD_OBJ) $(LIB_OBJ) \
		$(DEP_LIBS) $(SYSTEMD_LIBS)

$(BUILD)/obj/unit/%.o: tests/unit/%.c $(LIB_HDR) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -Ipostfix -c -o $@ $<

$(LIBRARY): $(LIB_OBJ) src/api/libstsdane.map
	$(QUIET_LD)$(CC) -shared -Wl,-soname,libstsdane.so.$(SOVERSION) \
		-Wl,--version-script=src/api/libstsdane.map $(ZDEFS) \
		$(ALL_LDFLAGS) -o $@ $(LIB_OBJ) $(DEP_LIBS)
	$(Q)ln -sf libstsdane.so.$(SOVERSION) $(BUILD)/libstsdane.so

# The module an MTA loads: the same objects, one exported entry point.
$(MODULE): $(LIB_OBJ) src/api/module.map
	$(QUIET_LD)$(CC) -shared -Wl,--version-script=src/api/module.map \
		$(ZDEFS) $(ALL_LDFLAGS) -o $@ $(LIB_OBJ) $(DEP_LIBS)

$(FETCH_MODULE): $(FETCH_OBJ) src/net/fetch.map
	$(QUIET_LD)$(CC) -shared -Wl,--version-script=src/net/fetch.map \
		$(ZDEFS) $(ALL_LDFLAGS) -o $@ $(FETCH_OBJ) $(CURL_LIBS) $(GNUTLS_LIBS) \
		$(JANSSON_LIBS)

$(EXIM_MODULE): $(EXIM_OBJ) $(LIB_OBJ) exim/exim.map
	$(QUIET_LD)$(CC) -shared -Wl,--version-script=exim/exim.map \
		$(ALL_LDFLAGS) -o $@ $(EXIM_OBJ) $(LIB_OBJ) $(DEP_LIBS)

# The CLI reaches the library only through the module it loads.
$(CLI): $(CLI_OBJ)
	$(QUIET_LD)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) -ldl

$(UNIT): $(UNIT_OBJ) $(LIB_OBJ) $(BUILD)/obj/report/report_json.o
	$(QUIET_LD)$(CC) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJ) $(LIB_OBJ) \
		$(BUILD)/obj/report/report_json.o $(DEP_LIBS) $(JANSSON_LIBS) \
		$(CRITERION_LIBS)

$(BUILD)/tests/%: tests/bin/%.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(QUIET_LD)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_OBJ) \
		$(DEP_LIBS)
	$(Q)ln -sf ../stsdane-fetch.so $(@D)/stsdane-fetch.so

# The growth-curve program links the cache layer itself (it fills the
# cache directly, not through the network): make bench-scale.
BENCH_SCALE = $(BUILD)/tests/bench-scale
$(BENCH_SCALE): tests/bench/bench_scale.c $(LIB_OBJ) $(LIB_HDR)
	@mkdir -p $(@D)
	$(QUIET_LD)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_OBJ) \
		$(DEP_LIBS)

deps:
	@sh tools/deps.sh

unit: $(UNIT)
	$(UNIT) --jobs=2

unit-asan:
	$(MAKE) BUILD=build/asan SANITIZE=address,undefined OPT='-O1 -g' unit

integration: all
	BUILD=$(BUILD) sh tests/integration/run.sh
	BUILD=$(BUILD) sh tests/integration/cache_corrupt.sh
	BUILD=$(BUILD) sh tests/integration/cache_stress.sh
	BUILD=$(BUILD) sh tests/integration/anywhere.sh
	BUILD=$(BUILD) sh tests/integration/hostile.sh
	BUILD=$(BUILD) sh tests/integration/audit.sh
	BUILD=$(BUILD) sh tests/integration/redis.sh

e2e: all
	BUILD=$(BUILD) sh tests/e2e/run.sh
	BUILD=$(BUILD) sh tests/e2e/tlsrpt.sh

# stsdane-policyd with a real Postfix, and its protocol (tests/postfix).
postfix-e2e: all
	BUILD=$(BUILD) sh tests/postfix/run.sh

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) integration
	@if [ -f tests/e2e/run.sh ]; then $(MAKE) e2e; fi
	$(MAKE) postfix-e2e
	$(MAKE) unit-asan
	$(MAKE) fuzz-replay

# libFuzzer targets (tests/fuzz/README.md): the library's objects built
# again with clang and the fuzzer's coverage hooks, one binary per target.
# fuzz-replay (part of check) runs the committed corpora and a few seconds
# of fuzzing per target; fuzz runs each target for FUZZ_SECONDS.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD = $(BUILD)/fuzz
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = $(filter-out -fvisibility=hidden $(OPT),$(BASE_CFLAGS)) \
	$(DEP_CFLAGS) -O1 -g $(FUZZ_SAN) -Itests/fuzz -Wno-format-nonliteral
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN = $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_OBJ = $(LIB_SRC:src/%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/seed.o \
	$(FUZZ_BUILD)/obj/postfix/netstring.o

$(FUZZ_BUILD)/obj/%.o: src/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(QUIET_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_BUILD)/obj/postfix/%.o: postfix/%.c $(wildcard postfix/*.h)
	@mkdir -p $(@D)
	$(QUIET_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_BUILD)/obj/seed.o: tests/fuzz/seed.c $(wildcard tests/fuzz/*.h) $(LIB_HDR)
	@mkdir -p $(@D)
	$(QUIET_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ) $(wildcard tests/fuzz/*.h)
	$(QUIET_LD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_OBJ) $(DEP_LIBS)

.SECONDARY: $(FUZZ_OBJ)
fuzz-build: $(FUZZ_BIN)
fuzz-replay: fuzz-build
	BUILD=$(BUILD) sh tests/fuzz/run.sh replay 3
fuzz: deps fuzz-build
	BUILD=$(BUILD) sh tests/fuzz/run.sh run $(FUZZ_SECONDS)

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) sh tests/world/demo.sh

bench: deps
	$(MAKE) all
	BUILD=$(BUILD) sh tests/bench/run.sh

# The cache as it grows: 10^3 to 10^6 domains (docs/performance.md).
bench-scale: all $(BENCH_SCALE)
	BUILD=$(BUILD) sh tests/bench/scale.sh
	BUILD=$(BUILD) sh tests/bench/refresh.sh

world-start: all
	BUILD=$(BUILD) sh tests/world/world.sh start

world-stop:
	BUILD=$(BUILD) sh tests/world/world.sh stop

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)
	install -m 755 $(LIBRARY) $(DESTDIR)$(LIBDIR)/
	ln -sf libstsdane.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libstsdane.so
	install -m 755 $(MODULE) $(FETCH_MODULE) $(DESTDIR)$(PKGLIBDIR)/
	if [ -f $(EXIM_MODULE) ]; then \
		install -m 755 $(EXIM_MODULE) $(DESTDIR)$(PKGLIBDIR)/; fi
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/
	install -m 644 include/stsdane.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 docs/sts-dane-query.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 docs/stsdane.conf.example README.md docs/exim.md \
		docs/audit-cron.sh \
		docs/cache.md docs/tlsrpt.md exim/exim.conf.example \
		$(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(DOCDIR)/exim-conf.d
	cp -R exim/conf.d/. $(DESTDIR)$(DOCDIR)/exim-conf.d/
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(POLICYD) $(DESTDIR)$(SBINDIR)/
	install -m 644 postfix/stsdane-policyd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 docs/postfix.md postfix/stsdane-policyd.conf.example \
		$(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(UNITDIR)
	for f in docs/systemd/* postfix/*.service postfix/*.socket; do \
		sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
		    -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' "$$f" \
		    > $(DESTDIR)$(UNITDIR)/$${f##*/} || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libstsdane.so.$(SOVERSION) \
		$(DESTDIR)$(LIBDIR)/libstsdane.so \
		$(DESTDIR)$(BINDIR)/sts-dane-query \
		$(DESTDIR)$(INCLUDEDIR)/stsdane.h \
		$(DESTDIR)$(MANDIR)/man1/sts-dane-query.1 \
		$(DESTDIR)$(SBINDIR)/stsdane-policyd \
		$(DESTDIR)$(MANDIR)/man8/stsdane-policyd.8
	rm -rf $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build
