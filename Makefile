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
PKGS := libbpf libmicrohttpd jansson libcurl yaml-0.1
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -lmicrohttpd -ljansson -lcurl -lyaml) -lelf -lz -lm -lpthread
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Ivmlinux/$(ARCH) -Iinclude -Wall -Werror

BPF_UNITS := sched mem tcp
SKELS := $(patsubst %,$(OUT)/%.skel.h,$(BPF_UNITS))
LIB_SRCS := alerting alerts analysis api cgroup cli cmd_check collector config container daemon diskstats health hist hotslots http loader log memevents memfiles memread metrics notify opts ports procstat prom session window
LIB_OBJS := $(patsubst %,$(OUT)/%.o,$(LIB_SRCS))

UNIT_TESTS := test_hist test_prom test_container test_cgroup test_window test_health test_memfiles test_memevents \
	test_config test_alerts test_notify
test_hist_SRCS := hist
test_prom_SRCS := prom hist
test_container_SRCS := container
test_cgroup_SRCS := cgroup log
test_window_SRCS := window hist
test_health_SRCS := health
test_memfiles_SRCS := memfiles cgroup log
test_memevents_SRCS := memevents container
UNIT_TESTS += test_ports test_diskstats test_hotslots
test_hotslots_SRCS := hotslots
test_diskstats_SRCS := diskstats
test_ports_SRCS := ports hist
test_config_SRCS := config opts log health
test_alerts_SRCS := alerts config opts log health prom hist
test_notify_SRCS := notify prom hist log

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

$(OUT)/%.o: src/%.c $(SKELS) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/dashboard.o: src/dashboard.S src/dashboard.html | $(OUT)
	$(call msg,AS,$@)
	$(Q)$(CC) -c $< -o $@

kpulse: $(OUT)/main.o $(OUT)/dashboard.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(OUT)
	$(call msg,TEST,$@)
	$(Q)mkdir -p $(OUT)/tests
	$(Q)$(CC) $(CFLAGS) $< $(patsubst %,$(OUT)/%.o,$($*_SRCS)) -lcmocka $(LDLIBS) -o $@

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

-include $(wildcard $(OUT)/*.d)
