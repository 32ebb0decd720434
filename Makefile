# The front door. Each target installs what is missing, configures, builds and runs.
#   make demo    simulators + gateway + dashboard on loopback, SQLite file in ./demo-data
#   make test    every test (unit, simulator, end to end)
#   make bench   the benchmarks under bench/, figures printed
#   make interop public vendor clients (from the npm registry) against our simulators
#   make deb     the Debian package (systemd service, example config, docs)
BUILD_DIR ?= build
BUILD_TYPE ?= Release
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test demo bench interop deb format clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	@$(MAKE) --no-print-directory deps
	cmake -S . -B $(BUILD_DIR) -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: deps $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 300

demo: build
	mkdir -p demo-data
	$(BUILD_DIR)/sunbridge demo --db demo-data/sunbridge.db

bench: build
	@for b in $(BUILD_DIR)/bench/*_bench; do echo "== $$b"; $$b --benchmark_min_time=0.5 || exit 1; done

# The Debian package of this build: build/sunbridge_<version>_<arch>.deb (docs/install.md).
deb: build
	cd $(BUILD_DIR) && cpack -G DEB
	@ls $(BUILD_DIR)/sunbridge_*.deb

interop: build
	scripts/interop/kostal-iobroker.sh $(BUILD_DIR)/sunbridge
	scripts/interop/foxess-iobroker.sh $(BUILD_DIR)/sunbridge
	scripts/interop/solarlog-enerest.sh $(BUILD_DIR)/sunbridge

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
