/*
 * sslerr.c: the OpenSSL error queue, drained into the log.
 *
 * Owns stunnel 5.75's layout of OpenSSL errors: one line per queued
 * error (at most ten), newest first; the oldest carries the caller's
 * text, the others "error queue"; an empty queue reads "Peer suddenly
 * disconnected". Must leave the queue empty, so that a later failure
 * never reports an old error.
 */
#include "common.h"
#include "sslerr.h"
#include "log.h"

#include <openssl/err.h>

#define SSLERR_MAX	10

struct queued {
	unsigned long	 code;
	const char	*file;
	const char	*func;
	const char	*data;
	int		 line;
	int		 flags;
};

static void
log_one(const char *what, const struct queued *q)
{
	char text[256];

	ERR_error_string_n(q->code, text, sizeof(text));
	log_msg(LOG_ERR, "%s: %s%s%s:%d: %s%s%s", what,
	    q->func != NULL && *q->func != '\0' ? q->func : "",
	    q->func != NULL && *q->func != '\0' ? "@" : "",
	    q->file, q->line, text,
	    (q->flags & ERR_TXT_STRING) && q->data != NULL && *q->data ? ": " : "",
	    (q->flags & ERR_TXT_STRING) && q->data != NULL ? q->data : "");
}

void
sslerr_log(const char *what)
{
	struct queued q[SSLERR_MAX];
	size_t n = 0, i;
	unsigned long code;
	const char *file, *func, *data;
	int line, flags;

	while ((code = ERR_get_error_all(&file, &line, &func, &data,
	    &flags)) != 0) {
		if (n == SSLERR_MAX) {
			memmove(q, q + 1, sizeof(q[0]) * (SSLERR_MAX - 1));
			n--;
		}
		q[n].code = code;
		q[n].file = file;
		q[n].func = func;
		q[n].data = data;
		q[n].line = line;
		q[n].flags = flags;
		n++;
	}
	if (n == 0) {
		log_msg(LOG_ERR, "%s: Peer suddenly disconnected", what);
		return;
	}
	for (i = n; i-- > 1;)
		log_one("error queue", &q[i]);
	log_one(what, &q[0]);
}
