# The front door. Each target installs what is missing, configures, builds and runs.
#   make demo    simulators + gateway + dashboard on loopback, SQLite file in ./demo-data
#   make fleet-demo   a PostgreSQL in a temporary folder, homes across the five vendors, three
#                workers sharing them (FLEET_SITES homes, 250 by default)
#   make test    every test (unit, simulator, end to end)
#   make bench   the benchmarks under bench/, figures printed
#   make interop public vendor clients (from the npm registry) against our simulators
#   make deb     the Debian package (systemd service, example config, docs)
#   make fuzz    every fuzz target under libFuzzer + ASan + UBSan for FUZZ_S seconds each
#   make test-asan / make test-tsan   the tests under AddressSanitizer + UBSan / ThreadSanitizer
#   make crash   the crash harness's long run (CRASH_KILLS kills, 120 by default)
#   make soak    the soak harness's slow day: a simulated day at SOAK_SPEED (60: 24 minutes)
#   make fleet-test   the fleet harness with FLEET_TEST_SITES homes (1,000 by default)
#   make load    the load harness: one gateway polling LOAD_DEVICES simulated batteries each
#                LOAD_INTERVAL s, measured over LOAD_WINDOW s (gateway cores, RSS, polls due,
#                done and late, samples stored a second)
BUILD_DIR ?= build
BUILD_TYPE ?= Release
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
JOBS ?= $(shell nproc)

FUZZ_S ?= 10
CRASH_KILLS ?= 120
# Instrumented builds: optimised a little (sanitizers are slow at -O0), line tables for reports.
SAN_FLAGS := -G "$(GENERATOR)" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DSUNBRIDGE_BENCH=OFF

.PHONY: all deps configure build test demo fleet-demo fleet-test load bench interop deb format clean fuzz test-asan test-tsan crash soak

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

FLEET_SITES ?= 250
fleet-demo: build
	scripts/fleet-demo.sh $(BUILD_DIR)/sunbridge --sites $(FLEET_SITES)

LOAD_DEVICES ?= 1000,10000,50000,100000
LOAD_WINDOW ?= 60
LOAD_INTERVAL ?= 10
load: build
	$(BUILD_DIR)/bench/load --devices $(LOAD_DEVICES) --window $(LOAD_WINDOW) --interval $(LOAD_INTERVAL)

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

# Three fleet workers on a PostgreSQL of their own, one killed mid-command
# (tests/fleet/fleet_harness_test.cpp); `make test` runs it with 100 homes.
FLEET_TEST_SITES ?= 1000
fleet-test: build
	SB_FLEET_SITES=$(FLEET_TEST_SITES) $(BUILD_DIR)/tests/sb_fleet_test

# The gateway killed CRASH_KILLS times at random moments and restarted on its database
# (tests/crash/crash_test.cpp); `make test` runs 12.
crash: build
	SB_CRASH_KILLS=$(CRASH_KILLS) $(BUILD_DIR)/tests/sb_crash_test

# A simulated day of the five simulators under a fault plan, the gateway on the same time and
# restarted three times (tests/soak/soak_test.cpp); `make test` runs the day at 720x.
SOAK_SPEED ?= 60
SOAK_LOCAL_POLL ?= 10
soak: build
	SB_SOAK_SPEED=$(SOAK_SPEED) SB_SOAK_LOCAL_POLL=$(SOAK_LOCAL_POLL) $(BUILD_DIR)/tests/sb_soak_test

# libFuzzer needs clang (Debian's clang-19 and libfuzzer-19-dev); corpora in fuzz/corpus, new
# inputs and findings under build-fuzz/ (fuzz/README.md).
fuzz: deps
	cmake -S . -B build-fuzz $(SAN_FLAGS) -DCMAKE_CXX_COMPILER=clang++-19 -DSUNBRIDGE_FUZZ=ON \
		-DSB_SANITIZE=address,undefined -DSUNBRIDGE_TESTS=OFF
	cmake --build build-fuzz -j $(JOBS) --target fuzz_all
	scripts/fuzz.sh build-fuzz $(FUZZ_S)

# The unit, simulator and fuzz-corpus tests under AddressSanitizer and UBSan (gcc).
test-asan: deps
	cmake -S . -B build-asan $(SAN_FLAGS) -DSB_SANITIZE=address,undefined
	cmake --build build-asan -j $(JOBS) --target sb_sanitizer_tests
	cd build-asan && ctest --output-on-failure -j $(JOBS) --timeout 900 -L 'unit|simulator|fuzz'

# The multi-threaded gateway and engine tests under ThreadSanitizer.
test-tsan: deps
	cmake -S . -B build-tsan $(SAN_FLAGS) -DSB_SANITIZE=thread
	cmake --build build-tsan -j $(JOBS) --target sb_sanitizer_tests
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
		ctest --output-on-failure -j $(JOBS) --timeout 900 -L 'unit|simulator'

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
