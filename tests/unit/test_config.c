/*
 * test_config.c - settings_*(): keys, values and the configuration file
 */
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "config.h"

struct set_case {
	const char *key;
	const char *value;
	int rc;
	const char *get;	/* settings_get() afterwards, on success */
	const char *err;	/* substring of err, on failure */
};

static const struct set_case set_cases[] = {
	/* timeouts */
	{"dns_timeout", "2", 0, "2", NULL},
	{"dns_timeout", "2.5", 0, "2.5", NULL},
	{"dns_timeout", "2.50", 0, "2.5", NULL},
	{"dns_timeout", "0.1", 0, "0.1", NULL},
	{"dns_timeout", "0.125", 0, "0.125", NULL},
	{"dns_timeout", "1.05", 0, "1.05", NULL},
	{"dns_timeout", "300", 0, "300", NULL},
	{"dns_timeout", "300.000", 0, "300", NULL},
	{"dns_timeout", "007", 0, "7", NULL},
	{"fetch_timeout", "10", 0, "10", NULL},
	{"dns_timeout", "abc", -1, NULL,
	    "dns_timeout: 'abc' is not a number of seconds"},
	{"dns_timeout", "", -1, NULL, "'' is not a number of seconds"},
	{"dns_timeout", "5s", -1, NULL, "not a number"},
	{"dns_timeout", "-1", -1, NULL, "not a number"},
	{"dns_timeout", "+1", -1, NULL, "not a number"},
	{"dns_timeout", " 1", -1, NULL, "not a number"},
	{"dns_timeout", "1e2", -1, NULL, "not a number"},
	{"dns_timeout", "0x10", -1, NULL, "not a number"},
	{"dns_timeout", ".5", -1, NULL, "not a number"},
	{"dns_timeout", "5.", -1, NULL, "not a number"},
	{"dns_timeout", "1.0001", -1, NULL, "not a number"},
	{"dns_timeout", "1,5", -1, NULL, "not a number"},
	{"dns_timeout", "0.09", -1, NULL, "out of range"},
	{"dns_timeout", "0", -1, NULL, "out of range"},
	{"dns_timeout", "300.001", -1, NULL, "out of range"},
	{"fetch_timeout", "99999999999999999999", -1, NULL, "out of range"},

	/* whole numbers */
	{"negative_ttl", "0", 0, "0", NULL},
	{"negative_ttl", "86400", 0, "86400", NULL},
	{"negative_ttl", "86401", -1, NULL, "negative_ttl: '86401' is not a "
	    "whole number from 0 to 86400"},
	{"negative_ttl", "1.5", -1, NULL, "not a whole number"},
	{"smtp_port", "25", 0, "25", NULL},
	{"smtp_port", "65535", 0, "65535", NULL},
	{"smtp_port", "0", -1, NULL, "from 1 to 65535"},
	{"smtp_port", "65536", -1, NULL, "from 1 to 65535"},
	{"smtp_port", "4294967321", -1, NULL, "from 1 to 65535"},
	{"smtp_port", "", -1, NULL, "smtp_port: ''"},
	{"cache_max_entries", "1", 0, "1", NULL},
	{"cache_max_entries", "0", -1, NULL, "cache_max_entries"},
	{"refresh_host_concurrency", "0", 0, "0", NULL},
	{"refresh_host_concurrency", "1024", 0, "1024", NULL},
	{"refresh_host_concurrency", "1025", -1, NULL,
	    "refresh_host_concurrency: '1025' is not a whole number from 0 "
	    "to 1024"},
	{"refresh_host_rate", "0", 0, "0", NULL},
	{"refresh_host_rate", "10000", 0, "10000", NULL},
	{"refresh_host_rate", "10001", -1, NULL, "refresh_host_rate: '10001' "
	    "is not a whole number from 0 to 10000"},
	{"refresh_host_rate", "-1", -1, NULL, "not a whole number"},
	{"tlsrpt", "1", 0, "1", NULL},
	{"tlsrpt", "2", -1, NULL, "tlsrpt: '2' is not a whole number from 0 to 1"},
	{"tlsrpt_org", "Example Org", 0, "Example Org", NULL},
	{"tlsrpt_sendmail", "/usr/sbin/sendmail -oi -t", 0,
	    "/usr/sbin/sendmail -oi -t", NULL},
	{"tlsrpt_dir", "a\nb", -1, NULL, "tlsrpt_dir: 'a?b' contains a "
	    "control character"},

	/* resolver */
	{"resolver", "127.0.0.1", 0, "127.0.0.1", NULL},
	{"resolver", "127.0.0.1@5353, ::1", 0, "127.0.0.1@5353 ::1", NULL},
	{"resolver", " 192.0.2.1 ,,2001:db8::53@53\t", 0,
	    "192.0.2.1 2001:db8::53@53", NULL},
	{"resolver", "", 0, "", NULL},
	{"resolver", " , ", 0, "", NULL},
	{"resolver", "dns.example", -1, NULL,
	    "resolver: 'dns.example' is not an IP address"},
	{"resolver", "127.0.0.1@", -1, NULL, "has a bad port"},
	{"resolver", "127.0.0.1@0", -1, NULL, "has a bad port"},
	{"resolver", "127.0.0.1@65536", -1, NULL, "has a bad port"},
	{"resolver", "127.0.0.1@53x", -1, NULL, "has a bad port"},
	{"resolver", "[::1]", -1, NULL, "not an IP address"},
	{"resolver", "127.0.0.1 256.0.0.1", -1, NULL, "'256.0.0.1'"},
	{"resolver", "1111:2222:3333:4444:5555:6666:7777:8888:9999@53", -1,
	    NULL, "not an IP address"},

	/* paths */
	{"ca_file", "/etc/ssl/certs/ca-certificates.crt", 0,
	    "/etc/ssl/certs/ca-certificates.crt", NULL},
	{"ca_file", "", 0, "", NULL},
	{"cache_path", "/var/cache/stsdane", 0, "/var/cache/stsdane", NULL},
	{"trust_anchor_file", "/usr/share/dns/root.key", 0,
	    "/usr/share/dns/root.key", NULL},
	{"unbound_config", "a b", 0, "a b", NULL},
	{"resolv_conf", "/etc/resolv.conf", 0, "/etc/resolv.conf", NULL},
	{"cache_path", "/tmp/x\ny", -1, NULL, "control character"},

	/* the shared tier */
	{"shared_cache", "redis://127.0.0.1", 0, "redis://127.0.0.1", NULL},
	{"shared_cache", "redis://u:p@redis.example:6380/3", 0,
	    "redis://u:p@redis.example:6380/3", NULL},
	{"shared_cache", "redis://:p@[::1]:6379", 0, "redis://:p@[::1]:6379",
	    NULL},
	{"shared_cache", "unix:/run/redis/redis.sock?db=2", 0,
	    "unix:/run/redis/redis.sock?db=2", NULL},
	{"shared_cache", "", 0, "", NULL},
	{"shared_cache", "http://x", -1, NULL, "shared_cache: 'http://x' is "
	    "neither redis://"},
	{"shared_cache", "redis://h:0", -1, NULL, "shared_cache: the port"},
	{"shared_cache", "redis://h:65536", -1, NULL, "shared_cache: the port"},
	{"shared_cache", "redis://h/x", -1, NULL, "shared_cache: the database"},
	{"shared_cache", "redis://h/1001", -1, NULL, "shared_cache: the "
	    "database"},
	{"shared_cache", "redis://", -1, NULL, "shared_cache: no valid HOST"},
	{"shared_cache", "redis://h x", -1, NULL, "shared_cache: no valid HOST"},
	{"shared_cache", "redis://[::1", -1, NULL, "shared_cache: no valid HOST"},
	{"shared_cache", "redis://user@h", -1, NULL, "USER:PASSWORD"},
	{"shared_cache", "ftp://u:secret@h", -1, NULL, "shared_cache: '...'"},
	{"shared_cache", "unix:/s?db=x", -1, NULL, "only '?db=N'"},
	{"shared_cache", "unix:/s?x=1", -1, NULL, "only '?db=N'"},
	{"shared_cache_timeout", "50", 0, "50", NULL},
	{"shared_cache_timeout", "0", -1, NULL, "shared_cache_timeout: '0' is "
	    "not a whole number from 1 to 10000"},
	{"shared_cache_timeout", "10001", -1, NULL, "shared_cache_timeout"},
	{"shared_cache_prefix", "mta:stsdane:", 0, "mta:stsdane:", NULL},
	{"shared_cache_prefix", "a b", -1, NULL, "shared_cache_prefix: 'a b'"},
	{"shared_cache_key", "s3cret", 0, "(set)", NULL},
	{"shared_cache_key", "a\nb", -1, NULL, "shared_cache_key: contains a "
	    "control character"},

	/* keys */
	{"dns_timeot", "5", -1, NULL, "unknown key 'dns_timeot'"},
	{"DNS_TIMEOUT", "5", -1, NULL, "unknown key 'DNS_TIMEOUT'"},
	{"", "5", -1, NULL, "unknown key ''"},
};

Test(config, set_table)
{
	size_t i;

	for (i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
		const struct set_case *c = &set_cases[i];
		struct settings s;
		char err[SD_ERRLEN], buf[256];
		const char *got;
		int rc;

		settings_init(&s);
		rc = settings_set(&s, c->key, c->value, err, sizeof(err));
		cr_expect_eq(rc, c->rc, "%s = '%s': rc %d (%s)", c->key,
		    c->value, rc, err);
		if (rc == 0 && c->get != NULL) {
			got = settings_get(&s, c->key, buf, sizeof(buf));
			cr_expect(got != NULL && strcmp(got, c->get) == 0,
			    "%s = '%s': get '%s', want '%s'", c->key,
			    c->value, got ? got : "(null)", c->get);
		}
		if (rc != 0 && c->err != NULL)
			cr_expect(strstr(err, c->err) != NULL,
			    "%s = '%s': err '%s' lacks '%s'", c->key,
			    c->value, err, c->err);
		settings_release(&s);
	}
}

Test(config, defaults)
{
	static const char *const want[][2] = {
		{"resolver", ""}, {"resolv_conf", ""},
		{"trust_anchor_file", ""}, {"unbound_config", ""},
		{"ca_file", ""}, {"cache_path", ""}, {"dns_timeout", "5"},
		{"fetch_timeout", "5"}, {"negative_ttl", "3600"},
		{"smtp_port", "25"}, {"cache_max_entries", "100000"},
		{"refresh_host_concurrency", "16"}, {"refresh_host_rate", "50"},
	};
	struct settings s;
	char buf[64];
	size_t i;

	settings_init(&s);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *got = settings_get(&s, want[i][0], buf,
		    sizeof(buf));

		cr_expect(got != NULL && strcmp(got, want[i][1]) == 0,
		    "%s: '%s'", want[i][0], got ? got : "(null)");
	}
	cr_expect_null(s.ca_file);
	cr_expect_null(s.cache_path);
	cr_expect_null(s.resolver);
	cr_expect_eq(s.dns_timeout_ms, 5000);
	cr_expect_eq(s.fetch_timeout_ms, 5000);
	cr_expect_null(settings_get(&s, "nope", buf, sizeof(buf)));
	/* too small a buffer is NULL, not a truncated value */
	cr_expect_null(settings_get(&s, "cache_max_entries", buf, 4));
	settings_release(&s);
	settings_release(&s);	/* twice is harmless */
}

Test(config, empty_value_unsets)
{
	struct settings s;
	char err[SD_ERRLEN];

	settings_init(&s);
	cr_assert_eq(settings_set(&s, "ca_file", "/x", err, sizeof(err)), 0);
	cr_assert_str_eq(s.ca_file, "/x");
	cr_assert_eq(settings_set(&s, "ca_file", "", err, sizeof(err)), 0);
	cr_expect_null(s.ca_file);
	cr_assert_eq(settings_set(&s, "resolver", "::1", err, sizeof(err)), 0);
	cr_assert_eq(settings_set(&s, "resolver", NULL, err, sizeof(err)), 0);
	cr_expect_null(s.resolver);
	settings_release(&s);
}

/* Config files live in one temporary directory per test. */
static char tmpdir[64];

static void
make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/stsdane-config-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
remove_tmpdir(void)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(tmpdir);

	if (d == NULL)
		return;
	for (e = readdir(d); e != NULL; e = readdir(d)) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(tmpdir);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
}

#define F(lit) lit, sizeof(lit) - 1

struct file_case {
	const char *what;
	const char *data;
	size_t len;
	int rc;
	const char *err;	/* after "PATH:", on failure */
	const char *key;	/* checked on success */
	const char *value;
};

static const struct file_case file_cases[] = {
	{"full", F("# comment\n\nresolver = 127.0.0.1@5353\n"
	    "  dns_timeout=2.5  \n\t# indented comment\nfetch_timeout =\t7\n"
	    "ca_file = /etc/ca.pem\ncache_path=\nnegative_ttl = 60\n"
	    "smtp_port = 2525\ncache_max_entries = 10\n"), 0, NULL,
	    "dns_timeout", "2.5"},
	{"empty file", F(""), 0, NULL, "dns_timeout", "5"},
	{"no final newline", F("smtp_port = 26"), 0, NULL, "smtp_port", "26"},
	{"crlf", F("smtp_port = 27\r\nnegative_ttl = 1\r\n"), 0, NULL,
	    "smtp_port", "27"},
	{"last one wins", F("smtp_port = 1\nsmtp_port = 2\n"), 0, NULL,
	    "smtp_port", "2"},
	{"value with =", F("unbound_config = /a=b\n"), 0, NULL,
	    "unbound_config", "/a=b"},
	{"unknown key", F("# x\ndns_timeot = 5\n"), -1,
	    ":2: unknown key 'dns_timeot'", NULL, NULL},
	{"bad value", F("\n\n\ndns_timeout = abc\n"), -1,
	    ":4: dns_timeout: 'abc' is not a number of seconds", NULL, NULL},
	{"no =", F("dns_timeout 5\n"), -1, ":1: expected 'key = value'", NULL,
	    NULL},
	{"no key", F(" = 5\n"), -1, ":1: no key before '='", NULL, NULL},
	{"NUL byte", F("smtp_port = 25\0\n"), -1, ":1: NUL byte", NULL, NULL},
	{"bad after good", F("smtp_port = 26\nsmtp_port = x\n"), -1,
	    ":2: smtp_port: 'x'", NULL, NULL},
	{"binary", F("\x7f" "ELF\x02\x01\x01\n"), -1, ":1: expected", NULL,
	    NULL},
};

Test(config, file_table, .init = make_tmpdir, .fini = remove_tmpdir)
{
	size_t i;

	for (i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); i++) {
		const struct file_case *c = &file_cases[i];
		char path[128], err[SD_ERRLEN], want[256], buf[256];
		struct settings s;
		int rc, ioerr = -1;

		snprintf(path, sizeof(path), "%s/f%zu.conf", tmpdir, i);
		write_file(path, c->data, c->len);
		settings_init(&s);
		rc = settings_load_file(&s, path, err, sizeof(err), &ioerr);
		cr_expect_eq(rc, c->rc, "%s: rc %d (%s)", c->what, rc, err);
		cr_expect_eq(ioerr, 0, "%s: ioerr", c->what);
		if (rc == 0 && c->key != NULL) {
			const char *got = settings_get(&s, c->key, buf,
			    sizeof(buf));

			cr_expect(got != NULL && strcmp(got, c->value) == 0,
			    "%s: %s is '%s'", c->what, c->key,
			    got ? got : "(null)");
		}
		if (rc != 0) {
			snprintf(want, sizeof(want), "%s%s", path, c->err);
			cr_expect(strncmp(err, want, strlen(want)) == 0,
			    "%s: err '%s', want '%s'", c->what, err, want);
			/* all or nothing: nothing from the file applied */
			cr_expect_eq(s.smtp_port, 25, "%s: applied", c->what);
		}
		settings_release(&s);
	}
}

Test(config, file_full_values, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char path[128], err[SD_ERRLEN];
	struct settings s;
	int ioerr;

	snprintf(path, sizeof(path), "%s/full.conf", tmpdir);
	write_file(path, F("resolver = 127.0.0.1@5353, ::1\n"
	    "resolv_conf = /r\ntrust_anchor_file = /t\nunbound_config = /u\n"
	    "ca_file = /c\ncache_path = /d\ndns_timeout = 0.5\n"
	    "fetch_timeout = 12\nnegative_ttl = 60\nsmtp_port = 2525\n"
	    "cache_max_entries = 10\n"));
	settings_init(&s);
	cr_assert_eq(settings_set(&s, "ca_file", "/old", err, sizeof(err)), 0);
	cr_assert_eq(settings_load_file(&s, path, err, sizeof(err), &ioerr), 0,
	    "%s", err);
	cr_expect_str_eq(s.resolver, "127.0.0.1@5353 ::1");
	cr_expect_str_eq(s.resolv_conf, "/r");
	cr_expect_str_eq(s.trust_anchor_file, "/t");
	cr_expect_str_eq(s.unbound_config, "/u");
	cr_expect_str_eq(s.ca_file, "/c");
	cr_expect_str_eq(s.cache_path, "/d");
	cr_expect_eq(s.dns_timeout_ms, 500);
	cr_expect_eq(s.fetch_timeout_ms, 12000);
	cr_expect_eq(s.negative_ttl, 60);
	cr_expect_eq(s.smtp_port, 2525);
	cr_expect_eq(s.cache_max_entries, 10);
	settings_release(&s);
}

Test(config, file_keeps_old_on_error, .init = make_tmpdir,
    .fini = remove_tmpdir)
{
	char path[128], err[SD_ERRLEN];
	struct settings s;
	int ioerr;

	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	write_file(path, F("ca_file = /new\ncache_path = /new\nbogus = 1\n"));
	settings_init(&s);
	cr_assert_eq(settings_set(&s, "ca_file", "/old", err, sizeof(err)), 0);
	cr_expect_eq(settings_load_file(&s, path, err, sizeof(err), &ioerr),
	    -1);
	cr_expect_str_eq(s.ca_file, "/old");
	cr_expect_null(s.cache_path);
	settings_release(&s);
}

Test(config, file_long_line, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char path[128], err[SD_ERRLEN], want[160];
	struct settings s;
	size_t len = 10000;
	char *data = malloc(len);
	int ioerr;

	cr_assert_not_null(data);
	memset(data, '#', len);
	data[len - 1] = '\n';
	snprintf(path, sizeof(path), "%s/long.conf", tmpdir);
	write_file(path, data, len);
	settings_init(&s);
	cr_expect_eq(settings_load_file(&s, path, err, sizeof(err), &ioerr),
	    -1);
	snprintf(want, sizeof(want), "%s:1: line longer than 4096 bytes", path);
	cr_expect_str_eq(err, want);

	/* exactly 4096 bytes plus the newline is fine */
	memset(data, ' ', 4096);
	memcpy(data, "cache_path = /x", 15);
	data[4096] = '\n';
	write_file(path, data, 4097);
	cr_expect_eq(settings_load_file(&s, path, err, sizeof(err), &ioerr), 0,
	    "%s", err);
	cr_expect_str_eq(s.cache_path, "/x");
	settings_release(&s);
	free(data);
}

Test(config, file_io_errors, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char path[128], err[SD_ERRLEN];
	struct settings s;
	int ioerr = 0;

	settings_init(&s);
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	cr_expect_eq(settings_load_file(&s, path, err, sizeof(err), &ioerr),
	    -1);
	cr_expect_eq(ioerr, 1);
	cr_expect(strstr(err, ": cannot open: ") != NULL, "%s", err);

	ioerr = 0;
	cr_expect_eq(settings_load_file(&s, tmpdir, err, sizeof(err), &ioerr),
	    -1);
	cr_expect_eq(ioerr, 1, "directory: %s", err);
	cr_expect(strstr(err, "cannot read") != NULL, "%s", err);

	cr_expect_eq(settings_load_file(&s, NULL, err, sizeof(err), NULL), -1);
	settings_release(&s);
}

/* The shipped example must load and must describe the defaults. */
Test(config, example_file)
{
	static const char path[] = "docs/stsdane.conf.example";
	char err[SD_ERRLEN], a[64], b[64];
	struct settings s, def;
	size_t i;
	int ioerr;

	if (access(path, R_OK) != 0)
		cr_skip_test("%s not found (run from the source tree)", path);
	settings_init(&s);
	settings_init(&def);
	cr_assert_eq(settings_load_file(&s, path, err, sizeof(err), &ioerr), 0,
	    "%s", err);
	for (i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
		const char *k = set_cases[i].key;
		const char *va = settings_get(&s, k, a, sizeof(a));
		const char *vb = settings_get(&def, k, b, sizeof(b));

		if (va == NULL && vb == NULL)
			continue;	/* the unknown-key rows */
		cr_expect(va != NULL && vb != NULL && strcmp(va, vb) == 0,
		    "%s: example '%s', default '%s'", k, va ? va : "?",
		    vb ? vb : "?");
	}
	settings_release(&s);
	settings_release(&def);
}

/*
 * Regression: an endless or non-regular file.  /dev/zero used to spin
 * forever on one overlong line, and a FIFO blocked in fopen().
 */
Test(config, file_not_regular, .init = make_tmpdir, .fini = remove_tmpdir,
    .timeout = 20)
{
	char path[128], err[SD_ERRLEN];
	struct settings s;
	int ioerr = 0;

	settings_init(&s);
	cr_expect_eq(settings_load_file(&s, "/dev/zero", err, sizeof(err),
	    &ioerr), -1);
	cr_expect_eq(ioerr, 1);
	cr_expect_str_eq(err, "/dev/zero: cannot read: not a regular file");

	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	ioerr = 0;
	cr_expect_eq(settings_load_file(&s, path, err, sizeof(err), &ioerr),
	    -1);
	cr_expect_eq(ioerr, 1);
	cr_expect(strstr(err, "not a regular file") != NULL, "%s", err);
	unlink(path);
	cr_expect_eq(s.smtp_port, 25);
	settings_release(&s);
}

/* Regression: a total cap, whatever the lines look like. */
Test(config, file_too_big, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char path[128], err[SD_ERRLEN], want[192];
	size_t len = 1024 * 1024 + 1, i;
	char *data = malloc(len);
	struct settings s;
	int ioerr = 1;

	cr_assert_not_null(data);
	/* valid short comment lines all the way */
	for (i = 0; i < len; i++)
		data[i] = i % 64 == 63 ? '\n' : '#';
	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	write_file(path, data, len);
	settings_init(&s);
	cr_expect_eq(settings_load_file(&s, path, err, sizeof(err), &ioerr),
	    -1);
	cr_expect_eq(ioerr, 0);
	snprintf(want, sizeof(want), "%s: more than 1048576 bytes", path);
	cr_expect_str_eq(err, want);
	/* exactly the cap is read */
	write_file(path, data, len - 1);
	cr_expect_eq(settings_load_file(&s, path, err, sizeof(err), &ioerr), 0,
	    "%s", err);
	settings_release(&s);
	free(data);
}

Test(config, load_buf)
{
	char err[SD_ERRLEN];
	struct settings s;

	settings_init(&s);
	cr_expect_eq(settings_load_buf(&s, "mem", "smtp_port = 26", 14, err,
	    sizeof(err)), 0, "%s", err);
	cr_expect_eq(s.smtp_port, 26);
	cr_expect_eq(settings_load_buf(&s, "mem", "smtp_port = 27\n\0x", 17,
	    err, sizeof(err)), -1);
	cr_expect_str_eq(err, "mem:2: NUL byte");
	cr_expect_eq(s.smtp_port, 26);
	cr_expect_eq(settings_load_buf(&s, "mem", NULL, 0, err, sizeof(err)),
	    0);
	settings_release(&s);
}
