# shoji: build, test, demo and benchmark. Run as root on Linux (containers need it).
#   make build   release binary at target/x86_64-unknown-linux-gnu/release/shoji
#   make test    fmt + clippy + unit tests, then the integration tiers host, systemd, vm,
#                clients
#   make demo    a busybox container made with `shoji spec`, printing its cgroup
#   make bench   issue 11's figures with their targets, shoji beside runc and crun: host (run,
#                floor, grace period, exec, 16 parallel loops, RSS, size), run stage by
#                stage (--debug lines; also in the VM), seccomp's cost,
#                systemd sandbox, cgroup v2 VM (direct and systemd modes), 20 `ctr run --rm`
#                under containerd; with BASELINE=path/to/other/shoji also that build beside
#                this one, wall and CPU per run and exec (exe_seal.sh)
#   make hot-symbols  measure again which functions build.rs lays out first (link/profile.sh)
# A tier can be pointed at another runtime: `make tier-host SHOJI_RUNTIME=/usr/sbin/runc`.

SHELL := /bin/bash
CARGO ?= cargo
TIERS := host systemd vm clients
SUMMARY := target/tier-summary.txt
SHOJI := $(CURDIR)/target/x86_64-unknown-linux-gnu/release/shoji

.PHONY: build test lint unit tiers demo bench hot-symbols FORCE
FORCE:

build:
	$(CARGO) build --release

test: lint unit tiers

# The function layout build.rs hands to lld, measured again (root; one release build with every
# function on its own page, run from a loop image without readahead: link/profile.sh).
hot-symbols:
	bash link/profile.sh

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

unit:
	$(CARGO) test --lib --bins

# Every tier runs even when an earlier one failed; the target fails if any did.
tiers:
	@mkdir -p target && : > $(SUMMARY)
	@status=0; for t in $(TIERS); do $(MAKE) --no-print-directory tier-$$t || status=1; done; \
	echo "== integration tiers =="; cat $(SUMMARY); \
	awk '{p += $$3; f += $$5} END {printf "total: %d passed, %d failed\n", p, f}' $(SUMMARY); \
	exit $$status

# One tier = one cargo test target (`[[test]] name = "<tier>"`). A missing target is a
# failure, never a skip. Counts come from libtest's "test result:" lines.
tier-%: FORCE
	@mkdir -p target; log=target/tier-$*.log; \
	echo "== tier $*: cargo test --test $* =="; \
	$(CARGO) test --test $* 2>&1 | tee $$log; rc=$${PIPESTATUS[0]}; \
	passed=$$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\1/p' $$log | awk '{s+=$$1} END {print s+0}'); \
	failed=$$(sed -n 's/^test result: .* \([0-9]*\) passed; \([0-9]*\) failed.*/\2/p' $$log | awk '{s+=$$1} END {print s+0}'); \
	if ! grep -q '^test result:' $$log; then echo "tier $*: no test ran (missing target or build failure)"; failed=$$((failed + 1)); rc=1; fi; \
	line="tier $*: $$passed passed, $$failed failed"; echo "$$line"; \
	touch $(SUMMARY); echo "$$line" >> $(SUMMARY); exit $$rc


# The demo bundle is made by shoji's own `spec`, with a busybox rootfs; the container gets
# an absolute cgroupsPath and a memory limit so the cgroup it prints is easy to find.
demo: build
	@set -euo pipefail; dir=$$(mktemp -d /tmp/shoji-demo.XXXXXX); \
	trap 'rm -rf "$$dir"; rmdir /sys/fs/cgroup/*/shoji-demo 2>/dev/null || true' EXIT; \
	mkdir -p "$$dir/bundle/rootfs/bin" "$$dir/bundle/rootfs/proc" "$$dir/bundle/rootfs/sys" "$$dir/bundle/rootfs/dev"; \
	cp /bin/busybox "$$dir/bundle/rootfs/bin/busybox"; \
	for a in $$(/bin/busybox --list | grep -vx busybox); do ln -s busybox "$$dir/bundle/rootfs/bin/$$a"; done; \
	$(SHOJI) spec --bundle "$$dir/bundle"; \
	jq '.process.terminal = false | .process.args = ["sh", "-c", "echo \"hello from $$(hostname)\"; echo \"my cgroups:\"; cat /proc/self/cgroup; echo \"memory limit: $$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)\""] | .linux.cgroupsPath = "/shoji-demo/demo" | .linux.resources.memory = {"limit": 67108864} | .linux.namespaces |= map(select(.type != "cgroup"))' \
	  "$$dir/bundle/config.json" > "$$dir/config.json" && mv "$$dir/config.json" "$$dir/bundle/config.json"; \
	echo "== shoji run demo (bundle $$dir/bundle, cgroupsPath /shoji-demo/demo, memory 64 MiB) =="; \
	$(SHOJI) --root "$$dir/state" run --bundle "$$dir/bundle" shoji-demo; \
	echo "== demo done; bundle, state and cgroups removed =="

bench: build
	bash bench/host.sh $(SHOJI)
	bash bench/stages.sh $(SHOJI)
	bash bench/seccomp.sh $(SHOJI)
	bash bench/systemd.sh $(SHOJI)
	bash bench/vm.sh $(SHOJI)
	bash bench/clients.sh $(SHOJI)
	@if [ -n "$(BASELINE)" ]; then bash bench/exe_seal.sh "$(BASELINE)" $(SHOJI); fi
