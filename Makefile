# alertsink: the two commands are `make run` and `make test`.
#
#   make deps    install the Debian packages the build needs (root or sudo)
#   make         build (Release) into build/
#   make run     deps + build + run the daemon on rules/quickstart.yaml
#   make test    deps + build + every test, in the Release build (with
#                valgrind) and again in the Sanitize build (ASan + UBSan)
#   make san     the Sanitize build only, into build-san/
#   make format  clang-format every C file

BUILD     ?= build
SANBUILD  ?= build-san
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

BUILD_DEPS := cmake make gcc pkg-config libcurl4-openssl-dev libcjson-dev libyaml-dev \
              libesmtp-dev libmicrohttpd-dev libpcre2-dev libcmocka-dev libsystemd-dev \
              tzdata ca-certificates
TEST_DEPS  := valgrind curl openssl python3 python3-aiosmtpd prometheus-alertmanager \
              prometheus
BENCH_DEPS := nginx-light wrk apprise

.PHONY: all deps test-deps bench-deps build san run test test-release test-san format clean

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

san:
	@cmake -S . -B $(SANBUILD) -DCMAKE_BUILD_TYPE=Sanitize >/dev/null
	@cmake --build $(SANBUILD) -j $(JOBS)

run: deps build
	@mkdir -p var
	./$(BUILD)/alertsink -c rules/quickstart.yaml

test: test-deps
	$(MAKE) test-release
	$(MAKE) test-san

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-san: san
	cd $(SANBUILD) && ctest --output-on-failure -j $(JOBS)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(SANBUILD)
