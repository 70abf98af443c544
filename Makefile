# SPDX-License-Identifier: GPL-2.0
#
# One entry point: prepare the kernel tree, build, test, check.
# See README.md. Everything generated goes to build/ (gitignored).

BUILD        := $(CURDIR)/build
TREE         := $(BUILD)/linux
STOCK_TREE   := $(BUILD)/linux-stock
NEG_TREE     := $(BUILD)/linux-negative
CROSS        := aarch64-linux-gnu-
PPC_CROSS    := powerpc-linux-gnu-
E2E_CONFIG   := $(CURDIR)/configs/e2e-arm64.config
# The test kernel: e2e + iommufd selftest options + KUnit built in (off).
TEST_CONFIG  := $(BUILD)/test-arm64.config
TEST_FRAGS   := $(E2E_CONFIG) $(CURDIR)/configs/iommufd-test.config \
		$(CURDIR)/configs/kunit-builtin.config
# make bench: ours and stock from this one; BENCH_EXTRA adds fragments.
BENCH_EXTRA  ?=
BENCH_CONFIG := $(BUILD)/bench-arm64.config
BENCH_FRAGS  := $(E2E_CONFIG) $(CURDIR)/configs/iommufd-test.config \
		$(CURDIR)/configs/bench.config $(BENCH_EXTRA)
LS_CONFIG    := $(CURDIR)/configs/layerscape-arm64.config
PPC_CONFIG   := $(CURDIR)/configs/ppce500.config
DEBUG_CONFIG := $(CURDIR)/configs/debug.config
PAGES_SCENARIOS := its-type1 its-iommufd its-iommufd-replace its-dmaapi \
		   its-iommufd-race
NEG_PATCH    := $(CURDIR)/tests/e2e/negative/break-doorbell-translation.patch
RACE_TREE    := $(BUILD)/linux-race
RACE_PATCH   := $(CURDIR)/tests/e2e/negative/no-group-lock.patch
KRACE_TREE   := $(BUILD)/linux-kunit-race
WINDOW_TREE  := $(BUILD)/linux-window
WINDOW_PATCH := $(CURDIR)/tests/e2e/negative/window-ignored.patch
LEAK_TREE    := $(BUILD)/linux-leak
LEAK_PATCH   := $(CURDIR)/tests/e2e/negative/leak-doorbell.patch
# make bench-floor: stock plus a bare count of each doorbell's MSIs. Its
# tree and objects sit as stock's do relative to each other, so ccache
# serves the stock kernel's objects.
FLOOR_TREE   := $(BUILD)/floor/linux-stock
FLOOR_OBJ    := $(BUILD)/floor/arm64-stock
FLOOR_PATCH  := $(CURDIR)/tests/bench/floor-count-users.patch
KUNITCONFIG  := $(CURDIR)/kunit/msi.kunitconfig
KUNIT_QEMU   := $(CURDIR)/kunit/qemu_arm64_smmuv3.py
GUEST        := $(BUILD)/guest
# kselftest_harness.h for tools/testing/selftests/iommu/msi, from the tree.
KSFT         := $(TREE)/tools/testing/selftests
UAPI         := $(BUILD)/uapi
PPC_UAPI     := $(BUILD)/uapi-ppc
SCENARIOS    ?=

KBUILD = $(CURDIR)/scripts/kbuild.sh
PPC_KBUILD = ARCH=powerpc CROSS_COMPILE=$(PPC_CROSS) $(KBUILD)
E2E    = $(CURDIR)/tests/e2e/run.sh

.PHONY: all deps tree export export-check kernel kernel-ppc kernel-layerscape \
	kernels kernel-stock kernel-negative kernel-debug kunit guest e2e \
	kunit-debug kernel-bench iommufd-selftests iommufd-selftests-stock \
	kernel-64k kernel-16k e2e-pages kernel-race-negative e2e-race-negative \
	kernel-window-negative e2e-window-negative \
	kunit-race-negative \
	series series-check series-shipped bench bench-init bench-floor bench-profile \
	kernel-floor kunit-bench \
	e2e-stock e2e-negative e2e-debug test-debug kernel-debug-negative \
	e2e-debug-negative check docs run test clean help

all: kernel

help:
	@echo "make run          demo: MSIs of a VFIO device through the SMMUv3"
	@echo "make test         deps + kunit + kernels + e2e + check + docs (CI)"
	@echo "make tree         prepare build/linux (base + patches/ + our files)"
	@echo "make export       regenerate patches/ from build/linux's commits"
	@echo "make export-check fail if build/linux holds unexported edits"
	@echo "make series       build/series/: git-am-able series with our files and a cover letter"
	@echo "make series-check apply it patch by patch: checkpatch, kernel-doc, arm64 + ppce500 builds"
	@echo "make series-shipped  the series applied to the base is the tree make test builds; checkpatch"
	@echo "make kernel       arm64 Image for the e2e platform"
	@echo "make kernel-ppc   powerpc vmlinux for QEMU ppce500 (FSL MPIC MSI)"
	@echo "make kernel-layerscape arm64 build with LS-SCFG MSI and GICv3 MBI"
	@echo "make kernels      all three (no warning allowed)"
	@echo "make kernel-stock the same config on the unmodified base"
	@echo "make bench        ours against stock under QEMU -icount, then kunit-bench"
	@echo "make bench-floor  stock + a bare count of each doorbell's MSIs, against stock"
	@echo "                  (both: BENCH_EXTRA=configs/bench-lse.config for LSE atomics)"
	@echo "make bench-profile instructions of one prepare and one release, ours, stock, floor"
	@echo "make e2e-pages    the ITS scenarios on 64K and 16K page kernels"
	@echo "make kunit        our KUnit suites on QEMU virt + SMMUv3"
	@echo "make e2e          the end-to-end matrix (SCENARIOS=... to pick)"
	@echo "make e2e-stock    the matrix on the unmodified base"
	@echo "make e2e-negative the matrix with doorbell translation broken (must go red)"
	@echo "make test-debug   KUnit + the matrix under KASAN, lockdep, kmemleak, failslab"
	@echo "make e2e-debug-negative  the debug matrix with a leak planted (kmemleak must see it)"
	@echo "make e2e-race-negative   its-iommufd-race without the group mutex (must go red)"
	@echo "make e2e-window-negative its-iommufd-window with the chosen window ignored (must go red)"
	@echo "make kunit-race-negative KUnit's lockless races, each with its bug planted (must go red)"
	@echo "make check        checkpatch, sparse, kernel-doc, coccicheck"
	@echo "make docs         Sphinx build of Documentation/iommu (our pages)"

deps:
	@scripts/deps.sh

tree:
	@scripts/tree.sh prepare

export:
	@scripts/tree.sh export

export-check:
	@scripts/tree.sh export-check

kernel: tree
	@echo "kernel: building $(BUILD)/arm64"
	@mkdir -p $(BUILD) && cat $(TEST_FRAGS) > $(TEST_CONFIG)
	@$(KBUILD) $(TREE) $(BUILD)/arm64 $(TEST_CONFIG) Image

kernel-ppc: tree
	@echo "kernel: building $(BUILD)/ppce500"
	@$(PPC_KBUILD) $(TREE) $(BUILD)/ppce500 $(PPC_CONFIG) vmlinux

kernel-layerscape: tree
	@echo "kernel: building $(BUILD)/arm64-layerscape"
	@$(KBUILD) $(TREE) $(BUILD)/arm64-layerscape $(LS_CONFIG) Image

# What make test builds; build-only Layerscape coverage is its own target.
kernels: kernel kernel-ppc

# The e2e kernel with the hardening tools of configs/debug.config.
kernel-debug: tree
	@cat $(E2E_CONFIG) $(DEBUG_CONFIG) > $(BUILD)/e2e-debug.config
	@echo "kernel: building $(BUILD)/arm64-debug (KASAN, lockdep, kmemleak, failslab)"
	@$(KBUILD) $(TREE) $(BUILD)/arm64-debug $(BUILD)/e2e-debug.config Image

# The e2e kernel with 64 KiB and with 16 KiB pages.
kernel-64k kernel-16k: kernel-%: tree
	@cat $(E2E_CONFIG) $(CURDIR)/configs/pages-$*.config > $(BUILD)/e2e-$*.config
	@echo "kernel: building $(BUILD)/arm64-$* ($* pages)"
	@$(KBUILD) $(TREE) $(BUILD)/arm64-$* $(BUILD)/e2e-$*.config Image

# The ITS scenarios on both: the MSI granule follows the page size.
e2e-pages: kernel-64k kernel-16k guest
	@$(E2E) --kernel $(BUILD)/arm64-64k $(PAGES_SCENARIOS)
	@$(E2E) --kernel $(BUILD)/arm64-16k $(PAGES_SCENARIOS)

kernel-stock: tree
	@scripts/tree.sh stock $(STOCK_TREE)
	@echo "kernel: building $(BUILD)/arm64-stock (unmodified base)"
	@mkdir -p $(BUILD) && cat $(BENCH_FRAGS) > $(BENCH_CONFIG)
	@$(KBUILD) $(STOCK_TREE) $(BUILD)/arm64-stock $(BENCH_CONFIG) Image

# Ours from the stock kernel's config, for make bench.
kernel-bench: tree
	@mkdir -p $(BUILD) && cat $(BENCH_FRAGS) > $(BENCH_CONFIG)
	@echo "kernel: building $(BUILD)/arm64-bench (the config of arm64-stock)"
	@$(KBUILD) $(TREE) $(BUILD)/arm64-bench $(BENCH_CONFIG) Image

# Side by side, ours against stock from the same config: see tests/bench/.
# The guest's /init for both bench targets.
bench-init: tree
	@$(MAKE) -s -C $(TREE) ARCH=arm64 O=$(BUILD)/uapi-obj \
		INSTALL_HDR_PATH=$(UAPI) headers_install
	@mkdir -p $(BUILD)/bench
	@$(CROSS)gcc -static -O2 -Wall -Wextra -Werror -Wno-format-truncation \
		-I$(UAPI)/include \
		-o $(BUILD)/bench/bench tests/bench/bench.c

bench: kernel-bench kernel-stock bench-init
	@tests/bench/run-bench.sh $(BUILD)/arm64-bench $(BUILD)/arm64-stock \
		$(BUILD)/bench/bench $(BUILD)/bench
	@$(MAKE) --no-print-directory kunit-bench

# What counting each doorbell's MSIs costs by itself: stock with that count
# and a release, nothing else (tests/bench/floor-count-users.patch).
kernel-floor: kernel-stock
	@scripts/tree.sh stock $(FLOOR_TREE) $(FLOOR_PATCH)
	@echo "kernel: building $(FLOOR_OBJ) (stock + a bare count of users)"
	@$(KBUILD) $(FLOOR_TREE) $(FLOOR_OBJ) $(BENCH_CONFIG) Image

bench-floor: kernel-floor bench-init
	@tests/bench/run-bench.sh $(FLOOR_OBJ) $(BUILD)/arm64-stock \
		$(BUILD)/bench/bench $(BUILD)/bench-floor

# Instructions of single calls of prepare and release, ours, stock's and the
# floor's, counted by single-stepping them under QEMU's gdbstub.
bench-profile: kernel-bench kernel-floor bench-init
	@scripts/deps.sh gdb-multiarch
	@tests/bench/run-profile.sh $(BUILD)/arm64-bench $(BUILD)/arm64-stock \
		$(FLOOR_OBJ) $(BUILD)/bench/bench $(BUILD)/bench-profile

# KUnit microbenchmarks of the MSI cookie core (ours only), without the
# debug options of the KUnit suite, so that they time the code itself;
# under -icount shift=0, a guest nanosecond is one instruction.
kunit-bench: tree
	@cd $(TREE) && ./tools/testing/kunit/kunit.py run --arch=arm64 \
		--cross_compile=$(CROSS) --qemu_config=$(KUNIT_QEMU) \
		--kunitconfig=$(CURDIR)/kunit/bench.kunitconfig \
		--build_dir=$(BUILD)/kunit-bench \
		--qemu_args="-icount shift=0,sleep=off" \
		--make_options="CC=ccache $(CROSS)gcc" --jobs=$$(nproc) \
		--timeout=600 iommu_msi_cookie_bench > $(BUILD)/kunit-bench.log 2>&1; \
		rc=$$?; grep -E "FAILED|Testing complete" $(BUILD)/kunit-bench.log; \
		grep -a -o "bench: .*" $(BUILD)/kunit-bench/test.log; exit $$rc
	@scripts/kunit-log-judge.sh $(BUILD)/kunit-bench/test.log

# Upstream's iommufd selftests with our SW_MSI mock, on the test kernel.
iommufd-selftests: kernel guest
	@tests/iommufd/run.sh --ours $(BUILD)/arm64 $(TREE) $(UAPI)/include \
		$(BUILD)/iommufd-selftests

# The base tree's own iommufd selftests on stock 6.12, for comparison.
iommufd-selftests-stock: kernel-stock guest
	@tests/iommufd/run.sh $(BUILD)/arm64-stock $(STOCK_TREE) \
		$(UAPI)/include $(BUILD)/iommufd-selftests-stock

kernel-negative: tree
	@scripts/tree.sh negative $(NEG_TREE) $(NEG_PATCH)
	@echo "kernel: building $(BUILD)/arm64-negative (doorbell translation broken)"
	@$(KBUILD) $(NEG_TREE) $(BUILD)/arm64-negative $(E2E_CONFIG) Image
	@echo "kernel: building $(BUILD)/ppce500-negative (doorbell translation broken)"
	@$(PPC_KBUILD) $(NEG_TREE) $(BUILD)/ppce500-negative $(PPC_CONFIG) vmlinux

# Our KUnit suites, built into the test kernel, run at boot.
kunit: kernel
	@scripts/kunit-boot.sh $(BUILD)/arm64 $(TREE) $(BUILD)/kunit-boot

# The same suites in their own kernel, under KASAN, lockdep, atomic-sleep
# checks and kmemleak (kunit/msi.kunitconfig): make test-debug.
kunit-debug: tree
	cd $(TREE) && ./tools/testing/kunit/kunit.py run --arch=arm64 \
		--cross_compile=$(CROSS) --qemu_config=$(KUNIT_QEMU) \
		--kunitconfig=$(KUNITCONFIG) --build_dir=$(BUILD)/kunit \
		--make_options="CC=ccache $(CROSS)gcc" --jobs=$$(nproc) \
		--timeout=600
	@scripts/kunit-log-judge.sh $(BUILD)/kunit/test.log

guest: tree
	@$(MAKE) -s -C $(TREE) ARCH=arm64 O=$(BUILD)/uapi-obj \
		INSTALL_HDR_PATH=$(UAPI) headers_install
	@$(MAKE) -s -C tests/e2e/guest O=$(GUEST) UAPI=$(UAPI)/include \
		KSFT=$(KSFT) CC=$(CROSS)gcc
	@$(MAKE) -s -C $(TREE) ARCH=powerpc O=$(BUILD)/uapi-ppc-obj \
		INSTALL_HDR_PATH=$(PPC_UAPI) headers_install
	@$(MAKE) -s -C tests/e2e/guest O=$(GUEST)-ppc \
		UAPI=$(PPC_UAPI)/include KSFT=$(KSFT) CC=$(PPC_CROSS)gcc

e2e: kernel kernel-ppc guest
	@$(E2E) --kernel $(BUILD)/arm64 --ppc-kernel $(BUILD)/ppce500 $(SCENARIOS)

e2e-stock: kernel-stock guest
	@$(E2E) --kernel $(BUILD)/arm64-stock $(SCENARIOS)

e2e-negative: kernel-negative guest
	@$(E2E) --kernel $(BUILD)/arm64-negative \
		--ppc-kernel $(BUILD)/ppce500-negative --expect-red $(SCENARIOS)

e2e-debug: kernel-debug guest
	@$(E2E) --kernel $(BUILD)/arm64-debug --debug $(SCENARIOS)

# The race scenario on a kernel whose prepare and release skip the group
# mutex: it must go red.
kernel-race-negative: tree
	@scripts/tree.sh negative $(RACE_TREE) $(RACE_PATCH)
	@echo "kernel: building $(BUILD)/arm64-race-negative (no group mutex in prepare/release)"
	@$(KBUILD) $(RACE_TREE) $(BUILD)/arm64-race-negative $(E2E_CONFIG) Image

e2e-race-negative: kernel-race-negative guest
	@$(E2E) --kernel $(BUILD)/arm64-race-negative --expect-fail --crash-in iommu_msi_ its-iommufd-race

# KUnit's races of prepare without the group mutex, each on a kernel with
# the bug it must catch: the mutex holder freeing idle bindings without a
# compare-and-swap (fast_wake_races_sweep), and the reclaim taking a
# binding going idle for retired (fast_wake_races_reclaim).
KRACE_CASES := non-atomic-claim:fast_wake_races_sweep \
	       retire-going-idle:fast_wake_races_reclaim

kunit-race-negative: tree
	@mkdir -p $(BUILD) && cat $(TEST_FRAGS) > $(TEST_CONFIG)
	@for c in $(KRACE_CASES); do \
		scripts/kunit-race-negative.sh $(KRACE_TREE) \
			$(BUILD)/arm64-kunit-race $(TEST_CONFIG) \
			$(CURDIR)/tests/kunit/negative/$${c%%:*}.patch $${c##*:} \
			$(BUILD)/kunit-race-negative-$${c##*:} || exit 1; \
	done

# The window scenario on a kernel that records the window userspace
# chooses but never applies it: it must go red.
kernel-window-negative: tree
	@scripts/tree.sh negative $(WINDOW_TREE) $(WINDOW_PATCH)
	@echo "kernel: building $(BUILD)/arm64-window-negative (chosen MSI window ignored)"
	@$(KBUILD) $(WINDOW_TREE) $(BUILD)/arm64-window-negative $(E2E_CONFIG) Image

e2e-window-negative: kernel-window-negative guest
	@$(E2E) --kernel $(BUILD)/arm64-window-negative --expect-fail its-iommufd-window

kernel-debug-negative: tree
	@scripts/tree.sh negative $(LEAK_TREE) $(LEAK_PATCH)
	@cat $(E2E_CONFIG) $(DEBUG_CONFIG) > $(BUILD)/e2e-debug.config
	@echo "kernel: building $(BUILD)/arm64-debug-leak (doorbell bookkeeping leaked)"
	@$(KBUILD) $(LEAK_TREE) $(BUILD)/arm64-debug-leak $(BUILD)/e2e-debug.config Image

e2e-debug-negative: kernel-debug-negative guest
	@$(E2E) --kernel $(BUILD)/arm64-debug-leak --debug --expect-leaks $(SCENARIOS)

# KUnit always runs with the same tools (kunit/msi.kunitconfig).
test-debug: deps
	@$(MAKE) --no-print-directory kunit-debug
	@$(MAKE) --no-print-directory e2e-debug

# The series a maintainer applies (build/series/), and its per-patch check.
series: tree
	@scripts/series.sh build

series-check: series
	@scripts/series.sh check

# make test builds build/linux: prove it is the shipped series, exactly.
series-shipped: series
	@scripts/tree.sh export-check
	@scripts/series.sh shipped

check: tree
	@scripts/check.sh

docs: tree
	@scripts/docs.sh

run: deps
	@$(MAKE) --no-print-directory kernel guest
	@$(E2E) --kernel $(BUILD)/arm64 --demo

test: deps
	@$(MAKE) --no-print-directory series-shipped
	@$(MAKE) --no-print-directory kernels
	@$(MAKE) --no-print-directory kunit
	@$(MAKE) --no-print-directory e2e
	@$(E2E) --kernel $(BUILD)/arm64 --demo
	@$(MAKE) --no-print-directory iommufd-selftests
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory docs

clean:
	rm -rf $(BUILD)/arm64* $(BUILD)/ppce500* $(BUILD)/kunit $(BUILD)/guest* \
		$(BUILD)/uapi* $(BUILD)/e2e $(BUILD)/docs
