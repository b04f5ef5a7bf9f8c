/*
 * fuzz_addr.c: the address parser (addr.c) on every form a
 * configuration gives it: "[host:]port" split at the last ':' (IPv6
 * without brackets, "[::1]" as a host), service names, "/unix/path",
 * the host alone of "local =", and the text form of what came out.
 *
 * The first byte chooses: bit 0 passive (accept) or not (connect),
 * bit 1 a default host ("localhost", as connect and redirect have),
 * bit 2 the "local =" parser instead, bit 3 the text form of the input
 * taken as a raw socket address. The rest is the text. Names resolve
 * numerically only (fuzz_common.c): no DNS query is ever sent.
 */
#include "common.h"
#include "addr.h"
#include "util.h"
#include "fuzz_common.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

/* a socket address straight from the input, as accept() could fill it */
static void
raw_text(const uint8_t *data, size_t size)
{
	char text[ADDR_TEXT_MAX];
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (size > sizeof(a.sa))
		size = sizeof(a.sa);
	memcpy(&a.sa, data, size);
	a.len = (socklen_t)size;
	addr_text(&a, text, sizeof(text));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addrlist list = { 0 };
	char text[ADDR_TEXT_MAX], *spec;
	struct addr one;
	unsigned flags;
	size_t i;

	if (size < 1)
		return 0;
	flags = data[0];
	if (flags & 8) {
		raw_text(data + 1, size - 1);
		return 0;
	}
	spec = xstrndup((const char *)data + 1, size - 1);
	if (flags & 4) {
		if (addr_resolve_host(spec, &one) == 0)
			addr_text(&one, text, sizeof(text));
	} else if (addr_resolve(spec, (flags & 2) ? "localhost" : NULL,
	    flags & 1, &list) == 0) {
		for (i = 0; i < list.n; i++)
			addr_text(&list.v[i], text, sizeof(text));
	}
	addrlist_free(&list);
	free(spec);
	return 0;
}
