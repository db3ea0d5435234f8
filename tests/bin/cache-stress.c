/*
 * NAME
 *	cache-stress - hammer the shared cache from many processes, kill
 *	some of them, and check that what is left is whole
 * SYNOPSIS
 *	cache-stress stress DIR [workers [seconds [domains [max_entries]]]]
 *	cache-stress fill DIR count
 *	cache-stress probe DIR
 *	cache-stress bench DIR iterations
 * DESCRIPTION
 *	stress: `workers' processes (default 32) each open the cache, run
 *	a short random batch of gets, puts, deletes and walks over
 *	`domains' keys (default 300), close it, and start again, like the
 *	short-lived delivery processes of an MTA.  Every record a worker
 *	writes is derived from its key and a sequence number, so whoever
 *	reads it back can tell whether it is whole.  The parent kills a
 *	random worker with SIGKILL every few tens of milliseconds and
 *	starts a replacement, for `seconds' (default 20); then it stops
 *	the workers and checks every record left.  Each operation runs
 *	under alarm(): a worker that hangs dies of SIGALRM, which counts
 *	as a failure, as does any death by a signal other than the
 *	injected SIGKILL, and any record that does not match its key.
 *
 *	fill: store `count' consistent records.  probe: open the cache,
 *	print every log line, read everything, check every record, then
 *	write and read back one; exit 0 when the cache works afterwards.
 *	bench: the cost of open + get + close, as a fresh process pays it.
 *
 *	The last line of stress and probe output is machine-readable.
 * DIAGNOSTICS
 *	Exit status 0 on success, 1 on a failed check, 2 on bad usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "util.h"
#include "decision.h"

#define MAX_WORKERS 256
#define OP_ALARM 10		/* seconds one cache operation may take */

struct slot {
	pid_t pid;
	unsigned long ops;
	unsigned long hits;
	unsigned long misses;
	unsigned long puts;
	unsigned long dels;
	unsigned long walks;
	unsigned long busy;	/* STSDANE_ERR_CACHE: proceeded uncached */
	unsigned long bad;	/* inconsistent records seen */
};

struct shared {
	volatile int stop;
	unsigned long verified;	/* interrupted writes verified */
	unsigned long aside;	/* warnings (moved aside, reset) */
	struct slot slot[MAX_WORKERS];
};

struct opts {
	const char *dir;
	int workers;
	int seconds;
	int domains;
	unsigned max_entries;
};

static uint64_t
rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
domain_name(int i, char *buf, size_t len)
{
	(void)sd_snprintf(buf, len, "d%04d.stress.example", i);
}

/* The one decision that (domain, seq) stands for. */
static struct stsdane_decision *
derive(const char *domain, uint64_t seq)
{
	struct stsdane_decision *d = decision_new(domain);
	char buf[300];
	size_t i, j;

	if (d == NULL)
		return NULL;
	d->mechanism = (enum stsdane_mechanism)(seq % 3);
	d->expires = 1000000000 + (int64_t)(seq % 100000);
	d->max_age = (uint32_t)(86400 + seq % 1000);
	if (decision_set_reason(d, "seq %llu for %s",
	    (unsigned long long)seq, domain) < 0)
		goto fail;
	switch (d->mechanism) {
	case STSDANE_MECH_MTASTS:
		d->mode = (enum stsdane_mode)(1 + seq % 2);
		d->require_tls = d->mode == STSDANE_MODE_ENFORCE;
		(void)sd_snprintf(buf, sizeof(buf), "id%llu",
		    (unsigned long long)seq);
		if ((d->policy_id = sd_strdup(buf)) == NULL)
			goto fail;
		for (i = 0; i < 1 + seq % 4; i++) {
			(void)sd_snprintf(buf, sizeof(buf), "mx%zu-%llu.%s", i,
			    (unsigned long long)seq, domain);
			if (decision_add_mx(d, buf) < 0)
				goto fail;
		}
		break;
	case STSDANE_MECH_DANE:
		d->mode = STSDANE_MODE_ENFORCE;
		d->require_tls = 1;
		d->ndane = 1 + seq % 3;
		d->dane = calloc(d->ndane, sizeof(*d->dane));
		if (d->dane == NULL) {
			d->ndane = 0;
			goto fail;
		}
		for (i = 0; i < d->ndane; i++) {
			struct stsdane_dane_host *h = &d->dane[i];

			(void)sd_snprintf(buf, sizeof(buf), "mx%zu.%s", i,
			    domain);
			h->name = sd_strdup(buf);
			h->base_domain = (seq + i) % 2 ? sd_strdup(buf) : NULL;
			h->preference = (unsigned)(10 * i);
			h->status = STSDANE_DANE_SECURE;
			h->ntlsa = 1 + (seq + i) % 3;
			h->tlsa = calloc(h->ntlsa, sizeof(*h->tlsa));
			if (h->name == NULL || h->tlsa == NULL) {
				h->ntlsa = 0;
				goto fail;
			}
			for (j = 0; j < h->ntlsa; j++) {
				struct stsdane_tlsa *t = &h->tlsa[j];
				size_t b;

				t->usage = 3;
				t->selector = 1;
				t->mtype = 1;
				t->len = 32;
				t->data = malloc(32);
				if (t->data == NULL)
					goto fail;
				for (b = 0; b < 32; b++)
					t->data[b] = (unsigned char)(seq * 7 +
					    i * 13 + j * 29 + b);
			}
		}
		break;
	default:
		d->problem = (enum stsdane_problem)(seq %
		    (STSDANE_PROBLEM_INTERNAL + 1));
		d->tempfail = d->problem == STSDANE_PROBLEM_DNS_TEMPFAIL;
		break;
	}
	return d;
fail:
	stsdane_decision_free(d);
	return NULL;
}

/*
 * Does a stored value match its key?  1 yes, 0 no, -1 out of memory.
 * Equality is checked on the encodings: derive() is deterministic.
 */
static int
consistent(const char *key, const unsigned char *val, size_t len)
{
	struct stsdane_decision *d = NULL, *want = NULL;
	unsigned char *enc = NULL;
	size_t enclen;
	int64_t learned;
	int ok = 0;

	if (strncmp(key, "sts/", 4) != 0)
		return 0;
	if (cache_record_decode(val, len, &d, &learned) != STSDANE_OK)
		return 0;
	if (strcmp(d->domain, key + 4) != 0)
		goto out;
	want = derive(key + 4, (uint64_t)learned);
	if (want == NULL) {
		ok = -1;
		goto out;
	}
	want->source = STSDANE_SOURCE_CACHE;	/* as decode sets it */
	d->source = STSDANE_SOURCE_CACHE;
	if (cache_record_encode(want, learned, &enc, &enclen) != STSDANE_OK) {
		ok = -1;
		goto out;
	}
	{
		unsigned char *back = NULL;
		size_t backlen;

		if (cache_record_encode(d, learned, &back, &backlen) ==
		    STSDANE_OK)
			ok = backlen == enclen &&
			    memcmp(back, enc, enclen) == 0;
		free(back);
	}
out:
	free(enc);
	stsdane_decision_free(d);
	stsdane_decision_free(want);
	return ok;
}

static int
put_derived(void *c, const char *domain, uint64_t seq)
{
	struct stsdane_decision *d = derive(domain, seq);
	unsigned char *enc;
	char key[300];
	size_t len;
	int rc;

	if (d == NULL)
		return STSDANE_ERR_NOMEM;
	rc = cache_record_encode(d, (int64_t)seq, &enc, &len);
	stsdane_decision_free(d);
	if (rc != STSDANE_OK)
		return rc;
	(void)sd_snprintf(key, sizeof(key), "sts/%s", domain);
	rc = cache_bdb_ops.put(c, key, enc, len);
	free(enc);
	return rc;
}

struct walk {
	unsigned long n;
	unsigned long bad;
	int verbose;
};

static int
walk_cb(void *arg, const char *key, const unsigned char *val, size_t len)
{
	struct walk *w = arg;

	w->n++;
	if (consistent(key, val, len) != 1) {
		w->bad++;
		if (w->verbose)
			printf("inconsistent record under '%s' (%zu bytes)\n",
			    key, len);
	}
	return 0;
}

/* Worker processes report through the shared page; keep its address. */
static struct shared *shm;

static void
worker_log(void *arg, int level, const char *msg)
{
	if (level <= 1)
		__atomic_add_fetch(&shm->aside, 1, __ATOMIC_RELAXED);
	else if (strstr(msg, "interrupted write") != NULL)
		__atomic_add_fetch(&shm->verified, 1, __ATOMIC_RELAXED);
}

static void
worker(const struct opts *o, int idx)
{
	struct slot *s = &shm->slot[idx];
	uint64_t seed = ((uint64_t)getpid() << 20) ^ (uint64_t)time(NULL) ^
	    (uint64_t)idx * 0x9e3779b97f4a7c15ull;
	char err[SD_ERRLEN], domain[64], key[128];

	if (seed == 0)
		seed = 1;
	while (!shm->stop) {
		int n = 1 + (int)(rnd(&seed) % 40), i;
		void *c;

		alarm(OP_ALARM);
		c = cache_bdb_open(o->dir, o->max_entries, worker_log, NULL,
		    err, sizeof(err));
		if (c == NULL) {
			fprintf(stderr, "worker: %s\n", err);
			_exit(4);
		}
		for (i = 0; i < n && !shm->stop; i++) {
			unsigned r = (unsigned)(rnd(&seed) % 100);
			int rc;

			domain_name((int)(rnd(&seed) % (uint64_t)o->domains),
			    domain, sizeof(domain));
			(void)sd_snprintf(key, sizeof(key), "sts/%s", domain);
			alarm(OP_ALARM);
			if (r < 60) {
				unsigned char *v = NULL;
				size_t len;

				rc = cache_bdb_ops.get(c, key, &v, &len);
				if (rc == STSDANE_OK) {
					s->hits++;
					if (consistent(key, v, len) != 1) {
						s->bad++;
						fprintf(stderr, "worker: bad "
						    "record under '%s'\n", key);
						_exit(3);
					}
				} else if (rc == STSDANE_ERR_NOTFOUND) {
					s->misses++;
				} else {
					s->busy++;
				}
				free(v);
			} else if (r < 92) {
				rc = put_derived(c, domain, rnd(&seed) >> 24);
				if (rc == STSDANE_OK)
					s->puts++;
				else
					s->busy++;
			} else if (r < 99) {
				rc = cache_bdb_ops.del(c, key);
				if (rc == STSDANE_OK ||
				    rc == STSDANE_ERR_NOTFOUND)
					s->dels++;
				else
					s->busy++;
			} else {
				struct walk w = {0, 0, 0};

				rc = cache_bdb_ops.foreach(c, walk_cb, &w);
				if (rc != STSDANE_OK)
					s->busy++;
				else
					s->walks++;
				if (w.bad > 0) {
					s->bad += w.bad;
					fprintf(stderr, "worker: %lu bad "
					    "records in walk\n", w.bad);
					_exit(3);
				}
			}
			s->ops++;
		}
		cache_bdb_close(c);
	}
	alarm(0);
	_exit(0);
}

static pid_t
spawn(const struct opts *o, int idx)
{
	pid_t pid = fork();

	if (pid == 0)
		worker(o, idx);
	if (pid > 0)
		shm->slot[idx].pid = pid;
	return pid;
}

struct tally {
	unsigned long kills;
	unsigned long hung;		/* died of SIGALRM */
	unsigned long crashed;		/* other signals */
	unsigned long failed;		/* non-zero exit */
};

/* Account for one dead worker; `killed' when we sent the SIGKILL. */
static void
reaped(struct tally *t, int status, int killed)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		if (sig == SIGKILL && killed)
			return;
		if (sig == SIGALRM) {
			t->hung++;
			printf("worker hung (watchdog fired)\n");
		} else {
			t->crashed++;
			printf("worker died of signal %d\n", sig);
		}
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		t->failed++;
		printf("worker exited with status %d\n", WEXITSTATUS(status));
	}
}

static int
slot_of(int nworkers, pid_t pid)
{
	int i;

	for (i = 0; i < nworkers; i++)
		if (shm->slot[i].pid == pid)
			return i;
	return -1;
}

static int
final_check(const struct opts *o, unsigned long *checked,
    unsigned long *bad)
{
	char err[SD_ERRLEN], domain[64], key[128];
	struct walk w = {0, 0, 1};
	void *c;
	int i;

	c = cache_bdb_open(o->dir, o->max_entries, NULL, NULL, err,
	    sizeof(err));
	if (c == NULL) {
		printf("final open failed: %s\n", err);
		return -1;
	}
	if (cache_bdb_ops.foreach(c, walk_cb, &w) != STSDANE_OK) {
		printf("final walk failed\n");
		cache_bdb_close(c);
		return -1;
	}
	for (i = 0; i < o->domains; i++) {
		unsigned char *v = NULL;
		size_t len;
		int rc;

		domain_name(i, domain, sizeof(domain));
		(void)sd_snprintf(key, sizeof(key), "sts/%s", domain);
		rc = cache_bdb_ops.get(c, key, &v, &len);
		if (rc == STSDANE_OK) {
			w.n++;
			if (consistent(key, v, len) != 1) {
				w.bad++;
				printf("inconsistent get of '%s'\n", key);
			}
		} else if (rc != STSDANE_ERR_NOTFOUND) {
			printf("final get of '%s' failed: %d\n", key, rc);
			w.bad++;
		}
		free(v);
	}
	cache_bdb_close(c);
	*checked = w.n;
	*bad = w.bad;
	return 0;
}

static int
run_stress(const struct opts *o)
{
	struct tally t = {0, 0, 0, 0};
	unsigned long ops = 0, hits = 0, misses = 0, puts = 0, dels = 0;
	unsigned long walks = 0, busy = 0, bad = 0, checked = 0, fbad = 0;
	uint64_t seed = (uint64_t)getpid() * 2654435761u + 1;
	double t0, t1, deadline;
	int i, status, left, failed;
	pid_t pid;

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(shm, 0, sizeof(*shm));
	fflush(stdout);
	t0 = now_s();
	for (i = 0; i < o->workers; i++)
		if (spawn(o, i) < 0) {
			perror("fork");
			return 1;
		}
	deadline = t0 + o->seconds;
	while (now_s() < deadline) {
		struct timespec ts;
		long ms = 5 + (long)(rnd(&seed) % 60);

		ts.tv_sec = 0;
		ts.tv_nsec = ms * 1000000;
		(void)nanosleep(&ts, NULL);
		/* workers that died on their own */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			reaped(&t, status, 0);
			if ((i = slot_of(o->workers, pid)) >= 0)
				(void)spawn(o, i);
		}
		i = (int)(rnd(&seed) % (uint64_t)o->workers);
		pid = shm->slot[i].pid;
		if (kill(pid, SIGKILL) == 0) {
			t.kills++;
			if (waitpid(pid, &status, 0) == pid)
				reaped(&t, status, 1);
			(void)spawn(o, i);
		}
	}
	shm->stop = 1;
	/* every worker must finish its batch and leave, in bounded time */
	left = o->workers;
	deadline = now_s() + OP_ALARM + 5;
	while (left > 0 && now_s() < deadline) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			reaped(&t, status, 0);
			left--;
			continue;
		}
		(void)usleep(10000);
	}
	if (left > 0) {
		printf("%d workers did not stop\n", left);
		t.hung += (unsigned long)left;
		for (i = 0; i < o->workers; i++)
			(void)kill(shm->slot[i].pid, SIGKILL);
		while (waitpid(-1, &status, 0) > 0)
			;
	}
	t1 = now_s();
	for (i = 0; i < o->workers; i++) {
		const struct slot *s = &shm->slot[i];

		ops += s->ops;
		hits += s->hits;
		misses += s->misses;
		puts += s->puts;
		dels += s->dels;
		walks += s->walks;
		busy += s->busy;
		bad += s->bad;
	}
	if (final_check(o, &checked, &fbad) < 0)
		fbad++;
	printf("workers %d, domains %d, max_entries %u, %.1f s\n", o->workers,
	    o->domains, o->max_entries, t1 - t0);
	printf("operations %lu (%.0f/s): gets %lu hit / %lu miss, puts %lu, "
	    "dels %lu, walks %lu, gave up on busy lock %lu\n", ops,
	    (double)ops / (t1 - t0), hits, misses, puts, dels, walks, busy);
	printf("kills injected %lu; interrupted writes verified %lu; "
	    "warnings logged %lu\n", t.kills, shm->verified, shm->aside);
	printf("hung %lu, crashed %lu, failed %lu, inconsistent seen %lu\n",
	    t.hung, t.crashed, t.failed, bad);
	printf("records checked %lu, inconsistent %lu\n", checked, fbad);
	failed = t.hung || t.crashed || t.failed || bad || fbad ||
	    checked == 0 || t.kills == 0;
	printf("RESULT %s ops=%lu ops_per_s=%.0f kills=%lu checked=%lu "
	    "hung=%lu crashed=%lu bad=%lu\n", failed ? "FAIL" : "PASS", ops,
	    (double)ops / (t1 - t0), t.kills, checked, t.hung, t.crashed,
	    bad + fbad);
	return failed ? 1 : 0;
}

static int
run_fill(const char *dir, int count)
{
	char err[SD_ERRLEN], domain[64];
	void *c;
	int i;

	c = cache_bdb_open(dir, 100000, NULL, NULL, err, sizeof(err));
	if (c == NULL) {
		printf("open failed: %s\n", err);
		return 1;
	}
	for (i = 0; i < count; i++) {
		domain_name(i, domain, sizeof(domain));
		if (put_derived(c, domain, (uint64_t)i * 7919 + 1) !=
		    STSDANE_OK) {
			printf("put '%s' failed\n", domain);
			cache_bdb_close(c);
			return 1;
		}
	}
	cache_bdb_close(c);
	return 0;
}

static void
probe_log(void *arg, int level, const char *msg)
{
	int *n = arg;

	if (level <= 1)
		(*n)++;
	printf("log %d: %s\n", level, msg);
}

static int
run_probe(const char *dir)
{
	char err[SD_ERRLEN], domain[64], key[128];
	struct walk w = {0, 0, 1};
	unsigned char *v = NULL;
	int lines = 0, ok = 1, rc, i;
	size_t len;
	void *c;

	c = cache_bdb_open(dir, 100000, probe_log, &lines, err, sizeof(err));
	if (c == NULL) {
		printf("open failed: %s\nPROBE FAIL lines=%d\n", err, lines);
		return 1;
	}
	if (cache_bdb_ops.foreach(c, walk_cb, &w) != STSDANE_OK) {
		printf("walk failed\n");
		ok = 0;
	}
	for (i = 0; i < 50; i++) {
		domain_name(i, domain, sizeof(domain));
		(void)sd_snprintf(key, sizeof(key), "sts/%s", domain);
		rc = cache_bdb_ops.get(c, key, &v, &len);
		if (rc == STSDANE_OK) {
			w.n++;
			if (consistent(key, v, len) != 1)
				w.bad++;
		} else if (rc != STSDANE_ERR_NOTFOUND) {
			printf("get '%s' failed: %d\n", key, rc);
			ok = 0;
		}
		free(v);
		v = NULL;
	}
	domain_name(99999, domain, sizeof(domain));
	(void)sd_snprintf(key, sizeof(key), "sts/%s", domain);
	if (put_derived(c, domain, 4242) != STSDANE_OK) {
		printf("put after damage failed\n");
		ok = 0;
	} else if (cache_bdb_ops.get(c, key, &v, &len) != STSDANE_OK ||
	    consistent(key, v, len) != 1) {
		printf("get after put failed\n");
		ok = 0;
	}
	free(v);
	cache_bdb_close(c);
	if (w.bad > 0)
		ok = 0;
	printf("PROBE %s lines=%d records=%lu bad=%lu\n", ok ? "OK" : "FAIL",
	    lines, w.n, w.bad);
	return ok ? 0 : 1;
}

static int
run_bench(const char *dir, int iterations)
{
	char err[SD_ERRLEN], domain[64], key[128];
	double t0, open_get = 0, warm = 0;
	unsigned char *v;
	size_t len;
	void *c;
	int i;

	domain_name(1, domain, sizeof(domain));
	(void)sd_snprintf(key, sizeof(key), "sts/%s", domain);
	for (i = 0; i < iterations; i++) {
		t0 = now_s();
		c = cache_bdb_open(dir, 100000, NULL, NULL, err, sizeof(err));
		if (c == NULL) {
			printf("open failed: %s\n", err);
			return 1;
		}
		if (cache_bdb_ops.get(c, key, &v, &len) == STSDANE_OK)
			free(v);
		open_get += now_s() - t0;
		t0 = now_s();
		if (cache_bdb_ops.get(c, key, &v, &len) == STSDANE_OK)
			free(v);
		warm += now_s() - t0;
		cache_bdb_close(c);
	}
	printf("open + first get: %.1f us; further get: %.1f us "
	    "(mean of %d)\n", open_get / iterations * 1e6,
	    warm / iterations * 1e6, iterations);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: cache-stress stress DIR [workers [seconds "
	    "[domains [max_entries]]]]\n"
	    "       cache-stress fill DIR count\n"
	    "       cache-stress probe DIR\n"
	    "       cache-stress bench DIR iterations\n");
	return 2;
}

static int
num(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = {NULL, 32, 20, 300, 200};
	int n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3)
		return usage();
	o.dir = argv[2];
	if (strcmp(argv[1], "stress") == 0) {
		if ((argc > 3 && num(argv[3], 1, MAX_WORKERS, &o.workers) < 0) ||
		    (argc > 4 && num(argv[4], 1, 3600, &o.seconds) < 0) ||
		    (argc > 5 && num(argv[5], 1, 100000, &o.domains) < 0))
			return usage();
		if (argc > 6) {
			if (num(argv[6], 1, 1000000, &n) < 0)
				return usage();
			o.max_entries = (unsigned)n;
		}
		return run_stress(&o);
	}
	if (strcmp(argv[1], "fill") == 0 && argc == 4 &&
	    num(argv[3], 0, 1000000, &n) == 0)
		return run_fill(o.dir, n);
	if (strcmp(argv[1], "probe") == 0 && argc == 3)
		return run_probe(o.dir);
	if (strcmp(argv[1], "bench") == 0 && argc == 4 &&
	    num(argv[3], 1, 1000000, &n) == 0)
		return run_bench(o.dir, n);
	return usage();
}
