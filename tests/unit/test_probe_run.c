/*
 * test_probe_run.c - the probe's host list and addresses, on the
 * scheduler with faked DNS (src/tls/probe_run.c)
 */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "decision.h"
#include "fakes.h"
#include "smtp.h"

/* A loopback port nobody listens on: bound, then closed. */
static unsigned
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void
add_host(struct stsdane_decision *d, const char *name, unsigned pref)
{
	struct stsdane_dane_host *h = realloc(d->dane,
	    (d->ndane + 1) * sizeof(*h));

	cr_assert_not_null(h);
	d->dane = h;
	memset(&h[d->ndane], 0, sizeof(*h));
	h[d->ndane].name = sd_strdup(name);
	h[d->ndane].base_domain = sd_strdup(name);
	h[d->ndane].preference = pref;
	d->ndane++;
}

static const struct stsdane_probe_host *
host(const struct stsdane_probe *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nhosts; i++)
		if (strcmp(p->hosts[i].name, name) == 0)
			return &p->hosts[i];
	cr_assert_fail("host '%s' not probed", name);
	return NULL;
}

/* The hosts come from the decision; DNS goes through decide_env. */
Test(probe_run, hosts_from_decision_dns_faked)
{
	struct fake_env w;
	struct stsdane_probe *p = calloc(1, sizeof(*p));
	struct stsdane_decision *d = decision_new("a.test");
	const struct stsdane_probe_host *h;

	fake_env_init(&w, 0);
	w.settings.smtp_port = closed_port();
	d->mechanism = STSDANE_MECH_MTASTS;
	d->mode = STSDANE_MODE_ENFORCE;
	d->require_tls = 1;
	cr_assert_eq(decision_add_mx(d, "*.a.test"), 0);
	add_host(d, "mx1.a.test", 10);
	add_host(d, "mx2.a.test", 20);
	add_host(d, "mx3.a.test", 30);
	add_host(d, "mx.other.test", 40);
	cr_assert_eq(fake_dns_answer(&w.dns, "mx1.a.test", DNS_T_A, 0, 60,
	    "127.0.0.1", NULL), 0);
	cr_assert_eq(fake_dns_status(&w.dns, "mx2.a.test", DNS_T_A,
	    DNS_NODATA, 0, 60), 0);
	cr_assert_eq(fake_dns_hang(&w.dns, "mx3.a.test", DNS_T_A), 0);
	cr_assert_eq(fake_dns_hang(&w.dns, "mx3.a.test", DNS_T_AAAA), 0);

	cr_assert_not_null(p);
	p->decision = d;		/* the probe owns it from now on */
	p->hosts = calloc(SD_MAX_MX_HOSTS, sizeof(*p->hosts));
	cr_assert_not_null(p->hosts);
	cr_assert_eq(take_hosts(p), STSDANE_OK);
	cr_assert_eq(p->nhosts, 4);
	probe_hosts(NULL, &w.env, p);

	h = host(p, "mx1.a.test");
	cr_expect_str_eq(h->verdict, "connect-failed", "mx1: %s", h->reason);
	cr_expect(h->allowed);
	h = host(p, "mx2.a.test");
	cr_expect_str_eq(h->verdict, "no-address", "mx2: %s", h->reason);
	h = host(p, "mx3.a.test");
	cr_expect_str_eq(h->verdict, "timeout", "mx3: %s", h->reason);
	h = host(p, "mx.other.test");
	cr_expect_str_eq(h->verdict, "not-allowed");
	cr_expect(!h->allowed);
	cr_expect_eq(fake_dns_asked(&w.dns, "mx.other.test", 0), 0,
	    "a refused host was looked up");

	stsdane_probe_free(p);
	fake_env_release(&w);
}
