/*
 * sesscache.c: the session cache that every child sees.
 *
 * In a fork-per-connection daemon each child's OpenSSL cache dies with
 * it, so a client coming back with a TLS 1.2 session id would never
 * resume. This cache lives in an anonymous shared mapping made by the
 * parent before any fork: a fixed number of slots (sessionCacheSize),
 * each holding one DER-encoded session, the least recently used one
 * replaced when full, under a process-shared robust mutex so that a
 * child dying while it holds the lock cannot wedge the others. Server
 * sections store sessions by id through OpenSSL's new/get/remove
 * callbacks; client sections keep the last session of the service in
 * one slot and offer it on the next connection. A server section with
 * "sessiond" keeps its sessions in that external cache instead
 * (sessiond.c), through the same callbacks. Must never hold the lock
 * across anything but a copy.
 */
#include "common.h"
#include "sesscache.h"
#include "log.h"
#include "sessiond.h"
#include "util.h"

#include <pthread.h>
#include <sys/mman.h>
#include <time.h>

#define SLOT_DATA_MAX	6144
#define SLOTS_UNLIMITED	20000	/* sessionCacheSize = 0 */
#define CLIENT_KEY	"\001client"

/*
 * The slots' descriptions are kept apart from their data, so that a
 * search touches a few pages of the mapping, not one page per slot:
 * every page a child touches first costs it a fault.
 */
struct slot {
	int		 used;
	unsigned	 key_len;
	unsigned char	 key[SSL_MAX_SSL_SESSION_ID_LENGTH];
	time_t		 expires;
	unsigned long	 stamp;		/* for least-recently-used replacement */
	unsigned	 len;
};

struct shared {
	pthread_mutex_t	 lock;
	unsigned long	 clock;
	size_t		 nslots;
	struct slot	 slots[];	/* then nslots * SLOT_DATA_MAX of data */
};

struct sesscache {
	struct shared	*shm;		/* NULL with a sessiond */
	size_t		 size;		/* of the mapping */
	long		 timeout;	/* seconds */
	const struct addr *sessiond;
};

static int ex_index = -1;

struct sesscache *
sesscache_new(const struct service *svc)
{
	struct sesscache *cache;
	pthread_mutexattr_t attr;
	size_t nslots = svc->client ? 1 : svc->session_cache_size != 0 ?
	    svc->session_cache_size : SLOTS_UNLIMITED;
	void *p;

	cache = xcalloc(1, sizeof(*cache));
	if (svc->sessiond != NULL && !svc->client) {
		cache->sessiond = &svc->sessiond_addr;
		return cache;
	}
	cache->size = sizeof(struct shared) + nslots * (sizeof(struct slot) +
	    SLOT_DATA_MAX);
	cache->timeout = (long)svc->session_cache_timeout;
	p = mmap(NULL, cache->size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_errno("mmap (session cache)");
		free(cache);
		return NULL;
	}
	cache->shm = p;
	cache->shm->nslots = nslots;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&cache->shm->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return cache;
}

void
sesscache_free(struct sesscache *cache)
{
	if (cache == NULL)
		return;
	if (cache->shm != NULL)
		munmap(cache->shm, cache->size);
	free(cache);
}

/* a child that died holding the lock leaves it usable, not wedged */
static void
lock(struct shared *shm)
{
	if (pthread_mutex_lock(&shm->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&shm->lock);
}

static void
unlock(struct shared *shm)
{
	pthread_mutex_unlock(&shm->lock);
}

static unsigned char *
data_of(struct shared *shm, const struct slot *slot)
{
	unsigned char *base = (unsigned char *)&shm->slots[shm->nslots];

	return base + (size_t)(slot - shm->slots) * SLOT_DATA_MAX;
}

static struct slot *
find(struct shared *shm, const unsigned char *key, unsigned len)
{
	size_t i;

	for (i = 0; i < shm->nslots; i++)
		if (shm->slots[i].used && shm->slots[i].key_len == len &&
		    memcmp(shm->slots[i].key, key, len) == 0)
			return &shm->slots[i];
	return NULL;
}

/* a free or expired slot, else the least recently used one */
static struct slot *
victim(struct shared *shm, time_t now)
{
	struct slot *best = &shm->slots[0];
	size_t i;

	for (i = 0; i < shm->nslots; i++) {
		if (!shm->slots[i].used || shm->slots[i].expires < now)
			return &shm->slots[i];
		if (shm->slots[i].stamp < best->stamp)
			best = &shm->slots[i];
	}
	return best;
}

static void
store(struct sesscache *cache, const unsigned char *key, unsigned key_len,
    SSL_SESSION *sess)
{
	unsigned char buf[SLOT_DATA_MAX], *p = buf;
	time_t now = time(NULL);
	struct slot *slot;
	int len;

	if (cache->sessiond != NULL) {
		sessiond_store(cache->sessiond, key, key_len, sess);
		return;
	}
	len = i2d_SSL_SESSION(sess, NULL);
	if (len <= 0 || len > SLOT_DATA_MAX || key_len > sizeof(slot->key))
		return;
	i2d_SSL_SESSION(sess, &p);
	lock(cache->shm);
	slot = find(cache->shm, key, key_len);
	if (slot == NULL)
		slot = victim(cache->shm, now);
	slot->used = 1;
	slot->key_len = key_len;
	memcpy(slot->key, key, key_len);
	slot->expires = now + cache->timeout;
	slot->stamp = ++cache->shm->clock;
	slot->len = (unsigned)len;
	memcpy(data_of(cache->shm, slot), buf, (size_t)len);
	unlock(cache->shm);
}

static SSL_SESSION *
fetch(struct sesscache *cache, const unsigned char *key, unsigned key_len)
{
	unsigned char buf[SLOT_DATA_MAX];
	const unsigned char *p = buf;
	struct slot *slot;
	unsigned len = 0;

	if (cache->sessiond != NULL)
		return sessiond_fetch(cache->sessiond, key, key_len);
	lock(cache->shm);
	slot = find(cache->shm, key, key_len);
	if (slot != NULL && slot->expires >= time(NULL)) {
		len = slot->len;
		memcpy(buf, data_of(cache->shm, slot), len);
		slot->stamp = ++cache->shm->clock;
	}
	unlock(cache->shm);
	return len > 0 ? d2i_SSL_SESSION(NULL, &p, (long)len) : NULL;
}

static void
drop(struct sesscache *cache, const unsigned char *key, unsigned key_len)
{
	struct slot *slot;

	if (cache->sessiond != NULL) {
		sessiond_drop(cache->sessiond, key, key_len);
		return;
	}
	lock(cache->shm);
	slot = find(cache->shm, key, key_len);
	if (slot != NULL)
		slot->used = 0;
	unlock(cache->shm);
}

static struct sesscache *
cache_of(SSL_CTX *ctx)
{
	return SSL_CTX_get_ex_data(ctx, ex_index);
}

static int
new_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct sesscache *cache = cache_of(SSL_get_SSL_CTX(ssl));
	char hex[2 * SSL_MAX_SSL_SESSION_ID_LENGTH + 1];
	const unsigned char *id;
	unsigned len;

	log_msg(LOG_DEBUG, "New session callback");
	id = SSL_SESSION_get_id(sess, &len);
	if (!SSL_is_server(ssl)) {
		if (SSL_SESSION_is_resumable(sess))
			store(cache, (const unsigned char *)CLIENT_KEY,
			    sizeof(CLIENT_KEY) - 1, sess);
	} else if (SSL_version(ssl) < TLS1_3_VERSION ||
	    (SSL_get_options(ssl) & SSL_OP_NO_TICKET)) {
		/* TLS 1.3 tickets carry the session: no lookup by id follows */
		store(cache, id, len, sess);
	}
	str_hex_encode(id, len, hex, sizeof(hex));
	log_msg(LOG_INFO, "Session id: %s", hex);
	return 0;	/* we keep no reference */
}

static SSL_SESSION *
get_cb(SSL *ssl, const unsigned char *id, int len, int *copy)
{
	log_msg(LOG_DEBUG, "Get session callback");
	*copy = 0;
	return fetch(cache_of(SSL_get_SSL_CTX(ssl)), id, (unsigned)len);
}

static void
remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
	const unsigned char *id;
	unsigned len;

	log_msg(LOG_DEBUG, "Remove session callback");
	id = SSL_SESSION_get_id(sess, &len);
	drop(cache_of(ctx), id, len);
}

/* Sessions of CTX go through CACHE instead of OpenSSL's own cache. */
void
sesscache_attach(struct sesscache *cache, SSL_CTX *ctx, int client)
{
	if (ex_index < 0)
		ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	SSL_CTX_set_ex_data(ctx, ex_index, cache);
	SSL_CTX_sess_set_new_cb(ctx, new_cb);
	if (client) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
		    SSL_SESS_CACHE_NO_INTERNAL_STORE);
		return;
	}
	SSL_CTX_sess_set_get_cb(ctx, get_cb);
	SSL_CTX_sess_set_remove_cb(ctx, remove_cb);
	/* as in stunnel: with a sessiond, sessions are looked up by id only */
	if (cache->sessiond != NULL)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER |
	    SSL_SESS_CACHE_NO_INTERNAL);
}

/* client sections: offer the service's last session, if there is one */
void
sesscache_offer(SSL *ssl)
{
	struct sesscache *cache = cache_of(SSL_get_SSL_CTX(ssl));
	SSL_SESSION *sess;
	char hex[2 * SSL_MAX_SSL_SESSION_ID_LENGTH + 1];
	const unsigned char *id;
	unsigned len, i;

	if (cache == NULL)
		return;
	sess = fetch(cache, (const unsigned char *)CLIENT_KEY,
	    sizeof(CLIENT_KEY) - 1);
	if (sess == NULL) {
		log_msg(LOG_DEBUG, "No previous session to resume");
		return;
	}
	id = SSL_SESSION_get_id(sess, &len);
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02X", id[i]);
	hex[2 * len] = '\0';
	log_msg(LOG_INFO, "Attempting to resume: %s", hex);
	SSL_set_session(ssl, sess);
	SSL_SESSION_free(sess);
}
