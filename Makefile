# kpulse build: bpf/*.bpf.c -> .output/*.bpf.o -> .output/*.skel.h -> kpulse
# `make V=1` shows full commands; warnings are errors (WERROR=0 to relax).
ARCH := $(shell uname -m)
OUT := .output
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
V ?= 0
PYTHON ?= /usr/bin/python3
WERROR ?= 1

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_ARCH := $(subst x86_64,x86,$(subst aarch64,arm64,$(ARCH)))
WFLAGS := -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation $(if $(filter 1,$(WERROR)),-Werror)
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WFLAGS) -I$(OUT) -Iinclude -Isrc $(EXTRA_CFLAGS)
# the binary (make sanitize builds its own beside the objects)
BIN ?= kpulse
PKGS := libbpf libmicrohttpd jansson libcurl yaml-0.1 libcap libseccomp libcrypt gnutls
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -lmicrohttpd -ljansson -lcurl -lyaml -lcap -lseccomp -lcrypt -lgnutls) -lelf -lz -lm -lpthread
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Ivmlinux/$(ARCH) -Iinclude -Wall -Werror

BPF_UNITS := sched mem tcp cgroup
SKELS := $(patsubst %,$(OUT)/%.skel.h,$(BPF_UNITS))
# every module under src/<folder>/ but the entry point
LIB_SRCS := $(filter-out cmd/main,$(patsubst src/%.c,%,$(sort $(wildcard src/*/*.c))))
LIB_OBJS := $(patsubst %,$(OUT)/%.o,$(LIB_SRCS))

UNIT_TESTS := test_hist test_prom test_container test_cgroup test_window test_health test_memfiles test_memevents \
	test_config test_alerts test_notify
test_hist_SRCS := model/hist
test_prom_SRCS := model/text outputs/prom model/hist
test_container_SRCS := collect/container model/identity model/text
test_cgroup_SRCS := collect/cgroup collect/cgwalk base/log
test_window_SRCS := analysis/window model/hist
test_health_SRCS := analysis/health
test_memfiles_SRCS := model/cgfiles collect/memfiles collect/kvfile collect/cgroup collect/cgwalk base/log
test_memevents_SRCS := model/text model/memevents collect/container model/identity
UNIT_TESTS += test_ports test_diskstats test_hotslots test_heatmap test_portwin test_netrates test_schedread test_gone test_corefix
test_corefix_SRCS := kernel/corefix
test_schedread_SRCS := collect/schedread
test_gone_SRCS := collect/gone base/log
test_netrates_SRCS := analysis/netrates
test_portwin_SRCS := analysis/portwin analysis/window
test_heatmap_SRCS := analysis/heatmap model/hist
UNIT_TESTS += test_nodefiles test_fsstat test_node_metrics
test_nodefiles_SRCS := collect/nodefiles
test_fsstat_SRCS := collect/fsstat
test_node_metrics_SRCS := outputs/node_metrics model/text outputs/prom model/hist collect/nodefiles
UNIT_TESTS += test_http_guard test_http_headers
test_http_guard_SRCS := outputs/http_guard
test_http_headers_SRCS := outputs/http_headers
UNIT_TESTS += test_webconfig test_basic_auth
test_webconfig_SRCS := outputs/webconfig
test_basic_auth_SRCS := outputs/basic_auth
test_hotslots_SRCS := kernel/hotslots
test_diskstats_SRCS := collect/diskstats
test_ports_SRCS := model/ports model/hist
test_config_SRCS := app/config analysis/alert_rules base/opts base/log analysis/health collect/rtpaths
test_alerts_SRCS := model/text model/model model/identity model/ports analysis/alerts analysis/alert_rules outputs/alert_out app/config base/opts base/log analysis/health outputs/prom model/hist collect/rtpaths
test_notify_SRCS := model/text outputs/notify outputs/prom model/hist base/log
UNIT_TESTS += test_cpufiles test_memstat test_rtmeta test_runtimes
test_cpufiles_SRCS := collect/cpufiles collect/kvfile
test_memstat_SRCS := collect/memstat collect/kvfile
test_rtmeta_SRCS := collect/rtmeta model/text
test_runtimes_SRCS := collect/runtimes collect/rtpaths collect/rtmeta collect/fsread base/log model/text
UNIT_TESTS += test_throttle test_model test_history test_cgwalk test_v1dir
test_v1dir_SRCS := collect/v1dir collect/readfile collect/memfiles collect/kvfile collect/cgroup collect/cgwalk base/log
test_cgwalk_SRCS := collect/cgwalk
test_history_SRCS := analysis/history
test_throttle_SRCS := analysis/throttle
# outputs and analysis on models built in the test (tests/unit/model_build.h)
MODEL_SRCS := model/model model/identity model/ports model/hist model/cgfiles model/memevents model/text
UNIT_TESTS += test_analysis test_metrics test_api test_health_doc
test_model_SRCS := model/model model/identity model/ports model/hist model/text
ANALYSIS_SRCS := analysis/analysis analysis/window analysis/health analysis/throttle analysis/heatmap \
	analysis/portwin analysis/netrates analysis/history
test_analysis_SRCS := $(ANALYSIS_SRCS) $(MODEL_SRCS)
test_metrics_SRCS := outputs/metrics outputs/prom outputs/node_metrics collect/nodefiles $(MODEL_SRCS)
test_api_SRCS := outputs/api $(ANALYSIS_SRCS) base/opts base/log $(MODEL_SRCS)
test_health_doc_SRCS := outputs/health_doc outputs/features outputs/node_health $(MODEL_SRCS)

.PHONY: all deps run test unit-test integration-test bench clean fuzz sanitize
all: $(BIN)

deps:
	$(Q)bash tools/install-deps.sh

$(OUT):
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard include/*.h bpf/*.h) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

# Only the loader includes the skeletons: everything else builds (and its
# unit tests run) without clang or bpftool.
$(OUT)/kernel/loader.o: $(SKELS)

$(OUT)/%.o: src/%.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The dashboard: src/outputs/dashboard.html with uPlot (npm, pinned by
# src/outputs/web/package-lock.json) inlined, so that the page embedded in the
# binary loads nothing at run time. npm ci runs once, into .output/web.
WEB := $(OUT)/web
UPLOT := $(WEB)/node_modules/uplot/dist
NPM_CI := npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

$(UPLOT)/uPlot.iife.min.js: src/outputs/web/package.json src/outputs/web/package-lock.json | $(OUT)
	$(call msg,NPM,$(WEB))
	$(Q)mkdir -p $(WEB) && cp $^ $(WEB)/
	$(Q)cd $(WEB) && $(NPM_CI)
	$(Q)touch $@

$(OUT)/outputs/dashboard.html: src/outputs/dashboard.html tools/inline-page.js $(UPLOT)/uPlot.iife.min.js
	$(call msg,PAGE,$@)
	$(Q)mkdir -p $(@D)
	$(Q)node tools/inline-page.js $< $(UPLOT)/uPlot.iife.min.js $(UPLOT)/uPlot.min.css > $@.tmp
	$(Q)mv $@.tmp $@

$(OUT)/outputs/dashboard.o: src/outputs/dashboard.S $(OUT)/outputs/dashboard.html | $(OUT)
	$(call msg,AS,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -DKP_DASHBOARD_HTML='"$(OUT)/outputs/dashboard.html"' -c $< -o $@

# The browser test's driver (playwright-core, pinned by
# tests/browser/package-lock.json); it drives Debian's /usr/bin/chromium.
PLAYWRIGHT := $(OUT)/browser/node_modules/playwright-core/package.json
$(PLAYWRIGHT): tests/browser/package.json tests/browser/package-lock.json | $(OUT)
	$(call msg,NPM,$(OUT)/browser)
	$(Q)mkdir -p $(OUT)/browser && cp $^ $(OUT)/browser/
	$(Q)cd $(OUT)/browser && $(NPM_CI)
	$(Q)touch $@

$(BIN): $(OUT)/cmd/main.o $(OUT)/outputs/dashboard.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# A unit test links only the modules it lists in test_<name>_SRCS.
.SECONDEXPANSION:
$(OUT)/tests/%: tests/unit/%.c $$(addprefix $(OUT)/,$$(addsuffix .o,$$($$*_SRCS))) | $(OUT)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(OUT)/tests
	$(Q)$(CC) $(CFLAGS) $< $(addprefix $(OUT)/,$(addsuffix .o,$($*_SRCS))) -lcmocka $(LDLIBS) -o $@

$(OUT)/workload: tests/workload.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -lpthread -o $@

$(OUT)/delay_server: tests/delay_server.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -lpthread -o $@

# tools/bench/node.py: the node series' own cost, on the real code
$(OUT)/bench/node_bench: tools/bench/node_bench.c $(addprefix $(OUT)/,$(addsuffix .o,collect/nodefiles collect/noderead collect/fsstat outputs/node_metrics outputs/prom model/text model/hist base/log)) | $(OUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/churn: tests/churn.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

run: deps kpulse
	./kpulse daemon

unit-test: $(patsubst %,$(OUT)/tests/%,$(UNIT_TESTS))
	$(Q)for t in $^; do echo "== $$t"; $$t || exit 1; done

integration-test: kpulse $(OUT)/workload $(OUT)/delay_server $(OUT)/churn $(PLAYWRIGHT)
	$(Q)$(PYTHON) tests/integration/run.py

test: deps
	$(Q)$(MAKE) --no-print-directory all unit-test
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SECONDS_CI)
	$(Q)$(MAKE) --no-print-directory sanitize
	$(Q)$(MAKE) --no-print-directory integration-test

# --- fuzzing: libFuzzer harnesses (tests/fuzz/fuzz_<name>.c) for every
# parser of outside input, each linked with just the modules it needs and
# built with clang's fuzzer, address and undefined-behaviour sanitizers.
# `make fuzz` replays the kept regressions, then runs each harness for
# FUZZ_SECONDS on its seed corpus (make test: a few seconds each; by hand,
# as long as you like). A crash is saved under tests/fuzz/regressions/<name>/
# (commit it: it is replayed from then on) and fails the target.
FUZZERS := config duration identity mountinfo cgfiles diskstats labels api nodefiles rtmeta cgstat webconfig headers
FUZZ_SECONDS ?= 60
FUZZ_SECONDS_CI ?= 4
FUZZ_CFLAGS := -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iinclude -Isrc -I$(OUT)
fuzz_config_SRCS := app/config analysis/alert_rules analysis/health base/opts base/log collect/rtpaths
fuzz_duration_SRCS := base/opts base/log
fuzz_identity_SRCS := collect/container model/identity model/text model/model model/ports model/hist
fuzz_mountinfo_SRCS := collect/cgroup collect/cgwalk collect/memfiles collect/kvfile model/cgfiles base/log
fuzz_cgfiles_SRCS := collect/memfiles collect/kvfile collect/cgroup collect/cgwalk model/cgfiles base/log
fuzz_diskstats_SRCS := collect/diskstats
fuzz_nodefiles_SRCS := collect/nodefiles
fuzz_rtmeta_SRCS := collect/rtmeta model/text
fuzz_cgstat_SRCS := collect/cpufiles collect/memstat collect/kvfile
fuzz_webconfig_SRCS := outputs/webconfig
fuzz_headers_SRCS := outputs/http_headers
fuzz_labels_SRCS := outputs/prom model/text model/hist
fuzz_api_SRCS := outputs/api $(ANALYSIS_SRCS) $(MODEL_SRCS) base/opts base/log

$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(addprefix src/,$$(addsuffix .c,$$(fuzz_$$*_SRCS))) | $(OUT)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(OUT)/fuzz
	$(Q)clang $(FUZZ_CFLAGS) $^ $(LDLIBS) -o $@

fuzz: $(patsubst %,$(OUT)/fuzz/fuzz_%,$(FUZZERS))
	$(Q)for f in $(FUZZERS); do \
		mkdir -p tests/fuzz/regressions/$$f $(OUT)/fuzz/corpus-$$f; \
		if ls tests/fuzz/regressions/$$f/* >/dev/null 2>&1; then \
			$(OUT)/fuzz/fuzz_$$f tests/fuzz/regressions/$$f/* >/dev/null 2>&1 \
				|| { echo "fuzz_$$f: a kept regression fails again"; exit 1; }; \
		fi; \
		echo "== fuzz_$$f ($(FUZZ_SECONDS) s)"; \
		$(OUT)/fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix=tests/fuzz/regressions/$$f/ \
			$(OUT)/fuzz/corpus-$$f tests/fuzz/corpus/$$f 2>$(OUT)/fuzz/log-$$f \
			|| { tail -40 $(OUT)/fuzz/log-$$f; exit 1; }; \
		grep -h "stat::number_of_executed_units" $(OUT)/fuzz/log-$$f; \
	done

# --- sanitizers: the unit tests and a daemon and command smoke test built
# with AddressSanitizer (leaks included) and UndefinedBehaviorSanitizer in
# their own output folder; any report fails the target.
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
sanitize:
	$(Q)$(MAKE) --no-print-directory OUT=$(OUT)/san BIN=$(OUT)/san/kpulse \
		EXTRA_CFLAGS="$(SAN_FLAGS)" WERROR=$(WERROR) $(OUT)/san/kpulse \
		$(patsubst %,$(OUT)/san/tests/%,$(UNIT_TESTS))
	$(Q)for t in $(patsubst %,$(OUT)/san/tests/%,$(UNIT_TESTS)); do \
		$(SAN_ENV) $$t >$(OUT)/san/unit.log 2>&1 || { cat $(OUT)/san/unit.log; echo "sanitize: $$t"; exit 1; }; \
	done
	$(Q)echo "== sanitize: unit tests clean"
	$(Q)$(SAN_ENV) $(PYTHON) tests/sanitize_smoke.py $(OUT)/san/kpulse

bench: kpulse
	$(Q)bash tools/install-deps.sh --bench
	$(Q)bash tools/bench/sched.sh

# ---- deploy kit (issue 18): tools/deploy/, install, man page, .deb ----
# Kept in one block (the daemon's modules come in through LIB_SRCS;
# libsystemd for sd_notify is added to the link here).
$(BIN): LDLIBS += $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)

# `make install [PREFIX=/usr/local] [DESTDIR=]`: binary, kpulse(8), the
# systemd unit (its ExecStart pointed at BINDIR) and sysusers.d entry, and
# the example config as SYSCONFDIR/kpulse/kpulse.yaml unless one is there.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
SYSCONFDIR ?= /etc
DEPLOY_DIR := tools/deploy

.PHONY: man install deb image deploy-test

# kpulse(8) from the binary's own --help and `help COMMAND` (help2man)
$(OUT)/man/kpulse.8: kpulse $(DEPLOY_DIR)/man/gen-man.sh $(DEPLOY_DIR)/man/kpulse.h2m
	$(call msg,MAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)bash $(DEPLOY_DIR)/man/gen-man.sh ./kpulse $@

man: $(OUT)/man/kpulse.8

install: kpulse $(OUT)/man/kpulse.8
	$(Q)install -Dm0755 kpulse $(DESTDIR)$(BINDIR)/kpulse
	$(Q)install -Dm0644 $(OUT)/man/kpulse.8 $(DESTDIR)$(MANDIR)/man8/kpulse.8
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's#/usr/bin/kpulse#$(BINDIR)/kpulse#; s#/etc/kpulse/#$(SYSCONFDIR)/kpulse/#' \
		$(DEPLOY_DIR)/systemd/kpulse.service > $(DESTDIR)$(UNITDIR)/kpulse.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/kpulse.service
	$(Q)install -Dm0644 $(DEPLOY_DIR)/systemd/kpulse.sysusers $(DESTDIR)$(SYSUSERSDIR)/kpulse.conf
	$(Q)install -d $(DESTDIR)$(SYSCONFDIR)/kpulse
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/kpulse/kpulse.yaml ] || \
		install -m0644 $(DEPLOY_DIR)/kpulse.yaml $(DESTDIR)$(SYSCONFDIR)/kpulse/kpulse.yaml

# `make deb`: .output/kpulse_<version>_<arch>.deb with dpkg-deb
deb: kpulse $(OUT)/man/kpulse.8
	$(Q)bash $(DEPLOY_DIR)/deb/build.sh

# `make image`: the container image (tools/deploy/image/build.sh)
image: kpulse
	$(Q)bash $(DEPLOY_DIR)/image/build.sh ./kpulse $(OUT)/image

# the deploy kit's tests alone (also part of integration-test)
deploy-test: kpulse $(OUT)/workload $(OUT)/delay_server
	$(Q)$(PYTHON) tests/integration/run.py test_deploy.py
# ---- end of the deploy kit block ----

clean:
	rm -rf $(OUT) kpulse

-include $(wildcard $(OUT)/*/*.d)
