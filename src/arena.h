/* arena.h: the memory of a connection process (see arena.c). */
#ifndef STUNNEL_ARENA_H
#define STUNNEL_ARENA_H

#include <stddef.h>

int	 arena_init(void);
void	 arena_child(void);
void	*arena_alloc(size_t);
void	 arena_free(void *);
void	 arena_trim(void);

#endif
