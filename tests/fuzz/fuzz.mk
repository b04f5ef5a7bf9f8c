# tests/fuzz/fuzz.mk: the libFuzzer targets (GNU make; build.sh runs it).
# The daemon's core (libcore_la_SOURCES of src/Makefile.am: everything
# but main()) is compiled again with clang, coverage and AddressSanitizer
# plus UndefinedBehaviorSanitizer into OUT/obj, archived as
# OUT/libcore.a, and each fuzz_*.c linked against it with libFuzzer.
# SRCDIR: the source tree; CONFIG_DIR: a configured build tree (its
# src/config.h); OUT: where the objects and targets go.

SRCDIR ?= ../..
CONFIG_DIR ?= $(SRCDIR)
OUT ?= fuzz-build
CC = clang
SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = -g -O1 $(SAN) -fsanitize=fuzzer-no-link
FUZZ_CPPFLAGS = -DHAVE_CONFIG_H -I$(CONFIG_DIR)/src -I$(SRCDIR)/src \
	-I$(SRCDIR)/tests/fuzz \
	-DCONFDIR='"/nonexistent/etc/stunnel"' -DLIBDIR='"/nonexistent/lib"'
FUZZ_LIBS = -lssl -lcrypto -lz -lpthread -ldl
# the daemon's own calls go through fuzz_common.c's stand-ins
WRAPS = -Wl,--wrap=getaddrinfo,--wrap=connect,--wrap=bind,--wrap=poll

TARGETS = fuzz_conffile fuzz_addr fuzz_psk fuzz_protocol fuzz_sessiond \
	fuzz_handshake fuzz_ident fuzz_ocsp
CORE_SRCS := $(shell sed -n '/^libcore_la_SOURCES/,/^[^[:space:]]/p' \
	$(SRCDIR)/src/Makefile.am | tr ' \t\\' '\n\n\n' | grep '\.c$$')
CORE_OBJS = $(CORE_SRCS:%.c=$(OUT)/obj/%.o)

all: $(TARGETS:%=$(OUT)/%)

$(OUT)/obj/%.o: $(SRCDIR)/src/%.c
	@mkdir -p $(@D)
	@echo "  CC       $*.c"
	@$(CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(OUT)/obj/fuzz/%.o: $(SRCDIR)/tests/fuzz/%.c
	@mkdir -p $(@D)
	@echo "  CC       fuzz/$*.c"
	@$(CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -Wall -Wextra -Werror -MMD -MP -c \
		-o $@ $<

$(OUT)/libcore.a: $(CORE_OBJS)
	@rm -f $@
	@ar rcs $@ $(CORE_OBJS)

$(OUT)/fuzz_%: $(OUT)/obj/fuzz/fuzz_%.o $(OUT)/obj/fuzz/fuzz_common.o \
		$(OUT)/libcore.a
	@echo "  CCLD     fuzz_$*"
	@$(CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(WRAPS) $(FUZZ_LIBS)

.PHONY: all
.SECONDARY:
-include $(wildcard $(OUT)/obj/*.d $(OUT)/obj/fuzz/*.d)
