# The two commands of the README: `make run` and `make test`. Both install what is missing.
# Debian 12 packages come from apt-get, front-end packages from npm (package-lock.json).

BUILD      ?= build
DATA       ?= var/demo
PORT       ?= 8080
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

# Build and test dependencies (Debian package names).
APT_PKGS := build-essential cmake pkg-config ca-certificates curl sqlite3 \
            libmicrohttpd-dev libsqlite3-dev libsodium-dev libjansson-dev libcurl4-openssl-dev \
            libarchive-dev libexpat1-dev libuchardet-dev libpoppler-glib-dev libcairo2-dev \
            libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev \
            libopencc-dev unicode-data libbz2-dev \
            fonts-noto-cjk fortunes-zh espeak-ng
# Browser tests: Debian's Chromium (never a downloaded browser) and CJK fonts for the pages.
# epubcheck checks the EPUBs we write; zip builds hostile archives in tests.
TEST_APT_PKGS := chromium epubcheck zip ffmpeg
# The peers of the benchmarks: nginx (HTTP), and the ffmpeg CLI for the transcode benchmark.
BENCH_APT_PKGS := nginx-light wrk ffmpeg

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps test-deps build web run test bench clean

all: build

# Install the Debian packages that are missing; `apt-get update` only when something is.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then missing="$$missing nodejs npm"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

# npm ci in a folder, only when its lock file changed since the last install.
define npm_ci
	@if [ -f $(1)/package-lock.json ] && { [ ! -f $(1)/node_modules/.package-lock.json ] || \
	    [ $(1)/package-lock.json -nt $(1)/node_modules/.package-lock.json ]; }; then \
	  echo "npm ci in $(1)"; (cd $(1) && npm ci --no-audit --no-fund --loglevel=error); \
	fi
endef

deps:
	$(call apt_install,$(APT_PKGS))
	$(call npm_ci,player-web)

test-deps: deps
	$(call apt_install,$(TEST_APT_PKGS))
	$(call npm_ci,tests/browser)


web: deps
	@if [ -f player-web/package.json ]; then cd player-web && npm run --silent build; fi

build: deps web
	cmake -S . -B $(BUILD) -DSHUXIANG_WERROR=OFF >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

run: build
	@if [ ! -f $(DATA)/demo-logins.txt ]; then ./$(BUILD)/shuxiang demo --data $(DATA); \
	 else echo "demo library in $(DATA):"; cat $(DATA)/demo-logins.txt; fi
	@echo ""
	@echo "  读者页面 reader pages:  http://127.0.0.1:$(PORT)/"
	@echo "  馆员后台 staff console: http://127.0.0.1:$(PORT)/staff/"
	@echo ""
	./$(BUILD)/shuxiang serve --data $(DATA) --port $(PORT)

test: test-deps web
	cmake -S . -B $(BUILD) -DSHUXIANG_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

bench: deps
	$(call apt_install,$(BENCH_APT_PKGS))
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build-bench -j$(JOBS)
	SHUXIANG_BIN=build-bench/shuxiang SHUXIANG_WEB_DIR=player-web/dist bash bench/http.sh
	SHUXIANG_BIN=build-bench/shuxiang bash bench/ingest.sh
	SHUXIANG_BIN=build-bench/shuxiang bash bench/transcode.sh
	SHUXIANG_BIN=build-bench/shuxiang bash bench/search.sh

clean:
	rm -rf $(BUILD) build-bench player-web/dist
