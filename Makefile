# alertsink: the two commands are `make run` and `make test`.
#
#   make deps    install the Debian packages the build needs (root or sudo)
#   make         build (Release) into build/
#   make run     deps + build + run the daemon on rules/quickstart.yaml
#   make test    deps + build + every test, in the Release build (with
#                valgrind) and again in the Sanitize build (ASan + UBSan)
#   make san     the Sanitize build only, into build-san/
#   make install the Release build installed under PREFIX (default /usr, the
#                paths the systemd unit and the default configuration name:
#                /usr/sbin/alertsink, /etc/alertsink/); DESTDIR stages it
#   make format  clang-format every C file
#   make fuzz    build the fuzz harnesses with clang's libFuzzer into build-fuzz/
#                and run each for FUZZ_SECONDS (default 60), one at a time;
#                FUZZ=NAME runs only that one (tests/fuzz/fuzz_NAME.c)
#   make fuzz-merge  fold what `make fuzz` found into tests/fuzz/corpus/
#   make deb     the Debian package alertsink_VERSION_ARCH.deb, in the folder
#                above this one (as dpkg-buildpackage puts it); installs its
#                build dependencies; DEB_BUILD_OPTIONS=nocheck skips the tests

BUILD     ?= build
SANBUILD  ?= build-san
FUZZBUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ      ?=
PREFIX    ?= /usr
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BUILD_DEPS := cmake make gcc pkg-config libcurl4-openssl-dev libcjson-dev libyaml-dev \
              libesmtp-dev libmicrohttpd-dev libpcre2-dev libcmocka-dev \
              libssl-dev scdoc tzdata ca-certificates
TEST_DEPS  := valgrind curl openssl python3 python3-aiosmtpd prometheus-alertmanager \
              prometheus debhelper dpkg-dev lintian man-db python3-yaml logrotate gdb
BENCH_DEPS := nginx-light wrk apprise hyperfine
FUZZ_DEPS  := clang libclang-rt-14-dev llvm

.PHONY: all deps test-deps bench-deps build san run test test-release test-san format clean deb \
        fuzz fuzz-merge install

all: build

# Installs only what is missing, so it is fast when everything is there.
define install_pkgs
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	    grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_pkgs,$(BUILD_DEPS))

test-deps: deps
	$(call install_pkgs,$(TEST_DEPS))

bench-deps: test-deps
	$(call install_pkgs,$(BENCH_DEPS))

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@ln -sf $(BUILD)/compile_commands.json compile_commands.json

install:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cmake --install $(BUILD)

san:
	@cmake -S . -B $(SANBUILD) -DCMAKE_BUILD_TYPE=Sanitize >/dev/null
	@cmake --build $(SANBUILD) -j $(JOBS)

# Only the binary is built (not the tests), quietly: the build's output is
# shown only when it fails, so the daemon's own lines are what one sees.
# The daemon exits 0 on Ctrl-C; its status is make's.
RUN_CONFIG ?= rules/quickstart.yaml
run: deps
	@echo "building alertsink (Release, into $(BUILD)/) ..."
	@log=$$(mktemp); \
	if ! { cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release && \
	       cmake --build $(BUILD) -j $(JOBS) --target alertsink; } >"$$log" 2>&1; then \
	    cat "$$log"; rm -f "$$log"; echo "the build failed (output above)"; exit 1; \
	fi; rm -f "$$log"
	@mkdir -p var
	@echo "starting alertsink -c $(RUN_CONFIG): http://127.0.0.1:9095, outbox var/outbox.jsonl; Ctrl-C stops it"
	@trap : INT; "$(abspath $(BUILD))/alertsink" -c $(RUN_CONFIG)

test: test-deps
	$(MAKE) test-release
	$(MAKE) test-san

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-san: san
	cd $(SANBUILD) && ctest --output-on-failure -j $(JOBS)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

# libFuzzer comes with clang; tests/fuzz/run.sh runs the harnesses in turn,
# under nice, and names the folder of what crashed at the end.
fuzz: deps
	$(call install_pkgs,$(FUZZ_DEPS))
	@CC=clang cmake -S . -B $(FUZZBUILD) -DCMAKE_BUILD_TYPE=Fuzz >/dev/null
	@cmake --build $(FUZZBUILD) -j $(JOBS) --target fuzzers
	tests/fuzz/run.sh fuzz $(FUZZBUILD) $(FUZZ_SECONDS) $(FUZZ)

fuzz-merge:
	tests/fuzz/run.sh merge $(FUZZBUILD) $(FUZZ)

clean:
	rm -rf $(BUILD) $(SANBUILD) $(FUZZBUILD) $(DEB_STAGE)

# The package is built from a copy of the source (git's files, or the tree
# without build folders) with packaging/debian as its debian/, so that
# nothing in this tree is touched; what is missing of debian/control's
# Build-Depends is installed with apt-get build-dep.
DEB_DEPS  := debhelper dpkg-dev
DEB_STAGE ?= $(CURDIR)/debian-build
DEB_OUT   ?= $(abspath $(CURDIR)/..)

deb: deps
	$(call install_pkgs,$(DEB_DEPS))
	@set -e; \
	version=$$(dpkg-parsechangelog -l packaging/debian/changelog -SVersion); \
	src="$(DEB_STAGE)/alertsink-$$version"; \
	rm -rf "$(DEB_STAGE)"; mkdir -p "$$src"; \
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -z --cached --others --exclude-standard | \
	        tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$$src"; \
	else \
	    tar --exclude='./build*' --exclude='./debian-build' --exclude=./var -cf - . | \
	        tar -xf - -C "$$src"; \
	fi; \
	rm -rf "$$src/debian"; cp -r packaging/debian "$$src/debian"; \
	if ! (cd "$$src" && dpkg-checkbuilddeps) 2>/dev/null; then \
	    $(SUDO) apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get build-dep -y -qq --no-install-recommends "$$src"; \
	fi; \
	(cd "$$src" && dpkg-buildpackage -b -us -uc); \
	mkdir -p "$(DEB_OUT)"; \
	mv -f "$(DEB_STAGE)"/*.deb "$(DEB_STAGE)"/*.buildinfo "$(DEB_STAGE)"/*.changes "$(DEB_OUT)"/; \
	rm -rf "$(DEB_STAGE)"; \
	echo "built $(DEB_OUT)/alertsink_$${version}_$$(dpkg --print-architecture).deb"
