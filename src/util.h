/* util.h: memory that cannot fail, strings, word tables, string lists,
 * the monotonic clock. */
#ifndef STUNNEL_UTIL_H
#define STUNNEL_UTIL_H

#include "common.h"

/* a growable array of strings, in the order they were added */
struct strlist {
	char	**v;
	size_t	  n;
};

/* one entry of a NULL-terminated keyword table */
struct word {
	const char	*name;
	int		 value;
};

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) PRINTF_LIKE(1, 2);
char	*xvasprintf(const char *, va_list) PRINTF_LIKE(1, 0);

char	*str_trim(char *);
int	 str_prefix(const char *, const char *);
int	 str_prefix_ci(const char *, const char *);
const char *str_signal(int, char *, size_t);
int	 str_hex_decode(const char *, unsigned char *, size_t, size_t *);
void	 str_hex_encode(const unsigned char *, size_t, char *, size_t);

int	 word_lookup(const struct word *, const char *, int *);
const char *word_name(const struct word *, int);

void	 strlist_add(struct strlist *, const char *);
void	 strlist_copy(struct strlist *, const struct strlist *);
void	 strlist_free(struct strlist *);

long long now_ms(void);

#endif
