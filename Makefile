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
CFLAGS += -std=gnu11 $(WFLAGS) -I$(OUT) -Iinclude -Isrc
PKGS := libbpf libmicrohttpd jansson libcurl yaml-0.1 libcap libseccomp
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -lmicrohttpd -ljansson -lcurl -lyaml -lcap -lseccomp) -lelf -lz -lm -lpthread
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Ivmlinux/$(ARCH) -Iinclude -Wall -Werror

BPF_UNITS := sched mem tcp
SKELS := $(patsubst %,$(OUT)/%.skel.h,$(BPF_UNITS))
# every module under src/<folder>/ but the entry point
LIB_SRCS := $(filter-out cmd/main,$(patsubst src/%.c,%,$(sort $(wildcard src/*/*.c))))
LIB_OBJS := $(patsubst %,$(OUT)/%.o,$(LIB_SRCS))

UNIT_TESTS := test_hist test_prom test_container test_cgroup test_window test_health test_memfiles test_memevents \
	test_config test_alerts test_notify
test_hist_SRCS := model/hist
test_prom_SRCS := model/text outputs/prom model/hist
test_container_SRCS := collect/container model/identity
test_cgroup_SRCS := collect/cgroup base/log
test_window_SRCS := analysis/window model/hist
test_health_SRCS := analysis/health
test_memfiles_SRCS := model/cgfiles collect/memfiles collect/cgroup base/log
test_memevents_SRCS := model/text model/memevents collect/container model/identity
UNIT_TESTS += test_ports test_diskstats test_hotslots
test_hotslots_SRCS := kernel/hotslots
test_diskstats_SRCS := collect/diskstats
test_ports_SRCS := model/ports model/hist
test_config_SRCS := app/config analysis/alert_rules base/opts base/log analysis/health
test_alerts_SRCS := model/text model/model model/identity model/ports analysis/alerts analysis/alert_rules outputs/alert_out app/config base/opts base/log analysis/health outputs/prom model/hist
test_notify_SRCS := model/text outputs/notify outputs/prom model/hist base/log

.PHONY: all deps run test unit-test integration-test bench clean
all: kpulse

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

$(OUT)/outputs/dashboard.o: src/outputs/dashboard.S src/outputs/dashboard.html | $(OUT)
	$(call msg,AS,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -c $< -o $@

kpulse: $(OUT)/cmd/main.o $(OUT)/outputs/dashboard.o $(LIB_OBJS)
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

run: deps kpulse
	./kpulse daemon

unit-test: $(patsubst %,$(OUT)/tests/%,$(UNIT_TESTS))
	$(Q)for t in $^; do echo "== $$t"; $$t || exit 1; done

integration-test: kpulse $(OUT)/workload $(OUT)/delay_server
	$(Q)$(PYTHON) tests/integration/run.py

test: deps
	$(Q)$(MAKE) --no-print-directory all unit-test
	$(Q)$(MAKE) --no-print-directory integration-test

bench: kpulse
	$(Q)bash tools/install-deps.sh --bench
	$(Q)bash tools/bench/sched.sh

clean:
	rm -rf $(OUT) kpulse

-include $(wildcard $(OUT)/*/*.d)
