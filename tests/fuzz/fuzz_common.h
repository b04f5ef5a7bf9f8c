/*
 * fuzz_common.h: what every libFuzzer target of tests/fuzz shares: a
 * scratch directory with a test CA, certificate, key, CRL and PSK file,
 * a quiet log, loading a configuration, splitting an input into parts,
 * and the stand-ins (linked with --wrap) that keep the daemon's code off
 * the network: numeric-only name resolution, connect() handed a
 * socketpair, bind() refused.
 */
#ifndef STUNNEL_FUZZ_COMMON_H
#define STUNNEL_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

struct global;

/* one part of an input split at a marker */
struct fuzz_part {
	const uint8_t	*p;
	size_t		 len;
};

void	 fuzz_init(void);
const char *fuzz_dir(void);
char	*fuzz_path(const char *);
void	 fuzz_write(const char *, const void *, size_t);
size_t	 fuzz_split(const uint8_t *, size_t, const char *, struct fuzz_part *,
	    size_t);
struct global *fuzz_load_config(const char *);
struct service *fuzz_section(const struct global *, const char *);

/*
 * For a self-test: the daemon's log goes to a file of the scratch
 * directory from fuzz_log_begin() until fuzz_log_end(), which returns
 * the lines written (to be freed) and makes the log quiet again.
 */
void	 fuzz_log_begin(void);
char	*fuzz_log_end(void);

/*
 * The next connect() made by the daemon's code gets a socketpair whose
 * other end has sent DATA (then EOF for a stream, one datagram for
 * SOCK_DGRAM); any other connect() fails with ECONNREFUSED.
 */
void	 fuzz_peer_arm(const void *, size_t);
void	 fuzz_peer_reset(void);

/* a 200 ms "does the client speak first?" poll answers "it waits" */
extern int fuzz_client_waits;

#endif
