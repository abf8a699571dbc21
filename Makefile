# etcd-backup - one non-recursive Makefile.
#
#   make            build bin/etcd-backup and bin/etcd-restore
#   make deps       install missing Debian packages (as root)
#   make demo       throwaway etcd -> snapshot -> local store -> restore -> check
#   make test       every test (unit + integration against real etcd / RGW),
#                   then the unit and core integration tests again under
#                   ASan+UBSan, and the threaded paths under TSan; ends
#                   with "N passed, N failed, N skipped"
#   make check      the tree's shape: no function over 120 lines or
#                   complexity 40 (tests/check/allow.txt may only shrink),
#                   headers compile alone, includes point down the stack
#   make san        sanitizer build only (build/san/bin)
#   make tsan       ThreadSanitizer build only (build/tsan/bin); make test
#                   runs the unit tests and the "# tsan: yes" files on it
#   make bench      benchmarks against etcdctl / aws CLI (not part of test)
#   make fuzz       libFuzzer targets for every decoder, bounded time
#   make image      container image $(IMAGE) from the Dockerfile (needs a
#                   running docker or podman engine)
#   make image-check  build the image with podman (chroot isolation) and
#                   run its binaries against a real etcd (in make test too)
#
# Folders are the data path: agent/ (etcd -> stream), storage/ (stages and
# stores), crypt/ (age encryption, SSH signatures, key flags), restore/
# (store -> data dir), common/ (errors, logs, json, crypto, the OpenSSL
# wrappers, the stage interface).  Each uses only those below it:
# common < crypt < storage < storage/s3 < restore < agent (make check).
# Every X/main.c is a program entry; every other .c is library code.

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san
BIN ?= build/san/bin
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
           -fno-omit-frame-pointer
OPT = -O1
else ifeq ($(SAN),thread)
# ThreadSanitizer: the worker threads (async stage, S3 part uploads)
BUILD ?= build/tsan
BIN ?= build/tsan/bin
SANFLAGS = -fsanitize=thread -fno-omit-frame-pointer
OPT = -O1
else
BUILD ?= build/rel
BIN ?= bin
SANFLAGS =
OPT = -O2
endif

CC ?= cc
GEN = $(BUILD)/gen
PKGS = libprotobuf-c libzstd libcurl openssl
WARN = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla \
       -Werror=implicit-function-declaration -Wno-missing-field-initializers
CFLAGS ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(SANFLAGS) $(CFLAGS) -I. -I$(GEN) \
             $(shell pkg-config --cflags $(PKGS)) -MMD -MP
# The gRPC core's shared libraries pull in their own dependencies (absl, re2...).
LIBS = -lgrpc -lgpr $(shell pkg-config --libs $(PKGS)) -lpthread
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

PROTOS = $(wildcard proto/*.proto)
GEN_C = $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
GEN_H = $(GEN_C:.c=.h)

LIB_SRC = $(wildcard common/*.c crypt/*.c storage/*.c storage/s3/*.c storage/azure/*.c) \
          $(filter-out agent/main.c,$(wildcard agent/*.c)) \
          $(filter-out restore/main.c,$(wildcard restore/*.c))
LIB_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) \
          $(patsubst %.c,%.o,$(GEN_C))

UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BIN = $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

PROGS = $(BIN)/etcd-backup $(BIN)/etcd-restore

# Keep generated sources and the objects of tests and tools (make would
# otherwise delete them as intermediates, and say so after every build).
.SECONDARY: $(GEN_C) $(GEN_H) $(patsubst %.c,$(BUILD)/obj/%.o,$(UNIT_SRC) $(TOOL_SRC))
.PHONY: all deps check demo test test-rel test-san san tsan unit bench fuzz fuzz-build clean image image-check
all: $(PROGS) $(UNIT_BIN) $(TOOL_BIN)

# V=1 shows the commands.
ifeq ($(V),1)
Q =
say = @true
else
Q = @
say = @printf '  %-6s %s\n'
endif

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@mkdir -p $(GEN)
	$(say) PROTOC $<
	$(Q)protoc-c -Iproto --c_out=$(GEN) $<

# Generated code is compiled with our flags too; protoc-c 1.4 output is clean.
$(GEN)/%.pb-c.o: $(GEN)/%.pb-c.c $(GEN_H)
	$(say) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libeb.a: $(LIB_OBJ)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

$(BIN)/etcd-backup: $(BUILD)/obj/agent/main.o $(BUILD)/libeb.a
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BIN)/etcd-restore: $(BUILD)/obj/restore/main.o $(BUILD)/libeb.a
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libeb.a
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(BUILD)/libeb.a
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

deps:
	@bash .ci/deps.sh

san:
	$(MAKE) SAN=1 all

tsan:
	$(MAKE) SAN=thread all

# The whole suite: release build, every test; then the sanitizer build and
# the tests marked for it (tests/run.sh decides), one closing count.
# The three builds use every core; tests/run.sh then runs the files side by
# side (EB_TEST_JOBS).
NPROC := $(shell nproc 2>/dev/null || echo 2)
test: deps
	$(MAKE) -j$(NPROC) all
	$(MAKE) -j$(NPROC) SAN=1 all
	$(MAKE) -j$(NPROC) SAN=thread all
	@bash tests/run.sh

# The shape of the tree (tests/check/run.sh): function size and complexity,
# headers that compile alone, includes down the stack, no module circles.
check: deps
	@bash tests/check/run.sh

demo: deps all
	@bash tests/demo.sh

bench: deps all
	@bash bench/run.sh

fuzz: deps
	@bash tests/fuzz/run.sh

# libFuzzer targets (tests/fuzz/fuzz_*.c) and their seed maker, with our
# warnings as errors; tests/fuzz/run.sh builds them through this rule.
FUZZ_CC ?= clang
FUZZ_DIR = build/fuzz
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 -I. \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined
# the decoders and what they use; no network or storage code
FUZZ_LIB = restore/bbolt_read.c restore/bbolt_write.c common/bytes.c restore/crc32c.c \
           restore/members.c restore/records.c restore/snapfile.c restore/snapshot.c \
           restore/wal.c restore/inspect.c common/crypto.c common/err.c common/interrupt.c \
           storage/s3/xml.c common/buf.c common/json.c storage/manifest.c storage/cpman.c \
           common/cipher.c common/fsutil.c crypt/age.c crypt/age_stage.c crypt/sshsig.c \
           common/stream.c storage/segment.c restore/leaseset.c common/tar.c restore/k8s.c \
           restore/bolt_stream.c storage/azure/azconn.c
FUZZ_BIN = $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/bin/%,$(wildcard tests/fuzz/fuzz_*.c))
$(FUZZ_DIR)/bin/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(say) FUZZCC $<
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) -lcrypto -lpthread
$(FUZZ_DIR)/mkseed: tests/fuzz/mkseed.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(say) FUZZCC $<
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB) -lcrypto -lpthread
fuzz-build: $(FUZZ_BIN) $(FUZZ_DIR)/mkseed

# The container image.  Without a working engine it says so and fails; the
# image is built and run by tests/it/t_image_build.sh (podman).
IMAGE ?= etcd-backup:dev
ENGINE ?= $(shell if docker info >/dev/null 2>&1; then echo docker; \
                  elif podman info >/dev/null 2>&1; then echo podman; fi)
image:
	@if [ -z "$(ENGINE)" ]; then \
		echo "make image: no container engine runs here (docker info and podman info failed)." >&2; \
		echo "Build the image where one runs: docker build -t $(IMAGE) ." >&2; \
		exit 1; \
	fi
	$(ENGINE) build -t $(IMAGE) .

# Build the image with podman and run what it ships against a real etcd
# (tests/it/t_image_build.sh, also part of make test).
image-check: deps all
	@bash tests/run.sh tests/it/t_image_build.sh

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name "*.d" 2>/dev/null)
