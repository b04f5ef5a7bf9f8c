/*
 * fuzz_psk.c: the PSKsecrets file parser (psk.c): the input is the
 * file; what loads is copied, searched and freed as a configuration
 * load and a connection do.
 */
#include "common.h"
#include "psk.h"
#include "fuzz_common.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *path;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	path = fuzz_path("input-psk.txt");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct psk *list, *copy;
	const struct psk *p;

	fuzz_write("input-psk.txt", data, size);
	list = psk_load(path);
	if (list == NULL)
		return 0;
	copy = psk_dup(list);
	for (p = list; p != NULL; p = p->next)
		if (psk_find(copy, p->identity) == NULL)
			abort();	/* every identity loaded can be found */
	psk_free(copy);
	psk_free(list);
	return 0;
}
