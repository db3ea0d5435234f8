/*
 * NAME
 *	ans-stress - many processes reading and writing the answers file,
 *	killed with SIGKILL at random
 * SYNOPSIS
 *	ans-stress DIR WORKERS SECONDS DOMAINS
 * DESCRIPTION
 *	Each worker, for SECONDS, picks a domain dN.test and either stores a
 *	decision whose content follows from the domain and a sequence number
 *	(mx "mSEQ.dN.test", id "sSEQ") or reads one and checks that whatever
 *	it gets belongs to that domain.  The parent kills a random worker
 *	every 2 to 20 ms and starts another in its place.  A worker that
 *	reads a wrong answer exits 3; one that hangs is stopped by alarm().
 *	At the end every slot is read once more and checked the same way.
 *
 *	Prints one line of figures and "RESULT PASS" or "RESULT FAIL".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "util.h"
#include "decision.h"

static int
consistent(const struct stsdane_decision *d, const char *domain)
{
	char suffix[64];
	size_t n, m;

	if (strcmp(d->domain, domain) != 0 || d->nmx != 1 ||
	    d->policy_id == NULL || d->policy_id[0] != 's')
		return 0;
	snprintf(suffix, sizeof(suffix), ".%s", domain);
	n = strlen(d->mx[0]);
	m = strlen(suffix);
	return n > m && strcmp(d->mx[0] + n - m, suffix) == 0;
}

static int
worker(const char *dir, int seconds, int domains, unsigned seed)
{
	struct ans_file *a = ans_open(dir, NULL, NULL);
	time_t end = time(NULL) + seconds;
	unsigned long seq = 0, ops = 0;
	char name[32], buf[64];

	if (a == NULL)
		return 4;
	srand(seed);
	alarm((unsigned)seconds + 10);
	while (time(NULL) < end) {
		struct stsdane_decision *d;

		snprintf(name, sizeof(name), "d%d.test", rand() % domains);
		if (rand() % 2) {
			d = decision_new(name);
			if (d == NULL)
				return 4;
			d->mechanism = STSDANE_MECH_MTASTS;
			d->mode = STSDANE_MODE_ENFORCE;
			d->expires = time(NULL) + 3600;
			snprintf(buf, sizeof(buf), "s%lu", ++seq);
			d->policy_id = sd_strdup(buf);
			snprintf(buf, sizeof(buf), "m%lu.%s", seq, name);
			decision_add_mx(d, buf);
			decision_set_reason(d, "stress %s", name);
			ans_put(a, d, time(NULL));
			stsdane_decision_free(d);
		} else {
			d = ans_get(a, name, time(NULL));
			if (d != NULL && !consistent(d, name))
				return 3;
			stsdane_decision_free(d);
		}
		ops++;
	}
	ans_close(a);
	return 0;
}

int
main(int argc, char **argv)
{
	int workers, seconds, domains, i, kills = 0, crashed = 0, bad = 0;
	int hung = 0, started = 0, checked = 0, present = 0;
	pid_t *pids;
	time_t end;
	struct ans_file *a;

	if (argc != 5) {
		fprintf(stderr, "usage: ans-stress DIR WORKERS SECONDS DOMAINS\n");
		return 2;
	}
	workers = atoi(argv[2]);
	seconds = atoi(argv[3]);
	domains = atoi(argv[4]);
	pids = calloc((size_t)workers, sizeof(*pids));
	if (pids == NULL || workers < 1 || seconds < 1 || domains < 1)
		return 2;
	end = time(NULL) + seconds;
	srand((unsigned)getpid());
	for (;;) {
		int status;
		pid_t pid;

		for (i = 0; i < workers; i++) {
			if (pids[i] != 0 || time(NULL) >= end)
				continue;
			pid = fork();
			if (pid == 0)
				_exit(worker(argv[1], (int)(end - time(NULL)) + 1,
				    domains, (unsigned)(getpid() ^ started)));
			if (pid > 0) {
				pids[i] = pid;
				started++;
			}
		}
		if (time(NULL) < end) {
			struct timespec ts = { 0, (2 + rand() % 18) * 1000000L };

			nanosleep(&ts, NULL);
			i = rand() % workers;
			if (pids[i] != 0 && kill(pids[i], SIGKILL) == 0)
				kills++;
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < workers; i++)
				if (pids[i] == pid)
					pids[i] = 0;
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
				continue;
			if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
				hung++;
			else if (WIFSIGNALED(status))
				crashed++;
			else if (WEXITSTATUS(status) == 3)
				bad++;
			else if (WEXITSTATUS(status) != 0)
				crashed++;
		}
		if (time(NULL) >= end) {
			int left = 0;

			for (i = 0; i < workers; i++)
				left += pids[i] != 0;
			if (left == 0)
				break;
			usleep(10000);
		}
	}
	a = ans_open(argv[1], NULL, NULL);
	for (i = 0; a != NULL && i < domains; i++) {
		struct stsdane_decision *d;
		char name[64];

		snprintf(name, sizeof(name), "d%d.test", i);
		d = ans_get(a, name, time(NULL));
		checked++;
		if (d != NULL) {
			present++;
			if (!consistent(d, name))
				bad++;
		}
		stsdane_decision_free(d);
	}
	ans_close(a);
	printf("    workers %d, %d s, %d domains: started %d, kills %d, "
	    "crashed %d, hung %d, wrong answers %d; slots checked %d, "
	    "answers present %d\n", workers, seconds, domains, started, kills,
	    crashed, hung, bad, checked, present);
	printf("RESULT %s\n", crashed || hung || bad || a == NULL ? "FAIL" :
	    "PASS");
	return crashed || hung || bad ? 1 : 0;
}
